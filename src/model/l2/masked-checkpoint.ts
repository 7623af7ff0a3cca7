/**
 * Checkpoints of a masked least-squares fit (issue #15; model/l2/masked-engine.ts): the state after an iteration —
 * W, d, H (the warm start of the next H-update), the warm scale, the counters and the last test loss (earlyStop) —
 * and, within a pass (`checkpoint.chunks`), the pass's partial statistics as well: HHᵀ, AHᵀ, hSum and ‖A_obs‖² with
 * their open unit (units.ts), the per-row Grams R and their open unit sums (masked-pass.ts), the observed count and
 * the held-out entries listed so far. Resuming restores them and the driver skips the chunks already done, so the
 * resumed fit gives the bytes of an uninterrupted one. The mask itself is part of the fit's fingerprint
 * (options/resolve-mask.ts maskFingerprint): a checkpoint is resumed only with the same mask settings.
 */
import { OptionError } from '../../errors.js';
import type { EngineState } from '../engine.js';
import type { MaskedL2 } from './masked-pass.js';
import { ensureHCapacity } from './state.js';
import { exportUnits, importUnits } from './units.js';

/** What the engine counts besides the state: samples and nonzeros read over the fit, the last pass's test loss. */
export interface MaskedCounters {
  samplesSeen: number;
  nnzSeen: number;
  lastTest: number | undefined;
}

/** The state after `passChunks` chunks of the current pass (0: at an iteration boundary). */
export function exportMaskedState(ms: MaskedL2, counters: MaskedCounters, passChunks: number): EngineState {
  const st = ms.base, k = st.k, t = ms.test;
  const within = passChunks > 0;
  const units = within ? exportUnits(st.units) : { numbers: {}, arrays: {} };
  return {
    loss: 'l2',
    numbers: {
      iteration: st.iteration, samples: st.samples, samplesSeen: counters.samplesSeen, nnzSeen: counters.nnzSeen, passNnz: st.passNnz, passChunks,
      ...(counters.lastTest === undefined ? {} : { lastTest: counters.lastTest }),
      ...(within ? { normA2: st.normA2, passSamples: st.passSamples, observed: ms.observed, heldOut: t.n, ...units.numbers } : {}),
    },
    arrays: {
      W: st.W.slice(), d: st.d.slice(), warmScale: st.warmScale.slice(),
      H: st.H.slice(0, Math.max(st.samples, within ? st.passSamples : 0) * k),
      ...(within ? {
        S: st.S.slice(), B: st.B.slice(), hSum: st.hSum.slice(), R: ms.R.slice(), Ru: ms.Ru.slice(), lastR: Float64Array.from(ms.lastR),
        testRows: Float64Array.from(t.rows.subarray(0, t.n)), testCols: Float64Array.from(t.cols.subarray(0, t.n)),
        testValues: t.values.slice(0, t.n), testWeights: t.weights.slice(0, t.n), ...units.arrays,
      } : {}),
    },
  };
}

/**
 * Loads a state into a fresh engine's `ms` (before any pass) and returns the engine's counters and, for a mid-pass
 * checkpoint, the state `restorePass` applies after the resumed pass has begun. A state of another shape is an OptionError.
 */
export function importMaskedState(ms: MaskedL2, saved: EngineState): { counters: MaskedCounters; pending: EngineState | undefined } {
  const st = ms.base, { m, k } = st;
  const { W, d, warmScale, H } = saved.arrays;
  if (saved.loss !== 'l2' || !W || W.length !== m * k || !d || d.length !== k || !warmScale || warmScale.length !== k || !H || H.length % k !== 0) {
    throw new OptionError('resumeFrom', `a checkpoint of a masked l2 fit with ${m} features and rank ${k}`, 'another checkpoint');
  }
  st.W.set(W); st.d.set(d); st.warmScale.set(warmScale);
  st.samples = saved.numbers.samples ?? 0;
  ensureHCapacity(st, H.length / k);
  st.H.set(H);
  st.iteration = saved.numbers.iteration ?? 0;
  st.passNnz = saved.numbers.passNnz ?? 0;
  const counters = { samplesSeen: saved.numbers.samplesSeen ?? 0, nnzSeen: saved.numbers.nnzSeen ?? 0, lastTest: saved.numbers.lastTest };
  if ((saved.numbers.passChunks ?? 0) === 0) return { counters, pending: undefined };
  const { S, B, hSum, R, Ru, lastR, testRows, testCols, testValues, testWeights } = saved.arrays;
  const n = saved.numbers.heldOut ?? 0;
  if (!S || S.length !== k * k || !B || B.length !== m * k || !hSum || hSum.length !== k || !R || R.length !== ms.R.length || !Ru || Ru.length !== ms.Ru.length
    || !lastR || lastR.length !== m || !testRows || testRows.length !== n || !testCols || testCols.length !== n || !testValues || testValues.length !== n
    || !testWeights || testWeights.length !== n) {
    throw new OptionError('resumeFrom', 'a mid-pass checkpoint of a masked fit with its statistics', 'an incomplete checkpoint');
  }
  return { counters, pending: saved };
}

/** After the resumed pass has begun (beginMaskedPass zeroed it): the statistics of the chunks done before the checkpoint. */
export function restorePass(ms: MaskedL2, saved: EngineState): void {
  const st = ms.base, a = saved.arrays, q = saved.numbers;
  st.S.set(a.S!); st.B.set(a.B!); st.hSum.set(a.hSum!);
  st.normA2 = q.normA2 ?? 0; st.passNnz = q.passNnz ?? 0; st.passSamples = q.passSamples ?? 0;
  importUnits(st.units, saved);
  ms.R.set(a.R!); ms.Ru.set(a.Ru!);
  for (let i = 0; i < ms.lastR.length; i++) ms.lastR[i] = a.lastR![i]!;
  ms.observed = q.observed ?? 0;
  const t = ms.test, n = a.testRows!.length;
  if (t.rows.length < n) {
    t.rows = new Int32Array(n); t.cols = new Int32Array(n); t.values = new Float64Array(n); t.weights = new Float64Array(n);
  }
  for (let e = 0; e < n; e++) { t.rows[e] = a.testRows![e]!; t.cols[e] = a.testCols![e]!; }
  t.values.set(a.testValues!); t.weights.set(a.testWeights!);
  t.n = n;
}
