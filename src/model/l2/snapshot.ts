/**
 * A snapshot (copies) of the least-squares state, for the batch and the online engines. The final
 * snapshot has its factors sorted by d and, with keepH, H (rank × samples, unit row sums).
 */
import { COUNT_SOLVES, COUNT_SUPPORT_HITS, COUNT_SWEEPS } from '../../kernel/nnls-workspace.js';
import type { Snapshot, TracePoint } from '../../snapshot/snapshot.js';
import { countZeros, sortFactors } from '../../snapshot/sort-factors.js';
import type { L2State } from './state.js';

export interface L2SnapshotContext {
  readonly samples: number;
  readonly nnz: number;
  readonly samplesSeen: number;
  readonly nnzSeen: number;
  readonly keepH: boolean;
  readonly featureNames: readonly string[] | undefined;
  /** false: the state's W is unscaled (diag: false); present it as W' diag(d) H' all the same. */
  readonly diag?: boolean;
}

export function l2Snapshot(
  state: L2State, summary: TracePoint & { readonly converged: boolean }, final: boolean,
  trace: readonly TracePoint[], context: L2SnapshotContext, threadCounts?: Float64Array,
): Snapshot {
  const { m, k } = state;
  const n = context.samples;
  const H = final && context.keepH ? normalisedH(state, n) : undefined;
  let W = state.W, d = state.d;
  if (context.diag === false) {
    // A ≈ W·H_raw = (W / colsum W) · diag(colsum W · hSum) · (H_raw / hSum): same product, unit sums.
    d = new Float64Array(k);
    W = new Float64Array(m * k);
    for (let i = 0; i < m; i++) for (let a = 0; a < k; a++) d[a] = d[a]! + state.W[i * k + a]!;
    for (let i = 0; i < m; i++) for (let a = 0; a < k; a++) W[i * k + a] = d[a]! > 0 ? state.W[i * k + a]! / d[a]! : 0;
    for (let a = 0; a < k; a++) d[a] = d[a]! * state.hSum[a]!;
  }
  const sorted = final ? sortFactors(W, m, k, d, H, n) : { W: W === state.W ? W.slice() : W, d: d === state.d ? d.slice() : d, H };
  const counts = threadCounts ?? state.ws.counts;
  const zerosH = sorted.H ? countZeros(sorted.H, k * n) : undefined;
  let dead = 0;
  for (let a = 0; a < k; a++) if (!(state.d[a]! > 0) || !(state.hSum[a]! > 0)) dead++;
  const solves = counts[COUNT_SOLVES]!;
  return {
    loss: 'l2', iteration: summary.iteration, final, converged: summary.converged,
    rank: k, features: m, samples: n, nnz: context.nnz,
    W: sorted.W, d: sorted.d, ...(sorted.H ? { H: sorted.H } : {}),
    relativeLoss: summary.relativeLoss, objective: summary.objective, tol: summary.tol,
    elapsedSeconds: summary.seconds, samplesSeen: context.samplesSeen, nnzSeen: context.nnzSeen,
    ...(context.featureNames ? { featureNames: context.featureNames } : {}),
    diagnostics: {
      zerosW: countZeros(sorted.W, m * k),
      ...(zerosH === undefined ? {} : { zerosH }),
      deadComponents: dead,
      nnlsSweepsPerSolve: solves > 0 ? counts[COUNT_SWEEPS]! / solves : 0,
      nnlsSupportHits: solves > 0 ? counts[COUNT_SUPPORT_HITS]! / solves : 0,
      messages: dead > 0 ? [`${dead} component(s) are entirely zero`] : [],
    },
    ...(final ? { trace: trace.slice() } : {}),
  };
}

/** H of the last pass (raw, sample-major) as rank × samples row-major with unit row sums. */
function normalisedH(state: L2State, n: number): Float64Array {
  const { k, H, hSum } = state;
  const out = new Float64Array(k * n);
  for (let a = 0; a < k; a++) {
    const inv = hSum[a]! > 0 ? 1 / hSum[a]! : 0;
    for (let j = 0; j < n; j++) out[a * n + j] = H[j * k + a]! * inv;
  }
  return out;
}
