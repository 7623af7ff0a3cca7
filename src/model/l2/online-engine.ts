/**
 * The least-squares online fit (online.ts) behind the OnlineEngine contract of model/engine.ts.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import type { ResolvedOptions } from '../../options.js';
import type { OnlineEngine, OnlineSettings } from '../engine.js';
import {
  attachOnlineL2Runner, exportOnlineL2, growOnlineL2, importOnlineL2, makeOnlineL2, onlineStepL2, rememberOnlineL2, type OnlineL2Runner,
} from './online.js';
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
