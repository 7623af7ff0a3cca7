/**
 * What leaves the library: an immutable copy of the model at one iteration. A consumer may keep a
 * snapshot forever; the engine never writes into an array it has handed out.
 */
import type { DataFingerprint } from '../chunk/data-fingerprint.js';
import type { Loss } from '../options.js';
import type { RecordedOptions } from '../options/recorded.js';

export interface Diagnostics {
  /** Entries of W (m·k) that are exactly 0. */
  readonly zerosW: number;
  /** Entries of H (k·n) that are exactly 0, when H is held. */
  readonly zerosH?: number;
  /** Components whose column of W or row of H is entirely 0. */
  readonly deadComponents: number;
  /** l2: mean NNLS coordinate-descent sweeps per solve in this iteration. */
  readonly nnlsSweepsPerSolve?: number;
  /** l2: fraction of NNLS solves settled by the support step alone (no CD sweep). */
  readonly nnlsSupportHits?: number;
  /** Non-fatal conditions, in words. */
  readonly messages: readonly string[];
}

export interface TracePoint {
  readonly iteration: number;
  readonly relativeLoss: number;
  readonly objective: number;
  readonly tol: number;
  readonly seconds: number;
  /**
   * Masked fits (testFraction, mask, missing): the mean loss per fitted entry — l2: squared error (model/l2/masked-end.ts);
   * l1: |a − â| for a nonzero, λ·â for a zero (model/l1/masked-lines.ts). Online: see fitOnline.
   */
  readonly trainLoss?: number;
  /** With testFraction: the same loss, weighted mean over the held-out entries. */
  readonly testLoss?: number;
}

export interface Snapshot {
  readonly loss: Loss;
  /** Completed iterations (0 = the start, emitted only for l1 with an explicit start). */
  readonly iteration: number;
  /** True for the last snapshot of a fit (factors sorted by d, decreasing). */
  readonly final: boolean;
  /** True when the fit stopped because tol was reached (only meaningful on the final snapshot). */
  readonly converged: boolean;
  readonly rank: number;
  readonly features: number;
  readonly samples: number;
  /** Nonzeros of A (one pass). */
  readonly nnz: number;
  /** W: features × rank, row-major, unit column sums (l2); for l1 see `d`. */
  readonly W: Float64Array;
  /** Diagonal scale, length rank: A ≈ W diag(d) H. */
  readonly d: Float64Array;
  /** H: rank × samples, row-major, unit row sums; present on the final snapshot with `keepH`. */
  readonly H?: Float64Array;
  /** l2: ‖A − W diag(d) H‖²_F / ‖A‖²_F (data term only). l1: the same quantity, for comparison. */
  readonly relativeLoss: number;
  /** The quantity the fit minimises, relative: l2 = relativeLoss; l1 = f / ΣA (weighted L1). */
  readonly objective: number;
  /** The convergence measure of this iteration (l2: 1 − Pearson(W_t, W_{t−1}); l1: F_{t−1} − F_t). */
  readonly tol: number;
  /** Masked fits: mean loss per fitted entry (l2 squared, l1 weighted L1); with testFraction, over the held-out ones (TracePoint). */
  readonly trainLoss?: number;
  readonly testLoss?: number;
  /** Seconds since the fit was subscribed. */
  readonly elapsedSeconds: number;
  /** init 'nndsvd' / 'nndsvda' (fit): seconds the SVD start took before the first pass (included in elapsedSeconds). */
  readonly initSeconds?: number;
  /** Samples and nonzeros read over all passes so far. */
  readonly samplesSeen: number;
  readonly nnzSeen: number;
  /** Names of the features (rows of W), when the source has them. */
  readonly featureNames?: readonly string[];
  /** Names of the samples (columns of H), when the source has them (loadMtx / fromCsc `sampleNames`, a 10x folder's barcodes). */
  readonly sampleNames?: readonly string[];
  /** The final snapshot: every option of the fit, resolved (defaults filled in) as JSON values; kept in model files. */
  readonly options?: RecordedOptions;
  readonly diagnostics: Diagnostics;
  /** Per-iteration history, on the final snapshot. */
  readonly trace?: readonly TracePoint[];
  /** fit: the fingerprint of the data (chunk/data-fingerprint.ts), once a whole pass has read them; kept in model files. */
  readonly data?: DataFingerprint;
}

/** The result of a fit: its final snapshot. */
export type Model = Snapshot & { readonly final: true; readonly trace: readonly TracePoint[] };
