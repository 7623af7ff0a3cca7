/**
 * The least-squares model family as an Engine: state, per-chunk H-update, end-of-pass W-update,
 * and snapshots (copies) of W, d and, on request, H.
 */
import type { CscChunk } from '../chunk/csc-chunk.js';
import { COUNT_SOLVES, COUNT_SUPPORT_HITS, COUNT_SWEEPS } from '../kernel/nnls-workspace.js';
import { makeRandom } from '../kernel/random.js';
import type { ResolvedOptions } from '../options.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';
import { countZeros, sortFactors } from '../snapshot/sort-factors.js';
import type { Engine, EngineContext, PassSummary } from './engine.js';
import { endPassL2 } from './end-pass-l2.js';
import { makeL2State, type L2State } from './l2-state.js';
import { beginPassL2, stepL2 } from './step-l2.js';

export function makeL2Engine(m: number, options: ResolvedOptions, context: EngineContext): Engine & { readonly state: L2State } {
  const state = makeL2State(m, options, makeRandom(options.seed));
  const k = options.rank;
  let samplesSeen = 0;
  let nnzSeen = 0;
  const engine = {
    state,
    readsData: () => true,
    beginPass: () => {
      beginPassL2(state, options);
      state.ws.counts.fill(0);
    },
    step: (chunk: CscChunk) => {
      stepL2(state, chunk, options, context.sourceName);
      samplesSeen += chunk.n;
      nnzSeen += chunk.colPtr[chunk.n]!;
    },
    endPass: (elapsedSeconds: number) => {
      const result = endPassL2(state, options);
      const summary: PassSummary = {
        iteration: result.iteration,
        relativeLoss: result.relativeLoss,
        objective: result.relativeLoss,
        tol: result.tol,
        seconds: elapsedSeconds,
        converged: options.tol > 0 && result.tol < options.tol,
      };
      return { early: [], summary };
    },
    snapshot: (summary: PassSummary, final: boolean, trace: readonly TracePoint[]): Snapshot => {
      const n = state.samples;
      const H = final && options.keepH ? normalisedH(state) : undefined;
      const sorted = final ? sortFactors(state.W, m, k, state.d, H, n) : { W: state.W.slice(), d: state.d.slice(), H };
      const counts = state.ws.counts;
      const zerosH = sorted.H ? countZeros(sorted.H, k * n) : undefined;
      let dead = 0;
      for (let a = 0; a < k; a++) if (!(state.d[a]! > 0) || !(state.hSum[a]! > 0)) dead++;
      return {
        loss: 'l2', iteration: summary.iteration, final, converged: summary.converged,
        rank: k, features: m, samples: n, nnz: state.passNnz,
        W: sorted.W, d: sorted.d, ...(sorted.H ? { H: sorted.H } : {}),
        relativeLoss: summary.relativeLoss, objective: summary.objective, tol: summary.tol,
        elapsedSeconds: summary.seconds, samplesSeen, nnzSeen,
        ...(context.featureNames ? { featureNames: context.featureNames } : {}),
        diagnostics: {
          zerosW: countZeros(sorted.W, m * k),
          ...(zerosH === undefined ? {} : { zerosH }),
          deadComponents: dead,
          nnlsSweepsPerSolve: counts[COUNT_SOLVES]! > 0 ? counts[COUNT_SWEEPS]! / counts[COUNT_SOLVES]! : 0,
          nnlsSupportHits: counts[COUNT_SOLVES]! > 0 ? counts[COUNT_SUPPORT_HITS]! / counts[COUNT_SOLVES]! : 0,
          messages: dead > 0 ? [`${dead} component(s) are entirely zero`] : [],
        },
        ...(final ? { trace: trace.slice() } : {}),
      };
    },
  };
  return engine;
}

/** H of the last pass as rank × samples row-major with unit row sums. */
function normalisedH(state: L2State): Float64Array {
  const { k, H, hSum } = state;
  const n = state.samples;
  const out = new Float64Array(k * n);
  for (let a = 0; a < k; a++) {
    const inv = hSum[a]! > 0 ? 1 / hSum[a]! : 0;
    for (let j = 0; j < n; j++) out[a * n + j] = H[j * k + a]! * inv;
  }
  return out;
}
