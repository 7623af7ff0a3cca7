/**
 * Online least squares with a mask or a held-out test set (issue #15): the OnlineEngine of fitOnline for loss 'l2'
 * with `mask`, `missing: 'nan'` or `testFraction`. It is online.ts's scheme — a window of recent chunks, `sweeps`
 * rounds per chunk of {codes of the window's chunks, their statistics on top of the frozen ones with forgetting
 * factor ρ, W re-solved}, the first chunk with `warmupIterations` more — made of the masked batch pass's own
 * functions (masked-pass.ts, masked-end.ts, used as they are):
 *   - each chunk is split once when it arrives by its global sample indices (model/l1/masked-split.ts, the batch
 *     rule), and kept with its masked entries stored as NaN, so that the window's chunks can be renumbered from 0
 *     and passed with a mask that only reads NaN (`nan`, no test fraction): the same entries are left out of the
 *     codes (G_j) and of the W-update (G_i = HHᵀ − R_i, or R_i with mask 'zeros') as in the batch fit;
 *   - the statistics S, AHᵀ, hSum, ‖A_obs‖², the per-row Grams R_i and the observed count of the chunks that left the
 *     window are frozen (decayed by ρ per chunk, Horner) and loaded before each round;
 *   - trainLoss: masked-end.ts's, over the (weighted) observed entries of all chunks so far; testLoss: over the held-out
 *     entries of the window's chunks, with the new W and their codes of the last round (masked-end.ts testLossOf).
 * With one chunk holding the whole matrix and window 1, a step is the masked batch iterations (test/mask-online.test.ts).
 * One thread, TypeScript (as the masked batch fit); no checkpoints (resolve-mask.ts refuses them); a stream whose
 * features grow is a typed error.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { DataError, NmfError, OptionError } from '../../errors.js';
import { foldUnitRows } from '../../kernel/unit-rows.js';
import { makeRandom } from '../../kernel/random.js';
import type { ResolvedMask, ResolvedOptions } from '../../options.js';
import type { OnlineEngine, OnlineSettings, OnlineStep } from '../engine.js';
import { splitL1Chunk, withMaskedAsNaN, type L1TestList } from '../l1/masked-split.js';
import { endMaskedPass, testLossOf } from './masked-end.js';
import { beginMaskedPass, makeMaskedL2, maskedRowBytes, stepMasked, type MaskedL2 } from './masked-pass.js';
import { l2Snapshot } from './snapshot.js';
import { ensureHCapacity, makeL2State } from './state.js';
import { foldUnits } from './units.js';

interface Frozen { S: Float64Array; B: Float64Array; hSum: Float64Array; R: Float64Array; normA2: number; observed: number }

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

export function makeOnlineMaskedL2Engine(m: number, options: ResolvedOptions, settings: OnlineSettings): OnlineEngine {
  const k = options.rank, mask = options.mask!;
  if (maskedRowBytes(m, k) > options.memoryLimit) {
    throw new NmfError('MEMORY_LIMIT', `${m.toLocaleString('en-US')} features at rank ${k}: a masked fit's per-feature Grams would need ${mb(maskedRowBytes(m, k))}, `
      + `above the memory limit of ${mb(options.memoryLimit)} (option memoryLimit, CLI --memory-limit)`);
  }
  // the window's chunks carry their masked entries as NaN: the passes read only NaN
  const inner: ResolvedMask = { ...mask, nan: true, testFraction: 0, earlyStop: false };
  const ms = makeMaskedL2(makeL2State(m, options, makeRandom(options.seed), undefined, { warmUp: false }), inner);
  const st = ms.base, rho = settings.forgetting;
  const window: { chunk: CscChunk; test: L1TestList; colStart: number }[] = [];
  let frozen: Frozen = { S: new Float64Array(k * k), B: new Float64Array(m * k), hSum: new Float64Array(k), R: new Float64Array(m * k * k), normA2: 0, observed: 0 };
  let chunks = 0, samplesSeen = 0, nnzSeen = 0;

  const fold = (): void => { foldUnits(st, m, k); foldUnitRows(k * k, ms.R, ms.Ru, ms.lastR, 0, m); };
  const totals = (): Frozen => ({ S: st.S.slice(), B: st.B.slice(), hSum: st.hSum.slice(), R: ms.R.slice(), normA2: st.normA2, observed: ms.observed });

  const round = (last: boolean, sourceName: string): { leaving: Frozen | undefined; result: ReturnType<typeof endMaskedPass> } => {
    beginMaskedPass(ms, options);
    st.S.set(frozen.S); st.B.set(frozen.B); st.hSum.set(frozen.hSum); ms.R.set(frozen.R);
    st.normA2 = frozen.normA2; ms.observed = frozen.observed;
    let offset = 0, leaving: Frozen | undefined;
    for (let i = 0; i < window.length; i++) {
      if (rho !== 1) { fold(); decay(st.S, st.B, st.hSum, ms.R, rho); st.normA2 *= rho; ms.observed *= rho; }
      const c = window[i]!.chunk;
      stepMasked(ms, { ...c, colStart: offset }, options, sourceName);
      offset += c.n;
      // a full window's oldest chunk leaves at the next step: the totals with it are frozen then
      if (i === 0 && last && window.length === settings.window) { fold(); leaving = totals(); }
    }
    return { leaving, result: endMaskedPass(ms, options) };
  };

  return {
    get features() { return st.m; },
    get chunks() { return chunks; },
    grow: () => undefined, // a chunk with more features is refused by step, which knows where it came from
    step(input: CscChunk, sourceName: string): OnlineStep {
      if (input.m !== st.m) {
        throw new DataError('SHAPE_MISMATCH', `chunk has ${input.m} features but the masked online fit has ${st.m} (masked online fits do not grow their features)`,
          { source: sourceName, batch: input.position });
      }
      const split = splitL1Chunk(input, mask);
      window.push({ chunk: { ...withMaskedAsNaN(split), colStart: 0 }, test: split.test, colStart: input.colStart });
      let before = 0;
      for (const w of window) before += w.chunk.n;
      if (window.length > settings.window) {
        const left = window.shift()!;
        st.H.copyWithin(0, left.chunk.n * k, before * k); // the codes of the chunks that stay move to the front
        before -= left.chunk.n;
      }
      ensureHCapacity(st, before);
      st.H.fill(0, (before - input.n) * k, before * k); // the new chunk's codes start cold
      const rounds = settings.sweeps + (chunks === 0 ? options.warmupIterations : 0);
      let out: ReturnType<typeof round> | undefined;
      for (let r = 0; r < rounds; r++) out = round(r === rounds - 1, sourceName);
      if (out!.leaving) frozen = out!.leaving;
      chunks += 1; samplesSeen += input.n; nnzSeen += input.colPtr[input.n]!;
      const testLoss = windowTestLoss(ms, window);
      const r = out!.result;
      return { relativeLoss: r.relativeLoss, objective: r.relativeLoss, tol: r.tol, trainLoss: r.trainLoss, ...(testLoss === undefined ? {} : { testLoss }) };
    },
    snapshot: (summary, final, trace, featureNames) => ({
      ...l2Snapshot(st, summary, final, trace, { samples: samplesSeen, nnz: nnzSeen, samplesSeen, nnzSeen, keepH: false, featureNames, diag: options.diag }),
      ...(summary.trainLoss === undefined ? {} : { trainLoss: summary.trainLoss }), ...(summary.testLoss === undefined ? {} : { testLoss: summary.testLoss }),
    }),
    exportState: () => { throw new NmfError('UNSUPPORTED', 'masked online fits keep no checkpoints'); },
    importState: () => { throw new OptionError('resumeFrom', 'nothing with a mask or a test set (masked fits keep no checkpoints)', 'a checkpoint'); },
    remember: () => { throw new NmfError('UNSUPPORTED', 'masked online fits keep no checkpoints'); },
    attach: () => undefined, // one thread (families.ts starts no workers for masked fits)
  };
}

function decay(S: Float64Array, B: Float64Array, hSum: Float64Array, R: Float64Array, rho: number): void {
  for (const a of [S, B, hSum, R]) for (let q = 0; q < a.length; q++) a[q] = a[q]! * rho;
}

/** The held-out entries of the window (columns renumbered as the window's codes are) with the model just solved. */
function windowTestLoss(ms: MaskedL2, window: readonly { chunk: CscChunk; test: L1TestList; colStart: number }[]): number | undefined {
  const t = ms.test;
  t.n = 0;
  let offset = 0;
  for (const w of window) {
    for (let q = 0; q < w.test.n; q++) {
      if (t.n === t.rows.length) {
        const grow = <T extends Int32Array | Float64Array>(a: T): T => { const b = new (a.constructor as new (n: number) => T)(Math.max(64, a.length * 2)); b.set(a); return b; };
        t.rows = grow(t.rows); t.cols = grow(t.cols); t.values = grow(t.values); t.weights = grow(t.weights);
      }
      t.rows[t.n] = w.test.rows[q]!; t.cols[t.n] = offset + w.test.cols[q]! - w.colStart; t.values[t.n] = w.test.values[q]!; t.weights[t.n] = w.test.weights[q]!; t.n++;
    }
    offset += w.chunk.n;
  }
  return testLossOf(ms);
}
