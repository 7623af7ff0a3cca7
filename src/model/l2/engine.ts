/**
 * The least-squares model family as an Engine: state, per-chunk H-update, end-of-pass W-update,
 * and snapshots (copies) of W, d and, on request, H.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { makeRandom } from '../../kernel/random.js';
import type { ResolvedOptions } from '../../options.js';
import type { Snapshot, TracePoint } from '../../snapshot/snapshot.js';
import { OptionError } from '../../errors.js';
import type { Engine, EngineContext, EngineState, PassSummary } from '../engine.js';
import { endPassL2, type PassResult } from './end-pass.js';
import { adaptExtrapolation, makeExtrapolation } from './extrapolate.js';
import { makeWasmPassL2 } from './wasm-pass.js';
import { NNLS_CD_WARM } from '../../kernel/nnls-solve.js';
import { rankKernels } from '../../kernel/rank-kernels.js';
import { ensureHCapacity, makeL2State, type L2State } from './state.js';
import { l2Snapshot } from './snapshot.js';
import { beginPassL2, stepL2 } from './step.js';
import { exportUnits, importUnits } from './units.js';

/**
 * A multi-threaded executor of the pass (parallel/l2-pool.ts implements it): it owns the state on
 * shared memory and runs the same phases on ranges. Without one, everything runs on this thread.
 */
export interface L2Runner {
  readonly state: L2State;
  step(chunk: CscChunk, sourceName: string): void;
  endPass(): PassResult;
  counts(): Float64Array;
  resetCounts(): void;
  close(): void;
}

export function makeL2Engine(m: number, options: ResolvedOptions, context: EngineContext, runner?: L2Runner): Engine & { readonly state: L2State } {
  const k = options.rank;
  // The 'fast' solver on this thread runs its pass in WebAssembly (no JIT warm-up needed) where it can.
  const wasmPass = runner === undefined && options.wasm && options.nnlsMethod === NNLS_CD_WARM ? makeWasmPassL2(m, k, rankKernels(k)) : undefined;
  const state = runner?.state ?? makeL2State(m, options, makeRandom(options.seed), undefined,
    wasmPass === undefined ? {} : { warmUp: false, kernels: wasmPass.kernels, fillUniform: wasmPass.fillUniform });
  if (wasmPass !== undefined) state.wasmPass = wasmPass;
  if (options.solver === 'fast') state.accel = makeExtrapolation();
  const accel = state.accel;
  let samplesSeen = 0;
  let nnzSeen = 0;
  let pending: { S: Float64Array; B: Float64Array; hSum: Float64Array; normA2: number; passNnz: number; passSamples: number; units: EngineState } | undefined;
  /** After `passChunks` chunks of a pass (0: at an iteration boundary, the pass statistics are not needed). */
  const exportState = (passChunks: number): EngineState => {
    state.wasmPass?.flush(state);
    return exportStateNow(passChunks);
  };
  const exportStateNow = (passChunks: number): EngineState => ({
    loss: 'l2',
    numbers: {
      iteration: state.iteration, samples: state.samples, samplesSeen, nnzSeen, passNnz: state.passNnz,
      passChunks, normA2: state.normA2, passSamples: state.passSamples, ...(passChunks > 0 ? exportUnits(state.units).numbers : {}),
      ...(accel ? { beta: accel.beta, betaMax: accel.betaMax, lastLoss: accel.lastLoss, next: accel.next ? 1 : 0, held: accel.held ? 1 : 0 } : {}),
    },
    arrays: {
      W: state.W.slice(), d: state.d.slice(), hSum: state.hSum.slice(), warmScale: state.warmScale.slice(),
      H: state.H.slice(0, Math.max(state.samples, passChunks > 0 ? state.passSamples : 0) * k),
      ...(passChunks > 0 ? { S: state.S.slice(), B: state.B.slice(), ...exportUnits(state.units).arrays } : {}),
      ...(accel ? { Wprev: state.Wprev.slice() } : {}),
    },
  });
  const engine = {
    state,
    readsData: () => true,
    beginPass: () => {
      beginPassL2(state, options);
      if (pending) {
        // resumed mid-pass: the statistics of the chunks already done in this pass
        state.S.set(pending.S); state.B.set(pending.B); state.hSum.set(pending.hSum);
        state.normA2 = pending.normA2; state.passNnz = pending.passNnz; state.passSamples = pending.passSamples;
        importUnits(state.units, pending.units);
        pending = undefined;
      }
      if (runner) runner.resetCounts(); else state.ws.counts.fill(0);
    },
    step: (chunk: CscChunk) => {
      if (runner) runner.step(chunk, context.sourceName);
      else stepL2(state, chunk, options, context.sourceName);
      samplesSeen += chunk.n;
      nnzSeen += chunk.colPtr[chunk.n]!;
    },
    close: () => runner?.close(),
    endPass: (elapsedSeconds: number) => {
      const result = runner ? runner.endPass() : endPassL2(state, options);
      // 'fast' stops when a pass lowers the loss by less than tol (relative), as RcppML 1.0 does; 'exact'
      // when 1 − Pearson(W_t, W_{t−1}) < tol, as RcppML 0.3.7 does (W moves further per pass when extrapolated).
      const previous = accel?.lastLoss ?? Infinity;
      const fell = previous - result.relativeLoss;
      const converged = options.tol > 0 && (accel ? fell >= 0 && fell < options.tol * result.relativeLoss : result.tol < options.tol);
      if (accel) adaptExtrapolation(accel, result.relativeLoss);
      const summary: PassSummary = {
        iteration: result.iteration,
        relativeLoss: result.relativeLoss,
        objective: result.relativeLoss,
        tol: result.tol,
        seconds: elapsedSeconds,
        converged,
      };
      return { early: [], summary };
    },
    exportState: (): EngineState => exportState(0),
    exportPassState: (chunks: number): EngineState => exportState(chunks),
    importState: (saved: EngineState) => {
      const { W, d, hSum, warmScale, H, S, B } = saved.arrays;
      if (saved.loss !== 'l2' || !W || W.length !== m * k || !d || !hSum || !warmScale || !H) {
        throw new OptionError('resume', `a checkpoint of an l2 fit with ${m} features and rank ${k}`, 'another checkpoint');
      }
      state.W.set(W); state.d.set(d); state.hSum.set(hSum); state.warmScale.set(warmScale);
      state.samples = saved.numbers.samples ?? 0;
      ensureHCapacity(state, H.length / k);
      state.H.set(H);
      state.iteration = saved.numbers.iteration ?? 0;
      state.passNnz = saved.numbers.passNnz ?? 0;
      if (accel) {
        const { Wprev } = saved.arrays;
        if (!Wprev || Wprev.length !== m * k || saved.numbers.beta === undefined) {
          throw new OptionError('resume', "a checkpoint of an l2 fit with solver 'fast'", 'a checkpoint without its extrapolation state');
        }
        state.Wprev.set(Wprev);
        accel.beta = saved.numbers.beta; accel.betaMax = saved.numbers.betaMax ?? 1; accel.lastLoss = saved.numbers.lastLoss ?? Infinity;
        accel.held = saved.numbers.held === 1;
        // Mid-pass: W is already this pass's extrapolated W; the resumed pass must not extrapolate again.
        accel.next = (saved.numbers.passChunks ?? 0) > 0 ? false : saved.numbers.next === 1;
      }
      samplesSeen = saved.numbers.samplesSeen ?? 0;
      nnzSeen = saved.numbers.nnzSeen ?? 0;
      if ((saved.numbers.passChunks ?? 0) > 0) {
        if (!S || !B || B.length !== m * k) throw new OptionError('resume', 'a mid-pass checkpoint with its statistics', 'an incomplete checkpoint');
        pending = { S, B, hSum, normA2: saved.numbers.normA2 ?? 0, passNnz: state.passNnz, passSamples: saved.numbers.passSamples ?? 0, units: saved };
      }
    },
    snapshot: (summary: PassSummary, final: boolean, trace: readonly TracePoint[]): Snapshot =>
      l2Snapshot(state, summary, final, trace, {
        samples: state.samples, nnz: state.passNnz, samplesSeen, nnzSeen, keepH: options.keepH, featureNames: context.featureNames, diag: options.diag,
      }, runner?.counts()),
  };
  return engine;
}
