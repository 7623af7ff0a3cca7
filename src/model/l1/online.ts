/**
 * Online weighted L1-NMF (docs/architecture.md, Online fitting): for each chunk of a stream read once, codes for its
 * samples by sCD with W fixed (from the least-squares NNLS start, as the projection does), then W
 * refined by `sweeps` sCD iterations over a bounded window of the most recent chunks (the window's
 * codes are refined with it). Memory: W plus the window's nonzeros, codes and transposed index.
 * The first chunk starts the model the way the batch fit does: random start, α, balance, and the
 * least-squares warm-up, on that chunk. `objective` is f / ΣA over the window.
 * A chunk with more features than the model (a stream whose m grows) adds zero rows to W; the window's
 * older chunks keep their indices and are read with the new m (their new rows are empty). sCD updates
 * a new row from its nonzeros like any other (each entry update is an exact 1-D minimisation, whatever
 * its current value).
 */
import { makeCscBuilder } from '../../chunk/csc-builder.js';
import { makeCscChunk, type CscChunk } from '../../chunk/csc-chunk.js';
import { makeRandom } from '../../kernel/random.js';
import { makeScdWorkspace } from '../../kernel/scd-workspace.js';
import type { ResolvedOptions } from '../../options.js';
import type { Snapshot, TracePoint } from '../../snapshot/snapshot.js';
import type { CscMatrix } from '../../chunk/csc-matrix.js';
import { l1Snapshot, squaredLoss } from './snapshot.js';
import { makeL1Problem, type L1Problem } from './problem.js';
import { l1Start } from './start.js';
import { leastSquaresWarmup } from './least-squares-start.js';
import { projectL1Columns } from './project.js';
import { scdIteration } from './iteration.js';
import type { EngineState } from '../engine.js';
import type { L1Runner } from './engine.js';
import { OptionError } from '../../errors.js';
import { maskedCodes, maskedWindowLosses } from './online-mask.js';
import { makeMaskedL1Problem, maskedLambda, scdIterationMasked, type MaskedL1Problem } from './masked-problem.js';
import { splitL1Chunk, type L1MaskedChunk } from './masked-split.js';

export interface OnlineL1 {
  /** With a mask (issue #15): trainLoss and testLoss over the window's observed and held-out entries (online-mask.ts). */
  step(chunk: CscChunk): { relativeLoss: number; objective: number; trainLoss?: number; testLoss?: number };
  snapshot(summary: TracePoint & { converged: boolean }, final: boolean, trace: readonly TracePoint[], featureNames: readonly string[] | undefined): Snapshot;
  readonly chunks: number;
  /** m so far (a chunk with more features grows W). */
  readonly features: number;
  /** The state for a checkpoint: W, the window's codes and the counters (the window's data is not stored). */
  exportState(): EngineState;
  /**
   * Continue from an exported state. The input then delivers the chunks the checkpoint had consumed
   * again: pass each to `remember` (it keeps the last `window` of them, the data of the saved window).
   */
  importState(saved: EngineState): void;
  remember(chunk: CscChunk): void;
  /** From now on, the sweeps run on `runner` (its workers ready): the same bytes. */
  attach(runner: L1Runner): void;
}

export function makeOnlineL1(features: number, options: ResolvedOptions, window: number, sweeps: number): OnlineL1 {
  const k = options.rank;
  let m = features;
  let W: Float64Array | undefined;
  const recent: { chunk: CscChunk; H: Float64Array; split?: L1MaskedChunk }[] = [];
  const mask = options.mask, lambda = mask === undefined ? options.lambda : maskedLambda(mask, options.lambda);
  let masked: MaskedL1Problem | undefined;
  const base = new Float64Array(k);
  let problem: L1Problem | undefined;
  let Hwin = new Float64Array(0);
  let chunks = 0, samplesSeen = 0, nnzSeen = 0;
  const ws = makeScdWorkspace(k, 16);
  // Resuming: the saved window's codes, matched to the remembered chunks at the next step.
  let pendingCodes: Float64Array[] | undefined;
  let runner: L1Runner | undefined;
  const matrixOf = (chunk: CscChunk): CscMatrix => ({ m, n: chunk.n, colPtr: chunk.colPtr, rowIdx: chunk.rowIdx, values: chunk.values });

  return {
    get chunks() { return chunks; },
    get features() { return m; },
    exportState() {
      const sizes = Float64Array.from(recent, (r) => r.chunk.n);
      const codes = new Float64Array(recent.reduce((t, r) => t + r.H.length, 0));
      let offset = 0;
      for (const r of recent) { codes.set(r.H, offset); offset += r.H.length; }
      return {
        loss: 'l1',
        numbers: { chunks, samplesSeen, nnzSeen, features: m },
        arrays: { W: W ? W.slice() : new Float64Array(0), windowSizes: sizes, windowCodes: codes },
      };
    },
    importState(saved) {
      const { W: savedW, windowSizes, windowCodes } = saved.arrays;
      const features = saved.numbers.features ?? 0;
      if (saved.loss !== 'l1' || !savedW || !windowSizes || !windowCodes || savedW.length !== features * k || features < m
        || windowSizes.reduce((t, n) => t + n * k, 0) !== windowCodes.length || windowSizes.length > window) {
        throw new OptionError('resumeFrom', `a checkpoint of an online l1 fit with rank ${k} and a window of at most ${window} chunks`, 'another checkpoint');
      }
      m = features;
      W = savedW.length > 0 ? savedW.slice() : undefined;
      chunks = saved.numbers.chunks ?? 0;
      samplesSeen = saved.numbers.samplesSeen ?? 0;
      nnzSeen = saved.numbers.nnzSeen ?? 0;
      pendingCodes = [];
      let offset = 0;
      for (const n of windowSizes) { pendingCodes.push(windowCodes.slice(offset, offset + n * k)); offset += n * k; }
    },
    attach(next) {
      runner = next;
    },
    remember(input) {
      recent.push({ chunk: makeCscChunk({ ...input, colStart: 0 }), H: new Float64Array(0) });
      if (recent.length > window) recent.shift();
    },
    step(input) {
      if (pendingCodes !== undefined) {
        // The remembered chunks are the saved window's: give them back their codes.
        const codes = pendingCodes;
        pendingCodes = undefined;
        recent.splice(0, recent.length - codes.length);
        if (recent.length !== codes.length || recent.some((r, i) => r.chunk.n * k !== codes[i]!.length)) {
          throw new OptionError('resumeFrom', 'an input that delivers the chunks the checkpoint had consumed again, from the start', 'other chunks');
        }
        recent.forEach((r, i) => { r.H = codes[i]!; });
      }
      if (input.m > m) {
        if (W !== undefined) { const grown = new Float64Array(input.m * k); grown.set(W); W = grown; }
        m = input.m;
      }
      // a masked fit: the chunk split by its global sample indices, its observed values fitted
      const split = mask === undefined ? undefined : splitL1Chunk(input, mask);
      const chunk = makeCscChunk({ ...(split === undefined ? input : split.observed), colStart: 0 });
      let H: Float64Array;
      if (W === undefined) {
        const matrix = matrixOf(chunk);
        const start = l1Start(matrix, k, makeRandom(options.seed));
        ({ W, H } = options.warmupIterations > 0 ? leastSquaresWarmup(matrix, start.W, k, options.warmupIterations, options) : start);
      } else if (split !== undefined) {
        H = maskedCodes(W, m, k, lambda, 100, split);
      } else {
        const codes = projectL1Columns(W, m, k, options.lambda, 100, chunk, new Float64Array(k * chunk.n));
        H = new Float64Array(chunk.n * k);
        for (let a = 0; a < k; a++) for (let j = 0; j < chunk.n; j++) H[j * k + a] = codes[a * chunk.n + j]!;
      }
      recent.push({ chunk, H, ...(split === undefined ? {} : { split }) });
      if (recent.length > window) recent.shift();
      // The window as one matrix (samples renumbered from 0), its codes sample-major.
      const builder = makeCscBuilder(m);
      let n = 0;
      for (const r of recent) { builder.append({ ...r.chunk, colStart: n }, 'window'); n += r.chunk.n; }
      masked = mask === undefined ? undefined : makeMaskedL1Problem(recent.map((r) => r.split!), m, lambda);
      problem = masked?.problem ?? makeL1Problem(builder.finish(), options.lambda);
      Hwin = new Float64Array(n * k);
      let offset = 0;
      for (const r of recent) { Hwin.set(r.H, offset); offset += r.H.length; }
      let f = 0;
      if (runner) {
        const shared = runner.bind(problem, W, Hwin, masked);
        for (let s = 0; s < sweeps; s++) f = runner.iterate();
        W.set(shared.W);
        Hwin.set(shared.H);
      } else {
        const fCols = new Float64Array(n);
        for (let s = 0; s < sweeps; s++) f = masked ? scdIterationMasked(masked, W, Hwin, k, ws, base, fCols) : scdIteration(problem, W, Hwin, k, ws);
      }
      // keep the refined codes of the window's chunks
      offset = 0;
      for (const r of recent) { r.H.set(Hwin.subarray(offset, offset + r.H.length)); offset += r.H.length; }
      chunks += 1;
      samplesSeen += chunk.n;
      nnzSeen += chunk.colPtr[chunk.n]!;
      if (masked) return maskedWindowLosses(masked, f, W, Hwin, k);
      return { objective: f / (problem.sumA || 1), relativeLoss: squaredLoss(problem, W, Hwin, k) };
    },
    snapshot(summary, final, trace, featureNames) {
      const p = problem!;
      return l1Snapshot(W!, Hwin, m, p.n, k, p.nnz, summary, final, trace, { samplesSeen, nnzSeen, keepH: false, featureNames });
    },
  };
}
