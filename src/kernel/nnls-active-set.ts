/**
 * Exact NNLS  min_{x≥0} ½xᵀGx − bᵀx  by the Lawson–Hanson active-set method, started from any
 * feasible x (a warm start): the passive set P is x's support. Inner loop: solve on P; if the
 * solution leaves the orthant, step back to the boundary and drop the coordinates that hit 0.
 * Outer loop: add the coordinate with the most negative gradient; stop when none is negative
 * (KKT). Finite; each outer step lowers the objective. Returns the number of support solves, or −1
 * when a G_PP is not numerically positive definite (x then holds a feasible, improved point).
 * x[xOff..xOff+k) in/out. Cost O(p³/6 + k²) per solve. Allocates nothing.
 * Reference: Lawson & Hanson (1974), "Solving Least Squares Problems", algorithm NNLS (ch. 23).
 */
import { solveOnSupport, worstGradient } from './nnls-support.js';
import type { NnlsWorkspace } from './nnls-workspace.js';

export function nnlsActiveSet(
  G: Float64Array, invDiag: Float64Array, k: number, b: Float64Array, bOff: number,
  x: Float64Array, xOff: number, ws: NnlsWorkspace,
): number {
  const { passive, L, z, idx } = ws;
  for (let a = 0; a < k; a++) passive[a] = x[xOff + a]! > 0 && invDiag[a]! > 0 ? 1 : 0;
  let solves = 0;
  const limit = 3 * k + 3;
  for (let outer = 0; outer < limit; outer++) {
    for (let inner = 0; inner <= k; inner++) {
      const p = solveOnSupport(G, k, b, bOff, passive, L, z, idx, ws.cache);
      solves++;
      if (p < 0) return -1;
      let alpha = 1;
      for (let r = 0; r < p; r++) {
        const zr = z[r]!;
        if (zr > 0) continue;
        const xr = x[xOff + idx[r]!]!;
        const step = xr / (xr - zr);
        if (step < alpha) alpha = step;
      }
      for (let r = 0; r < p; r++) {
        const a = idx[r]!;
        const xr = x[xOff + a]!;
        const zr = z[r]!;
        let next = alpha === 1 ? zr : xr + alpha * (zr - xr);
        if (zr <= 0 && xr / (xr - zr) <= alpha) next = 0; // the blocking coordinates land on 0
        if (next > 0) {
          x[xOff + a] = next;
        } else {
          x[xOff + a] = 0;
          passive[a] = 0;
        }
      }
      if (alpha === 1) break;
    }
    const enter = worstGradient(G, k, b, bOff, x, xOff, passive, invDiag);
    if (enter < 0) return solves;
    passive[enter] = 1;
  }
  return solves;
}
