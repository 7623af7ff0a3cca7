/**
 * Exact NNLS  min_{x≥0} ½xᵀGx − bᵀx  for one column, combining two solvers:
 *  1. the support step (nnls-support.ts) on the support of the warm start x (all coordinates
 *     when x = 0: the unconstrained solution); when its KKT check passes, that is the answer;
 *  2. otherwise cyclic CD (nnls-cd.ts) from the clipped support solution, in residual form, up
 *     to `maxSweeps` sweeps or mean relative change < `tol`, then the support step once more on
 *     the support CD found, which snaps the result to the exact optimum when that support is right.
 * x[xOff..xOff+k) holds the warm start on entry and the solution on exit; b is not modified.
 * Returns the CD sweeps used (0 when the support step settled it). Allocates nothing.
 */
import { nnlsCd } from './nnls-cd.js';
import { nnlsOnSupport } from './nnls-support.js';
import { COUNT_SOLVES, COUNT_SUPPORT_HITS, COUNT_SWEEPS, type NnlsWorkspace } from './nnls-workspace.js';

export function nnlsSolve(
  G: Float64Array, invDiag: Float64Array, k: number, b: Float64Array, bOff: number,
  x: Float64Array, xOff: number, ws: NnlsWorkspace, maxSweeps: number, tol: number,
): number {
  const { passive, r, z, idx, L, counts } = ws;
  counts[COUNT_SOLVES] = counts[COUNT_SOLVES]! + 1;
  let any = 0;
  for (let a = 0; a < k; a++) {
    const on = x[xOff + a]! > 0 && invDiag[a]! > 0 ? 1 : 0;
    passive[a] = on;
    any |= on;
  }
  if (any === 0) for (let a = 0; a < k; a++) passive[a] = invDiag[a]! > 0 ? 1 : 0;
  const first = nnlsOnSupport(G, k, b, bOff, x, xOff, passive, L, z, idx);
  if (first === 1) { counts[COUNT_SUPPORT_HITS] = counts[COUNT_SUPPORT_HITS]! + 1; return 0; }
  if (first === 0) {
    for (let a = 0; a < k; a++) x[xOff + a] = 0;
    let p = 0;
    for (let a = 0; a < k; a++) {
      if (passive[a] !== 1) continue;
      const v = z[p++]!;
      if (v > 0) x[xOff + a] = v;
    }
  }
  for (let a = 0; a < k; a++) {
    let s = b[bOff + a]!;
    for (let c = 0; c < k; c++) s -= G[a * k + c]! * x[xOff + c]!;
    r[a] = s;
  }
  const sweeps = nnlsCd(G, invDiag, k, r, 0, x, xOff, maxSweeps, tol);
  counts[COUNT_SWEEPS] = counts[COUNT_SWEEPS]! + sweeps;
  let any2 = 0;
  for (let a = 0; a < k; a++) {
    const on = x[xOff + a]! > 0 ? 1 : 0;
    passive[a] = on;
    any2 |= on;
  }
  if (any2 === 1) nnlsOnSupport(G, k, b, bOff, x, xOff, passive, L, z, idx);
  return sweeps;
}

/** invDiag[a] = 1 / G[a,a], or 0 where G[a,a] ≤ 0 (a dead coordinate, held at 0). */
export function invertDiagonal(G: Float64Array, k: number, invDiag: Float64Array): void {
  for (let a = 0; a < k; a++) {
    const g = G[a * k + a]!;
    invDiag[a] = g > 0 ? 1 / g : 0;
  }
}
