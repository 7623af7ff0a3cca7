/**
 * Online least-squares NMF (DESIGN.md §2.3; Mairal et al. 2010): for each chunk of a stream read
 * once, solve H for its samples with the current W (exact NNLS), fold the chunk's statistics into
 * the running ones with a forgetting factor ρ (S ← ρS + HcHcᵀ, B ← ρB + AcHcᵀ, and likewise the
 * H row sums and ‖A‖²), then re-solve W from them exactly as the batch W-update does (warm-started
 * from the current W) and rescale. With ρ = 1 the statistics weigh every sample seen equally; with
 * one chunk holding the whole matrix, one step equals one batch iteration.
 * `relativeLoss` is the loss of the current W, d on the weighted statistics (with each sample's H as
 * solved when it arrived), relative to the weighted ‖A‖².
 *
 * New features (`growOnlineL2`, for a stream whose m grows): W and B = AHᵀ get zero rows (S = HHᵀ is
 * k×k and does not change). That is exactly the state a fit that had declared the features from the
 * start would be in, had it started with those rows of W at 0: a row of A that has been all zero
 * has a zero row of B, so its NNLS solution — and the row of W — stays 0 (b ≤ 0 from a zero start).
 * The step then solves the new rows from their rows of B like any other: the chunk's H is solved
 * with them at 0 (they add nothing to WᵀA), the chunk folds a_j h_jᵀ into B, and the W-update gives
 * them b_i = B_i / dH − L1_W.
 */
import { makeCscChunk, type CscChunk } from '../chunk/csc-chunk.js';
import { OptionError } from '../errors.js';
import type { EngineState } from './engine.js';
import { makeRandom } from '../kernel/random.js';
import type { ResolvedOptions } from '../options.js';
import { updateWFromStats } from './end-pass-l2.js';
import { copyL2State, makeL2State, type L2State } from './l2-state.js';
import { stepL2 } from './step-l2.js';
import { addDiagonal, gram } from '../kernel/gram.js';
import { invertDiagonal } from '../kernel/nnls-solve.js';
import { clearFactorCache } from '../kernel/nnls-support.js';

/**
 * A multi-threaded executor of the online step (parallel/l2-pool.ts made with a separate Bn): the
 * same phases on shared memory, the same bytes.
 */
export interface OnlineL2Runner {
  readonly state: L2State;
  readonly Bn: Float64Array;
  step(chunk: CscChunk, sourceName: string): void;
  solveW(): void;
  grow(m: number): void;
  /** NNLS counters of all threads since the last reset. */
  counts(): Float64Array;
  resetCounts(): void;
  close(): void;
}

export interface OnlineL2 {
  /** Replaced (not mutated) when the features grow or a runner is attached: read it anew after those. */
  state: L2State;
  /** Worker threads, once attached (`attachOnlineL2Runner`). */
  runner?: OnlineL2Runner;
  /** Normalised statistics (scratch of the W-update). */
  readonly Sn: Float64Array;
  Bn: Float64Array;
  chunks: number;
  samplesSeen: number;
  nnzSeen: number;
}

export function makeOnlineL2(m: number, options: ResolvedOptions): OnlineL2 {
  const state = makeL2State(m, options, makeRandom(options.seed));
  state.warmStart = false;
  return { state, Sn: new Float64Array(options.rank * options.rank), Bn: new Float64Array(m * options.rank), chunks: 0, samplesSeen: 0, nnzSeen: 0 };
}

/** Grows the model to `m` features (≥ the current m): new rows of W and B start at 0 (see the header). */
export function growOnlineL2(online: OnlineL2, m: number): void {
  const { state, runner } = online;
  if (m <= state.m) return;
  if (runner) {
    runner.grow(m);
    online.state = runner.state;
    online.Bn = runner.Bn;
    return;
  }
  const size = m * state.k;
  const grown = (a: Float64Array): Float64Array => { const out = new Float64Array(size); out.set(a); return out; };
  online.state = { ...state, m, W: grown(state.W), Wprev: grown(state.Wprev), B: grown(state.B) };
  online.Bn = new Float64Array(size);
}

/** From now on, steps run on `runner` (its workers ready): the state moves onto its shared memory. */
export function attachOnlineL2Runner(online: OnlineL2, runner: OnlineL2Runner): void {
  runner.grow(online.state.m);
  copyL2State(runner.state, online.state);
  online.state = runner.state;
  online.Bn = runner.Bn;
  online.runner = runner;
}

/** One chunk: H for its samples, fold with forgetting factor rho, re-solve W. */
export function onlineStepL2(
  online: OnlineL2, chunk: CscChunk, options: ResolvedOptions, rho: number, sourceName: string,
): { relativeLoss: number; tol: number } {
  const { state } = online;
  const { k, G, S, B, hSum } = state;
  if (rho !== 1) {
    for (let q = 0; q < S.length; q++) S[q] = S[q]! * rho;
    for (let q = 0; q < B.length; q++) B[q] = B[q]! * rho;
    for (let a = 0; a < k; a++) hSum[a] = hSum[a]! * rho;
    state.normA2 *= rho;
  }
  gram(state.W, state.m, k, G);
  addDiagonal(G, k, options.l2H);
  invertDiagonal(G, k, state.invDiag);
  clearFactorCache(state.ws.cache);
  // H of this chunk only: rebase the chunk so that H storage stays one chunk long.
  const rebased = makeCscChunk({ ...chunk, colStart: 0 });
  if (online.runner) online.runner.step(rebased, sourceName);
  else stepL2(state, rebased, options, sourceName);
  const result = updateWFromStats(state, options, online.Sn, online.Bn, online.runner?.solveW);
  state.iteration += 1;
  online.chunks += 1;
  online.samplesSeen += chunk.n;
  online.nnzSeen += chunk.colPtr[chunk.n]!;
  return result;
}

/** The online state as plain numbers and arrays (checkpoints, io/checkpoint.ts). */
export function exportOnlineL2(online: OnlineL2): EngineState {
  const { state } = online;
  return {
    loss: 'l2',
    numbers: {
      chunks: online.chunks, samplesSeen: online.samplesSeen, nnzSeen: online.nnzSeen, iteration: state.iteration, normA2: state.normA2,
      features: state.m,
    },
    arrays: { W: state.W.slice(), d: state.d.slice(), S: state.S.slice(), B: state.B.slice(), hSum: state.hSum.slice() },
  };
}

/**
 * Continue from an exported state (same rank, else an OptionError). A state with more features than
 * the model (its stream had grown) grows the model first; one with fewer is an OptionError.
 */
export function importOnlineL2(online: OnlineL2, saved: EngineState): void {
  const features = saved.numbers.features;
  if (features !== undefined && Number.isInteger(features) && features > online.state.m) growOnlineL2(online, features);
  const { state } = online;
  const { W, d, S, B, hSum } = saved.arrays;
  if (saved.loss !== 'l2' || !W || W.length !== state.W.length || !d || !S || !B || B.length !== state.B.length || !hSum) {
    throw new OptionError('resumeFrom', `a checkpoint of an online l2 fit with ${state.m} features and rank ${state.k}`, 'another checkpoint');
  }
  state.W.set(W); state.d.set(d); state.S.set(S); state.B.set(B); state.hSum.set(hSum);
  state.normA2 = saved.numbers.normA2 ?? 0;
  state.iteration = saved.numbers.iteration ?? 0;
  online.chunks = saved.numbers.chunks ?? 0;
  online.samplesSeen = saved.numbers.samplesSeen ?? 0;
  online.nnzSeen = saved.numbers.nnzSeen ?? 0;
}
