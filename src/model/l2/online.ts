/**
 * Online least-squares NMF (docs/architecture.md, Online fitting; Mairal et al. 2010): for each chunk of a stream read
 * once, solve H for its samples with the current W (exact NNLS), fold the chunk's statistics into
 * the running ones with a forgetting factor ρ (S ← ρS + HcHcᵀ, B ← ρB + AcHcᵀ, and likewise the
 * H row sums and ‖A‖²), then re-solve W from them exactly as the batch W-update does (warm-started
 * from the current W) and rescale. With ρ = 1 the statistics weigh every sample seen equally; with
 * one chunk holding the whole matrix, one step equals one batch iteration.
 * `relativeLoss` is the loss of the current W, d on the weighted statistics (with each sample's H as
 * solved when it arrived), relative to the weighted ‖A‖².
 *
 * Window and sweeps (both default 1, which is the step above): the last `window` chunks are kept, and
 * each step runs `sweeps` rounds of { H of every chunk of the window solved with the current W, their
 * statistics recomputed on top of the frozen ones (the decayed statistics of the chunks that have left
 * the window), W re-solved }. A chunk leaves the window with the h of its last round, folded into the
 * frozen statistics. The first chunk gets `warmup` extra rounds: least-squares iterations on it alone,
 * so that the statistics do not start from codes solved against the random W. Cost per chunk:
 * sweeps × (window's H solves and folds + one W-update); memory: the window's chunks, H and one more
 * m×k array (the frozen AHᵀ). With window 1 and sweeps 1 the arithmetic is that of the plain step.
 *
 * Solvers (options.nnlsMethod, set by fit-online.ts from `solver`): 'exact' solves every h and every row
 * of W exactly, every h from a cold start. 'fast' (NNLS_CD_WARM, as the batch fit's 'fast') gives each
 * subproblem a few coordinate-descent sweeps from a warm start: the h of a chunk already in the window
 * starts from its last round's h (state.H keeps the window's codes at their offsets, shifted when the
 * oldest chunk leaves), a new chunk's h from 0, and W from the last W; the W re-solves after the first
 * chunk's warm-up get `wSweeps` sweeps (fewer than the H solves: W moves little from chunk to chunk).
 * On one thread its step runs in WebAssembly (model/l2/wasm-pass.ts: the same bytes as the TypeScript path).
 *
 * New features (`growOnlineL2`, for a stream whose m grows): W and B = AHᵀ get zero rows (S = HHᵀ is
 * k×k and does not change). That is exactly the state a fit that had declared the features from the
 * start would be in, had it started with those rows of W at 0: a row of A that has been all zero
 * has a zero row of B, so its NNLS solution — and the row of W — stays 0 (b ≤ 0 from a zero start).
 * The step then solves the new rows from their rows of B like any other: the chunk's H is solved
 * with them at 0 (they add nothing to WᵀA), the chunk folds a_j h_jᵀ into B, and the W-update gives
 * them b_i = B_i / dH − L1_W.
 */
import { makeCscChunk, type CscChunk } from '../../chunk/csc-chunk.js';
import { makeRandom } from '../../kernel/random.js';
import type { ResolvedOptions } from '../../options.js';
import { updateWFromStats } from './end-pass.js';
import { copyL2State, makeL2State, type L2State } from './state.js';
import { stepL2 } from './step.js';
import { foldUnits, makeUnitSums, resetUnits } from './units.js';
import { makeWasmPassL2 } from './wasm-pass.js';
import { rankKernels } from '../../kernel/rank-kernels.js';
import { addDiagonal, gram } from '../../kernel/gram.js';
import { invertDiagonal, NNLS_CD_WARM } from '../../kernel/nnls-solve.js';
import { clearFactorCache } from '../../kernel/nnls-support.js';

/**
 * A multi-threaded executor of the online step (parallel/l2-pool.ts made with a separate Bn): the
 * same phases on shared memory, the same bytes.
 */
export interface OnlineL2Runner {
  readonly state: L2State;
  readonly Bn: Float64Array;
  step(chunk: CscChunk, sourceName: string): void;
  /** The rows of the W-update on the threads, with at most `maxSweeps` CD sweeps (fast) per row. */
  solveW(maxSweeps: number): void;
  grow(m: number): void;
  /** NNLS counters of all threads since the last reset. */
  counts(): Float64Array;
  resetCounts(): void;
  close(): void;
}

/** Statistics of the chunks that have left the window, decayed to the latest of them. */
interface Frozen { S: Float64Array; B: Float64Array; hSum: Float64Array; normA2: number }

export interface OnlineL2 {
  /** Replaced (not mutated) when the features grow or a runner is attached: read it anew after those. */
  state: L2State;
  frozen: Frozen;
  /** The previous frozen statistics' arrays, reused for the next ones. */
  spare?: Frozen;
  /** The window: the chunks whose statistics each step recomputes (the last `window`, rebased to column 0). */
  readonly recent: CscChunk[];
  readonly window: number;
  readonly sweeps: number;
  readonly warmup: number;
  /** solver 'fast' (options.nnlsMethod NNLS_CD_WARM): warm-started CD sweeps (see the header). */
  readonly fast: boolean;
  /** The options of the W re-solves after the first chunk's warm-up (fast: nnlsMaxSweeps = wSweeps). */
  readonly steady: ResolvedOptions;
  /** Worker threads, once attached (`attachOnlineL2Runner`). */
  runner?: OnlineL2Runner;
  /** Normalised statistics (scratch of the W-update). */
  readonly Sn: Float64Array;
  Bn: Float64Array;
  chunks: number;
  samplesSeen: number;
  nnzSeen: number;
}

/** `wSweeps`: CD sweeps of the fast solver's W re-solves after the warm-up (default options.nnlsMaxSweeps). */
export function makeOnlineL2(
  m: number, options: ResolvedOptions, settings: { window?: number; sweeps?: number; warmup?: number; wSweeps?: number } = {},
): OnlineL2 {
  const k = options.rank;
  const fast = options.nnlsMethod === NNLS_CD_WARM;
  const wasmPass = fast && options.wasm ? makeWasmPassL2(m, k, rankKernels(k)) : undefined;
  const state = makeL2State(m, options, makeRandom(options.seed), undefined, wasmPass === undefined ? {} : { warmUp: false, kernels: wasmPass.kernels });
  if (wasmPass !== undefined) state.wasmPass = wasmPass;
  state.warmStart = false;
  const wSweeps = fast ? settings.wSweeps ?? options.nnlsMaxSweeps : options.nnlsMaxSweeps;
  return {
    state, Sn: new Float64Array(k * k), Bn: new Float64Array(m * k), chunks: 0, samplesSeen: 0, nnzSeen: 0,
    frozen: { S: new Float64Array(k * k), B: new Float64Array(m * k), hSum: new Float64Array(k), normA2: 0 },
    recent: [], window: settings.window ?? 1, sweeps: settings.sweeps ?? 1, warmup: settings.warmup ?? 0,
    fast, steady: wSweeps === options.nnlsMaxSweeps ? options : { ...options, nnlsMaxSweeps: wSweeps },
  };
}

/** from's statistics into `to` (its arrays reused when they have the size: no m×k allocation per chunk). */
const copyFrozen = (to: Frozen | undefined, from: { S: Float64Array; B: Float64Array; hSum: Float64Array; normA2: number }): Frozen => {
  if (to === undefined || to.B.length !== from.B.length) return { S: from.S.slice(), B: from.B.slice(), hSum: from.hSum.slice(), normA2: from.normA2 };
  to.S.set(from.S); to.B.set(from.B); to.hSum.set(from.hSum); to.normA2 = from.normA2;
  return to;
};

/** Grows the model to `m` features (≥ the current m): new rows of W and B start at 0 (see the header). */
export function growOnlineL2(online: OnlineL2, m: number): void {
  const { state, runner } = online;
  if (m <= state.m) return;
  const size = m * state.k;
  const grown = (a: Float64Array): Float64Array => { const out = new Float64Array(size); out.set(a); return out; };
  online.frozen = { ...online.frozen, B: grown(online.frozen.B) };
  if (runner) {
    runner.grow(m);
    online.state = runner.state;
    online.Bn = runner.Bn;
    return;
  }
  online.state = { ...state, m, W: grown(state.W), Wprev: grown(state.Wprev), B: grown(state.B), units: makeUnitSums(m, state.k) };
  // The WebAssembly pass is sized for m: a new one (an instance with its own memory) for the new m.
  const wasmPass = state.wasmPass === undefined ? undefined : makeWasmPassL2(m, state.k, rankKernels(state.k));
  if (wasmPass !== undefined) online.state = { ...online.state, wasmPass, kernels: wasmPass.kernels };
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

/** One chunk: rounds of { H of the window's chunks, their statistics on the frozen ones with factor rho, W re-solved }. */
export function onlineStepL2(
  online: OnlineL2, chunk: CscChunk, options: ResolvedOptions, rho: number, sourceName: string,
): { relativeLoss: number; tol: number } {
  const { recent, window, fast } = online;
  recent.push(makeCscChunk({ ...chunk, colStart: 0 }));
  if (recent.length > window) {
    const left = recent.shift()!; // its statistics were frozen at the end of the last step
    if (fast) {
      // the codes of the chunks that stay (their warm starts) move to the front of H
      let kept = 0;
      for (let i = 0; i < recent.length - 1; i++) kept += recent[i]!.n;
      const k = online.state.k;
      online.state.H.copyWithin(0, left.n * k, (left.n + kept) * k);
    }
  }
  const rounds = online.sweeps + (online.chunks === 0 ? online.warmup : 0);
  let result = { relativeLoss: 0, tol: 0 };
  let leaving: Frozen | undefined;
  for (let round = 0; round < rounds; round++) {
    const { state } = online;
    const { k, G, S, B, hSum } = state;
    const { frozen } = online;
    S.set(frozen.S); B.set(frozen.B); hSum.set(frozen.hSum);
    state.normA2 = frozen.normA2;
    resetUnits(state.units);
    // fast: the last W-update left WᵀW of this W in G (the same bits as computing it again)
    if (!fast) gram(state.W, state.m, k, G);
    else if (!state.gramFresh) state.kernels.gram(state.W, state.m, G);
    state.gramFresh = false;
    addDiagonal(G, k, options.l2H);
    invertDiagonal(G, k, state.invDiag);
    clearFactorCache(state.ws.cache);
    // Oldest first: the statistics decay by rho per chunk (Horner), each chunk's H at its offset in H.
    let offset = 0;
    for (let i = 0; i < recent.length; i++) {
      if (rho !== 1) {
        state.wasmPass?.flush(state); // the statistics back from WebAssembly memory, to be decayed here
        foldUnits(state, state.m, k);
        for (let q = 0; q < S.length; q++) S[q] = S[q]! * rho;
        for (let q = 0; q < B.length; q++) B[q] = B[q]! * rho;
        for (let a = 0; a < k; a++) hSum[a] = hSum[a]! * rho;
        state.normA2 *= rho;
      }
      const at = makeCscChunk({ ...recent[i]!, m: state.m, colStart: offset });
      // fast: warm from the last round's h; the new chunk's first round starts cold
      state.warmStart = fast && (round > 0 || i < recent.length - 1);
      if (online.runner) online.runner.step(at, sourceName);
      else stepL2(state, at, options, sourceName);
      offset += at.n;
      // A full window's oldest chunk leaves at the next step: what it adds now is frozen then.
      if (i === 0 && recent.length === window && round === rounds - 1) {
        state.wasmPass?.flush(state);
        foldUnits(state, state.m, k);
        leaving = copyFrozen(online.spare, state);
      }
    }
    const warmingUp = online.chunks === 0 && round < online.warmup;
    const runner = online.runner;
    const wOptions = warmingUp ? options : online.steady;
    result = updateWFromStats(state, wOptions, online.Sn, online.Bn, runner && (() => runner.solveW(wOptions.nnlsMaxSweeps)));
    state.iteration += 1;
  }
  if (leaving) { online.spare = online.frozen; online.frozen = leaving; }
  online.chunks += 1;
  online.samplesSeen += chunk.n;
  online.nnzSeen += chunk.colPtr[chunk.n]!;
  return result;
}

/** Resuming: the chunks the checkpoint had consumed are delivered again; the last ones refill the window. */
export function rememberOnlineL2(online: OnlineL2, chunk: CscChunk, pending: number): void {
  online.recent.push(makeCscChunk({ ...chunk, colStart: 0 }));
  if (online.recent.length > pending) online.recent.shift();
}
