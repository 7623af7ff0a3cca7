/**
 * Presentation of an sCD model A ≈ W·H as W' diag(d) H' with unit column sums of W' and unit row
 * sums of H' (d_l = ‖W_l‖₁·‖H_l‖₁; the product is unchanged), H' as rank × samples row-major; and
 * its squared loss ‖A − WH‖²/‖A‖² by the Gram identity (O(k·nnz + (m+n)k²), no dense WH).
 */
import { gram } from '../kernel/gram.js';
import type { L1Problem } from './l1-problem.js';

export function presentL1(W: Float64Array, H: Float64Array, m: number, n: number, k: number): { W: Float64Array; d: Float64Array; H: Float64Array } {
  const sw = new Float64Array(k), sh = new Float64Array(k);
  for (let i = 0; i < m; i++) for (let a = 0; a < k; a++) sw[a] = sw[a]! + W[i * k + a]!;
  for (let j = 0; j < n; j++) for (let a = 0; a < k; a++) sh[a] = sh[a]! + H[j * k + a]!;
  const Wout = new Float64Array(m * k), Hout = new Float64Array(k * n), d = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    d[a] = sw[a]! * sh[a]!;
    const iw = sw[a]! > 0 ? 1 / sw[a]! : 0, ih = sh[a]! > 0 ? 1 / sh[a]! : 0;
    for (let i = 0; i < m; i++) Wout[i * k + a] = W[i * k + a]! * iw;
    for (let j = 0; j < n; j++) Hout[a * n + j] = H[j * k + a]! * ih;
  }
  return { W: Wout, d, H: Hout };
}

export function squaredLoss(p: L1Problem, W: Float64Array, H: Float64Array, k: number): number {
  let normA2 = 0, cross = 0;
  for (let j = 0; j < p.n; j++) {
    for (let q = p.colPtr[j]!; q < p.colPtr[j + 1]!; q++) {
      const v = p.values[q]!, o = p.rowIdx[q]! * k;
      let dot = 0;
      for (let a = 0; a < k; a++) dot += W[o + a]! * H[j * k + a]!;
      normA2 += v * v;
      cross += v * dot;
    }
  }
  const gw = new Float64Array(k * k), gh = new Float64Array(k * k);
  gram(W, p.m, k, gw);
  gram(H, p.n, k, gh);
  let recon = 0;
  for (let q = 0; q < k * k; q++) recon += gw[q]! * gh[q]!;
  const loss = normA2 - 2 * cross + recon;
  return normA2 > 0 ? Math.max(0, loss) / normA2 : 0;
}
