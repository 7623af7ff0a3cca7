/**
 * Presentation of an sCD model A ≈ W·H as W' diag(d) H' with unit column sums of W' and unit row
 * sums of H' (d_l = ‖W_l‖₁·‖H_l‖₁; the product is unchanged), H' as rank × samples row-major; and
 * its squared loss ‖A − WH‖²/‖A‖² by the Gram identity (O(k·nnz + (m+n)k²), no dense WH).
 */
import { gram } from '../../kernel/gram.js';
import type { Snapshot, TracePoint } from '../../snapshot/snapshot.js';
import { sortFactors } from '../../snapshot/sort-factors.js';
import { l1Diagnostics } from './diagnostics.js';
import type { L1Problem } from './problem.js';

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
  const sums = { normA2: 0, cross: 0 };
  lossTerms(p.colPtr, p.rowIdx, p.values, p.n, 0, W, H, k, sums);
  return lossFromTerms(sums, W, H, p.m, p.n, k);
}

/** ‖A‖² and ⟨A, WH⟩ over a chunk's columns, added to `sums` column by column (so chunked = whole). */
export function lossTerms(
  colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array, n: number, colStart: number,
  W: Float64Array, H: Float64Array, k: number, sums: { normA2: number; cross: number },
): void {
  let { normA2, cross } = sums;
  for (let j = 0; j < n; j++) {
    const hj = (colStart + j) * k;
    for (let q = colPtr[j]!; q < colPtr[j + 1]!; q++) {
      const v = values[q]!, o = rowIdx[q]! * k;
      let dot = 0;
      for (let a = 0; a < k; a++) dot += W[o + a]! * H[hj + a]!;
      normA2 += v * v;
      cross += v * dot;
    }
  }
  sums.normA2 = normA2;
  sums.cross = cross;
}

/** ‖A − WH‖² / ‖A‖² from the sums and the Gram matrices of W and H. */
export function lossFromTerms(sums: { normA2: number; cross: number }, W: Float64Array, H: Float64Array, m: number, n: number, k: number): number {
  const gw = new Float64Array(k * k), gh = new Float64Array(k * k);
  gram(W, m, k, gw);
  gram(H, n, k, gh);
  let recon = 0;
  for (let q = 0; q < k * k; q++) recon += gw[q]! * gh[q]!;
  const loss = sums.normA2 - 2 * sums.cross + recon;
  return sums.normA2 > 0 ? Math.max(0, loss) / sums.normA2 : 0;
}

/** The snapshot of an sCD model (W m×k, H sample-major n×k): presented, sorted when final. */
export function l1Snapshot(
  W: Float64Array, H: Float64Array, m: number, n: number, k: number, nnz: number,
  summary: TracePoint & { readonly converged: boolean }, final: boolean, trace: readonly TracePoint[],
  context: { samplesSeen: number; nnzSeen: number; keepH: boolean; featureNames: readonly string[] | undefined },
): Snapshot {
  const shown = presentL1(W, H, m, n, k);
  const sorted = final ? sortFactors(shown.W, m, k, shown.d, context.keepH ? shown.H : undefined, n)
    : { W: shown.W, d: shown.d, H: undefined };
  const diag = l1Diagnostics(W, H, m, n, k);
  return {
    loss: 'l1', iteration: summary.iteration, final, converged: summary.converged,
    rank: k, features: m, samples: n, nnz, W: sorted.W, d: sorted.d,
    ...(sorted.H ? { H: sorted.H } : {}),
    relativeLoss: summary.relativeLoss, objective: summary.objective, tol: summary.tol,
    ...(summary.trainLoss === undefined ? {} : { trainLoss: summary.trainLoss }), ...(summary.testLoss === undefined ? {} : { testLoss: summary.testLoss }),
    elapsedSeconds: summary.seconds, samplesSeen: context.samplesSeen, nnzSeen: context.nnzSeen,
    ...(context.featureNames ? { featureNames: context.featureNames } : {}),
    diagnostics: {
      zerosW: diag.zerosW, zerosH: diag.zerosH, deadComponents: diag.deadComponents,
      messages: diag.deadComponents > 0 ? [`${diag.deadComponents} component(s) are entirely zero`] : [],
    },
    ...(final ? { trace: trace.slice() } : {}),
  };
}
