/**
 * The least-squares online fit (online.ts) behind the OnlineEngine contract of model/engine.ts, and its
 * checkpoints (exportOnlineL2, importOnlineL2).
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import type { ResolvedOptions } from '../../options.js';
import type { OnlineEngine, OnlineSettings } from '../engine.js';
import {
  attachOnlineL2Runner, growOnlineL2, makeOnlineL2, onlineStepL2, rememberOnlineL2, type OnlineL2, type OnlineL2Runner,
} from './online.js';
import { OptionError } from '../../errors.js';
import type { EngineState } from '../engine.js';
import { ensureHCapacity } from './state.js';
import { l2Snapshot } from './snapshot.js';

export function makeOnlineL2Engine(m: number, options: ResolvedOptions, settings: OnlineSettings): OnlineEngine {
  const online = makeOnlineL2(m, options, { window: settings.window, sweeps: settings.sweeps, warmup: options.warmupIterations, wSweeps: settings.wSweeps });
  let pendingWindow = 0;
  return {
    get features() { return online.state.m; },
    get chunks() { return online.chunks; },
    grow: (next) => growOnlineL2(online, next),
    step(chunk: CscChunk, sourceName: string) {
      if (online.runner) online.runner.resetCounts(); else online.state.ws.counts.fill(0);
      const result = onlineStepL2(online, chunk, options, settings.forgetting, sourceName);
      return { relativeLoss: result.relativeLoss, objective: result.relativeLoss, tol: result.tol };
    },
    snapshot: (summary, final, trace, featureNames) => l2Snapshot(online.state, summary, final, trace, {
      samples: online.samplesSeen, nnz: online.nnzSeen, samplesSeen: online.samplesSeen, nnzSeen: online.nnzSeen, keepH: false, featureNames,
    }, online.runner?.counts()),
    exportState: () => exportOnlineL2(online),
    importState: (saved) => { pendingWindow = importOnlineL2(online, saved); },
    remember: (chunk) => rememberOnlineL2(online, chunk, pendingWindow),
    // the runner this family made (families.ts l2.online.makeRunner: a parallel/l2-pool.ts pool)
    attach: (runner) => attachOnlineL2Runner(online, runner as unknown as OnlineL2Runner),
  };
}

/**
 * The online state as plain numbers and arrays (checkpoints, io/checkpoint.ts): W, d, the frozen
 * statistics and the number of window chunks not in them (`pending`; their data is not stored: a
 * resumed fit takes them from the replayed input, `rememberOnlineL2`).
 */
export function exportOnlineL2(online: OnlineL2): EngineState {
  const { state, frozen, recent, window } = online;
  const pending = recent.length === window ? window - 1 : recent.length;
  // fast: the pending chunks' codes (their warm starts) and the scale that maps them to the current W
  let start = 0, end = 0;
  for (let i = 0; i < recent.length; i++) { if (i < recent.length - pending) start += recent[i]!.n; end += recent[i]!.n; }
  const warm = online.fast ? { H: state.H.slice(start * state.k, end * state.k), warmScale: state.warmScale.slice() } : {};
  return {
    loss: 'l2',
    numbers: {
      chunks: online.chunks, samplesSeen: online.samplesSeen, nnzSeen: online.nnzSeen, iteration: state.iteration, normA2: frozen.normA2,
      features: state.m, pending,
    },
    arrays: { W: state.W.slice(), d: state.d.slice(), S: frozen.S.slice(), B: frozen.B.slice(), hSum: frozen.hSum.slice(), ...warm },
  };
}

/**
 * Continue from an exported state (same rank, else an OptionError). A state with more features than
 * the model (its stream had grown) grows the model first; one with fewer is an OptionError.
 * Returns the number of chunks of the window to take from the replayed input.
 */
export function importOnlineL2(online: OnlineL2, saved: EngineState): number {
  const features = saved.numbers.features;
  if (features !== undefined && Number.isInteger(features) && features > online.state.m) growOnlineL2(online, features);
  const { state } = online;
  const { W, d, S, B, hSum, H, warmScale } = saved.arrays;
  const pending = saved.numbers.pending ?? 0;
  if (saved.loss !== 'l2' || !W || W.length !== state.W.length || !d || !S || !B || B.length !== state.B.length || !hSum || pending >= online.window
    || (online.fast && (!H || !warmScale || warmScale.length !== state.k))) {
    throw new OptionError('resumeFrom', `a checkpoint of an online l2 fit with ${state.m} features, rank ${state.k} and a window of ${online.window}`, 'another checkpoint');
  }
  state.W.set(W); state.d.set(d);
  if (online.fast) {
    // the codes of the window's pending chunks, at the front of H where the replayed chunks go
    ensureHCapacity(state, H!.length / state.k);
    state.H.set(H!);
    state.warmScale.set(warmScale!);
  }
  online.frozen = { S: S.slice(), B: B.slice(), hSum: hSum.slice(), normA2: saved.numbers.normA2 ?? 0 };
  state.iteration = saved.numbers.iteration ?? 0;
  online.chunks = saved.numbers.chunks ?? 0;
  online.samplesSeen = saved.numbers.samplesSeen ?? 0;
  online.nnzSeen = saved.numbers.nnzSeen ?? 0;
  return pending;
}
