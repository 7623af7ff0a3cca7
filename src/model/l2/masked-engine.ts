/**
 * The masked least-squares fit as an Engine (issue #15): masked-pass.ts per chunk, masked-end.ts per pass. It runs
 * on the calling thread (the `threads` option does not apply), in WebAssembly (masked-wasm.ts) for the 'fast'
 * solver unless `wasm: false`, else in TypeScript: the same bytes either way and for any chunking. Its checkpoints
 * (masked-checkpoint.ts) copy the TypeScript path's state, so a fit that writes or resumes them runs that path. Snapshots carry trainLoss
 * and, with a test set, testLoss; with `earlyStop` the fit stops at the first pass whose test loss rose.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { NmfError } from '../../errors.js';
import { NNLS_CD_WARM } from '../../kernel/nnls-solve.js';
import { makeRandom } from '../../kernel/random.js';
import type { ResolvedMask, ResolvedOptions } from '../../options.js';
import type { Snapshot, TracePoint } from '../../snapshot/snapshot.js';
import type { Engine, EngineContext, EngineState, PassSummary } from '../engine.js';
import { exportMaskedState, importMaskedState, restorePass, type MaskedCounters } from './masked-checkpoint.js';
import { endMaskedPass } from './masked-end.js';
import { beginMaskedPass, makeMaskedL2, maskedRowBytes, stepMasked } from './masked-pass.js';
import { makeMaskedWasm, maskedWasmFits } from './masked-wasm.js';
import { l2Snapshot } from './snapshot.js';
import { makeL2State } from './state.js';

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

/** The masked engine of a least-squares fit with `options.mask` (model/families.ts picks it). */
export function makeMaskedL2Engine(m: number, options: ResolvedOptions, mask: ResolvedMask, context: EngineContext): Engine {
  const k = options.rank;
  const rowBytes = maskedRowBytes(m, k);
  if (rowBytes > options.memoryLimit) {
    throw new NmfError('MEMORY_LIMIT', `${m.toLocaleString('en-US')} features at rank ${k}: a masked fit's per-feature Grams would need ${mb(rowBytes)}, `
      + `above the memory limit of ${mb(options.memoryLimit)} (option memoryLimit, CLI --memory-limit)`);
  }
  const checkpoints = options.checkpoint !== undefined || options.resumeFrom !== undefined;
  const wasm = options.wasm && !checkpoints && options.nnlsMethod === NNLS_CD_WARM && maskedWasmFits(m, k) ? makeMaskedWasm(m, k) : undefined;
  const ms = makeMaskedL2(makeL2State(m, options, makeRandom(options.seed), undefined, { warmUp: false }), mask, wasm);
  const st = ms.base;
  let counters: MaskedCounters = { samplesSeen: 0, nnzSeen: 0, lastTest: undefined };
  let pending: EngineState | undefined; // resumed mid-pass: the statistics of the chunks done before the checkpoint
  const losses = new Map<number, { trainLoss: number; testLoss: number | undefined }>();
  return {
    readsData: () => true,
    beginPass: () => {
      beginMaskedPass(ms, options); st.ws.counts.fill(0);
      if (pending) { restorePass(ms, pending); pending = undefined; }
    },
    step: (chunk: CscChunk) => {
      stepMasked(ms, chunk, options, context.sourceName);
      counters.samplesSeen += chunk.n;
      counters.nnzSeen += chunk.colPtr[chunk.n]!;
    },
    endPass: (elapsedSeconds: number) => {
      const r = endMaskedPass(ms, options);
      const lastTest = counters.lastTest;
      const rose = mask.earlyStop && lastTest !== undefined && r.testLoss !== undefined && r.testLoss > lastTest;
      counters.lastTest = r.testLoss;
      losses.set(r.iteration, { trainLoss: r.trainLoss, testLoss: r.testLoss });
      const summary: PassSummary = {
        iteration: r.iteration, relativeLoss: r.relativeLoss, objective: r.relativeLoss, tol: r.tol, seconds: elapsedSeconds,
        converged: rose || (options.tol > 0 && r.tol < options.tol), trainLoss: r.trainLoss, ...(r.testLoss === undefined ? {} : { testLoss: r.testLoss }),
      };
      return { early: [], summary };
    },
    snapshot: (summary: PassSummary, final: boolean, trace: readonly TracePoint[]): Snapshot => {
      const s = l2Snapshot(st, summary, final, trace, {
        samples: st.samples, nnz: st.passNnz, samplesSeen: counters.samplesSeen, nnzSeen: counters.nnzSeen, keepH: options.keepH, featureNames: context.featureNames, diag: options.diag,
      });
      const l = losses.get(summary.iteration);
      return l === undefined ? s : { ...s, trainLoss: l.trainLoss, ...(l.testLoss === undefined ? {} : { testLoss: l.testLoss }) };
    },
    exportState: (): EngineState => exportMaskedState(ms, counters, 0),
    exportPassState: (chunks: number): EngineState => exportMaskedState(ms, counters, chunks),
    importState: (saved: EngineState) => { ({ counters, pending } = importMaskedState(ms, saved)); },
    close: () => ms.wasm?.release(),
  };
}
