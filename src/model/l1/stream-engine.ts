/**
 * Weighted L1-NMF out of core (docs/architecture.md, Weighted L1): the same sCD as model/l1/engine.ts, reading the source
 * once per iteration and a feature-major copy of A (io/feature-major.ts, built during the first
 * pass) for the W half-sweep. Memory: W (m×k), H (n×k) and one row block of the copy.
 * Passes: 1 — copy A by feature, draw the random start (or take W0/H0 and compute the objective at
 * the start); 2 … 1+w — the least-squares warm-up (the l2 engine's own steps); then one pass per sCD
 * iteration: W half-sweep from the copy at the start of the pass, H half-sweep chunk by chunk, the
 * objective and ‖A − WH‖² accumulated column by column. Every sum runs in the order of the in-memory
 * engine, so the model is the same bytes (test/out-of-core.test.ts).
 * Checkpoints: the driver asks for the state only after an sCD iteration (the copy and warm-up passes
 * complete no iteration), so the state is what the in-memory engine exports — W, H (n×k), iteration,
 * previous objective, samples and nonzeros read — and either engine resumes the other's checkpoint.
 * The copy is temporary, so a resumed fit's first pass re-collects it (and n, nnz, ΣA, the longest
 * column) without touching the restored W and H, then continues with the next sCD iteration.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { NmfError, OptionError } from '../../errors.js';
import type { FeatureMajorStore } from './row-store.js';
import { makeRandom } from '../../kernel/random.js';
import { scdLineObjective, scdRebuildLine, scdUpdateLine } from '../../kernel/scd-update.js';
import { ensureScdWorkspace, makeScdWorkspace } from '../../kernel/scd-workspace.js';
import type { ResolvedOptions } from '../../options.js';
import type { Snapshot, TracePoint } from '../../snapshot/snapshot.js';
import type { Engine, EngineContext, EngineState, PassSummary } from '../engine.js';
import { endPassL2 } from '../l2/end-pass.js';
import { l1Snapshot, lossFromTerms, lossTerms } from './snapshot.js';
import { alphaNumerator, finishStart } from './start.js';
import { makeL2State, type L2State } from '../l2/state.js';
import { factorSums } from './iteration.js';
import { beginPassL2, stepL2 } from '../l2/step.js';
import { splitL1Chunk, withMaskedAsNaN, withoutZeros, type L1MaskedChunk } from './masked-split.js';
import { addTestLoss, maskedObjective, maskedSweep, splitNaNRows, type MaskedLines } from './masked-lines.js';
import { maskedLambda } from './masked-problem.js';

export function makeL1StreamEngine(m: number, options: ResolvedOptions, context: EngineContext, store: FeatureMajorStore): Engine {
  const k = options.rank;
  const mask = options.mask; // a masked fit (issue #15): masked-split.ts per chunk, masked-lines.ts per line
  const lambda = mask === undefined ? options.lambda : maskedLambda(mask, options.lambda);
  const base = new Float64Array(k);
  const test = { loss: 0, weight: 0 };
  let observedCount = 0, lastTest: number | undefined, fChunk = new Float64Array(0);
  const explicit = options.initW !== undefined && options.initH !== undefined;
  const random = makeRandom(options.seed);
  let W = new Float64Array(m * k);
  let H: Float64Array = new Float64Array(1024 * k);
  if (explicit) W.set(options.initW!);
  else for (let q = 0; q < W.length; q++) W[q] = random.uniform();
  let phase: 'collect' | 'warmup' | 'scd' = 'collect';
  let n = 0, nnz = 0, sumA = 0, num = 0, f = 0, previous = Infinity, iteration = 0, warmLeft = 0;
  let samplesSeen = 0, nnzSeen = 0;
  let l2: L2State | undefined;
  let l2Options: ResolvedOptions | undefined;
  const loss = { normA2: 0, cross: 0 };
  const startLoss = { normA2: 0, cross: 0 };
  let startObjective = 0;
  const ws = makeScdWorkspace(k, 16);
  let longestColumn = 1;
  /** Resuming: the checkpoint's H (n×k), installed when the re-collect pass has counted n. */
  let savedH: Float64Array | undefined;

  const growH = (samples: number): void => {
    if (H.length >= samples * k) return;
    const next = new Float64Array(Math.max(samples * k, H.length * 2));
    next.set(H);
    H = next;
  };
  const summaryOf = (objective: number, tol: number, seconds: number, relativeLoss: number, absolute = 0): PassSummary => {
    const converged = options.tol > 0 && iteration > 0 && tol < options.tol;
    if (mask === undefined) return { iteration, relativeLoss, objective, tol, seconds, converged };
    const testLoss = test.weight > 0 ? test.loss / test.weight : undefined;
    const rose = mask.earlyStop && lastTest !== undefined && testLoss !== undefined && testLoss > lastTest;
    lastTest = testLoss;
    return {
      iteration, relativeLoss: objective, objective, tol, seconds, converged: converged || rose,
      trainLoss: observedCount > 0 ? absolute / observedCount : 0, ...(testLoss === undefined ? {} : { testLoss }),
    };
  };
  const mismatch = (received: string): OptionError =>
    new OptionError('resume', `a checkpoint of an l1 fit with ${m} features${n > 0 ? `, ${n} samples` : ''} and rank ${k}`, received);
  const snapshot = (summary: PassSummary, final: boolean, trace: readonly TracePoint[]): Snapshot =>
    l1Snapshot(W, H.subarray(0, n * k), m, n, k, nnz, summary, final, trace,
      { samplesSeen, nnzSeen, keepH: options.keepH, featureNames: context.featureNames });

  return {
    readsData: () => true,
    beginPass: () => {
      if (phase === 'warmup') beginPassL2(l2!, l2Options!);
      if (phase !== 'scd') return;
      // W half-sweep from the feature-major copy, with H's column sums fixed during it.
      ensureScdWorkspace(ws, k, Math.max(store.maxRow, longestColumn));
      factorSums(H, n, k, ws.allSums);
      store.forEachBlock(({ rowStart, rowEnd, rowPtr, colIdx, values }) => {
        if (mask !== undefined) {
          base.set(ws.allSums);
          maskedSweep(splitNaNRows(rowPtr, colIdx, values, rowEnd - rowStart), 0, rowEnd - rowStart, rowStart, W, H, k, lambda, ws, base);
          ws.allSums.set(base);
          return;
        }
        for (let i = rowStart; i < rowEnd; i++) {
          scdUpdateLine(colIdx, values, rowPtr[i - rowStart]!, rowPtr[i - rowStart + 1]!, W, i * k, H, k, lambda, ws);
        }
      });
      factorSums(W, m, k, ws.allSums);
      f = 0;
      loss.normA2 = 0;
      loss.cross = 0;
      test.loss = 0; test.weight = 0; observedCount = 0;
    },
    step: (input: CscChunk) => {
      const split = mask === undefined ? undefined : splitL1Chunk(input, mask);
      const chunk = split === undefined ? withoutZeros(input) : split.observed;
      samplesSeen += chunk.n;
      nnzSeen += chunk.colPtr[chunk.n]!;
      const { colPtr, rowIdx, values, colStart } = chunk;
      if (phase === 'collect') {
        store.append(split === undefined ? chunk : withMaskedAsNaN(split));
        n = Math.max(n, colStart + chunk.n);
        nnz += colPtr[chunk.n]!;
        for (let j = 0; j < chunk.n; j++) longestColumn = Math.max(longestColumn, colPtr[j + 1]! - colPtr[j]!);
        for (let p = 0; p < colPtr[chunk.n]!; p++) sumA += values[p]!;
        if (savedH !== undefined) return; // re-collecting: W and H come from the checkpoint
        growH(colStart + chunk.n);
        if (explicit) {
          const Hkn = options.initH!;
          const total = Hkn.length / k;
          for (let j = 0; j < chunk.n; j++) for (let a = 0; a < k; a++) H[(colStart + j) * k + a] = Hkn[a * total + colStart + j]!;
          // the objective at the start, column by column as l1Objective sums it
          ensureScdWorkspace(ws, k, longestColumn);
          if (colStart === 0) factorSums(W, m, k, ws.allSums);
          if (split !== undefined) {
            base.set(ws.allSums);
            startObjective = maskedObjective(linesOf(split), chunk.n, colStart, H, W, k, lambda, ws, base, startObjective);
            ws.allSums.set(base);
            addTestLoss(split.test, W, H, k, lambda, test); // iteration 0's losses
            observedCount += split.observedCount;
          } else for (let j = 0; j < chunk.n; j++) {
            const start = colPtr[j]!, end = colPtr[j + 1]!, off = (colStart + j) * k;
            scdRebuildLine(rowIdx, values, start, end, H, off, W, k, ws);
            startObjective += scdLineObjective(values, start, end, H, off, k, lambda, ws);
          }
          lossTerms(colPtr, rowIdx, values, chunk.n, colStart, W, H, k, startLoss);
        } else {
          for (let q = colStart * k; q < (colStart + chunk.n) * k; q++) H[q] = random.uniform();
          num = alphaNumerator(colPtr, rowIdx, values, chunk.n, colStart, W, H, k, num);
        }
        return;
      }
      if (phase === 'warmup') { stepL2(l2!, chunk, l2Options!, context.sourceName); return; }
      ensureScdWorkspace(ws, k, Math.max(store.maxRow, longestColumn));
      if (split !== undefined) {
        if (fChunk.length < chunk.n) fChunk = new Float64Array(chunk.n);
        base.set(ws.allSums);
        f = maskedSweep(linesOf(split), 0, chunk.n, colStart, H, W, k, lambda, ws, base, fChunk, f);
        ws.allSums.set(base);
        addTestLoss(split.test, W, H, k, lambda, test);
        observedCount += split.observedCount;
      } else for (let j = 0; j < chunk.n; j++) {
        const start = colPtr[j]!, end = colPtr[j + 1]!, off = (colStart + j) * k;
        scdUpdateLine(rowIdx, values, start, end, H, off, W, k, lambda, ws);
        f += scdLineObjective(values, start, end, H, off, k, lambda, ws);
      }
      lossTerms(colPtr, rowIdx, values, chunk.n, colStart, W, H, k, loss);
    },
    endPass: (seconds: number) => {
      const early: Snapshot[] = [];
      if (phase === 'collect') {
        store.finish();
        if (savedH !== undefined) {
          if (savedH.length !== n * k) throw mismatch(`${savedH.length / k} samples`);
          H = savedH;
          savedH = undefined;
          phase = 'scd';
        } else if (explicit) {
          if (options.initH!.length !== n * k) throw new OptionError('init.H', `${k}×${n} numbers`, `${options.initH!.length} numbers`);
          previous = startObjective / (sumA || 1);
          early.push(snapshot(summaryOf(previous, 0, seconds, lossFromTerms(startLoss, W, H.subarray(0, n * k), m, n, k), startObjective), false, []));
          phase = 'scd';
        } else {
          finishStart(W, H.subarray(0, n * k), m, n, k, num);
          if (options.initW) W = Float64Array.from(options.initW);
          if (options.warmupIterations > 0 || options.initW) {
            warmLeft = Math.max(1, options.warmupIterations);
            l2Options = { ...options, loss: 'l2', l1W: 0, l1H: 0, l2W: 0, l2H: 0, initW: W, initH: undefined };
            l2 = makeL2State(m, l2Options, makeRandom(options.seed));
            phase = 'warmup';
          } else {
            phase = 'scd';
          }
        }
        return { early };
      }
      if (phase === 'warmup') {
        endPassL2(l2!, l2Options!);
        if (--warmLeft > 0) return { early };
        for (let a = 0; a < k; a++) {
          const root = Math.sqrt(l2!.d[a]!);
          const hScale = l2!.hSum[a]! > 0 ? root / l2!.hSum[a]! : 0;
          for (let i = 0; i < m; i++) W[i * k + a] = l2!.W[i * k + a]! * root;
          for (let j = 0; j < n; j++) H[j * k + a] = l2!.H[j * k + a]! * hScale;
        }
        l2 = undefined;
        phase = 'scd';
        return { early };
      }
      iteration += 1;
      const objective = f / (sumA || 1);
      const tol = previous === Infinity ? Infinity : previous - objective;
      previous = objective;
      return { early, summary: summaryOf(objective, tol, seconds, lossFromTerms(loss, W, H.subarray(0, n * k), m, n, k), f) };
    },
    snapshot,
    exportState: (): EngineState => {
      if (phase !== 'scd') throw new NmfError('UNSUPPORTED', `out-of-core l1 checkpoints follow an sCD iteration, not the ${phase} pass`);
      return { loss: 'l1', numbers: { iteration, previous, samplesSeen, nnzSeen }, arrays: { W: W.slice(), H: H.slice(0, n * k) } };
    },
    importState: (saved: EngineState) => {
      const { W: w, H: h } = saved.arrays;
      if (saved.loss !== 'l1') throw new OptionError('resume', 'a checkpoint of an l1 fit', 'an l2 checkpoint');
      if (!w || !h || w.length !== m * k || h.length % k !== 0) throw mismatch('another checkpoint');
      W.set(w);
      savedH = Float64Array.from(h);
      previous = saved.numbers.previous ?? Infinity;
      iteration = saved.numbers.iteration ?? 0;
      samplesSeen = saved.numbers.samplesSeen ?? 0;
      nnzSeen = saved.numbers.nnzSeen ?? 0;
    },
    close: () => store.close(),
  };
}

/** A split chunk's columns as masked lines (indices relative to the chunk). */
function linesOf(split: L1MaskedChunk): MaskedLines {
  const c = split.observed;
  return { ptr: c.colPtr, idx: c.rowIdx, values: c.values, maskPtr: split.maskPtr, maskIdx: split.maskRows };
}
