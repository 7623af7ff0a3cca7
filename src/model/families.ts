/**
 * The model families, one record each: the only place that tells least squares ('l2', model/l2/) from
 * weighted L1 ('l1', model/l1/). The drivers (pipeline/fit.ts, pipeline/fit-online.ts, pipeline/project.ts)
 * and the diagnostics ask the record of `options.loss` instead of branching on it. This file also wires a
 * family to its runners (parallel/) and stores (io/): it is the one model/ file that imports them.
 * A new family (say KL divergence) is a folder model/<name>/ and one entry in FAMILIES (docs/architecture.md).
 */
import { availableParallelism } from 'node:os';
import type { CscChunk } from '../chunk/csc-chunk.js';
import type { CscMatrix } from '../chunk/csc-matrix.js';
import { OptionError } from '../errors.js';
import { makeFeatureMajorStore } from '../io/feature-major.js';
import { NNLS_CD_WARM } from '../kernel/nnls-solve.js';
import type { Loss, ResolvedOptions } from '../options.js';
import { makeL1Pool } from '../parallel/l1-pool.js';
import { makeL2Pool, type L2Pool } from '../parallel/l2-pool.js';
import type { Engine, EngineContext, OnlineEngine, OnlineRunner, OnlineSettings, OnlineStep } from './engine.js';
import { makeL1Engine, type L1Runner } from './l1/engine.js';
import { makeOnlineL1 } from './l1/online.js';
import { projectL1Columns } from './l1/project.js';
import { makeL1StreamEngine } from './l1/stream-engine.js';
import { makeL2Engine } from './l2/engine.js';
import { makeMaskedL2Engine } from './l2/masked-engine.js';
import { makeOnlineL2Engine } from './l2/online-engine.js';
import { makeOnlineMaskedL2Engine } from './l2/online-masked.js';

/** Solves columns [j0, j1) of a chunk with W·diag(d) (m×k row-major, `Wd`) fixed into out (rank × chunk.n). */
export type ColumnsProjector = (chunk: CscChunk, out: Float64Array, j0: number, j1: number) => void;

export interface ModelFamily {
  readonly loss: Loss;
  /** Checkpoints within a pass (`checkpoint.chunks`). */
  readonly checkpointsWithinPass: boolean;
  /** The SVD start (pipeline/nndsvd-start.ts) gives H as well as W. */
  readonly startsWithH: boolean;
  /** Threads of a batch fit by default and with `threads` (the source: an in-memory matrix, or streamed). */
  batchThreads(options: ResolvedOptions, matrix: CscMatrix | undefined): number;
  /** A worker pool the batch driver starts before the first pass (l2); undefined: the engine makes its own. */
  makeBatchRunner?(m: number, options: ResolvedOptions, threads: number): L2Pool;
  makeEngine(m: number, options: ResolvedOptions, context: EngineContext, matrix: CscMatrix | undefined, runner?: L2Pool): Engine;
  readonly online: {
    defaultWindow(options: ResolvedOptions): number;
    /** Throws when the forgetting factor ρ means nothing to the family. */
    checkForgetting(rho: number): void;
    /** What a checkpoint must also have been made with, besides the fit options. */
    fingerprint(settings: OnlineSettings): Readonly<Record<string, number>>;
    /** Threads allowed at all (`threads` is ignored otherwise). */
    threaded(options: ResolvedOptions): boolean;
    /** Workers to start before reading a source (`features`: what it says, if it does); 1: none. */
    threadsBeforeReading(options: ResolvedOptions, threads: { readonly count: number; readonly auto: boolean }, features: number | undefined,
      matrix: CscMatrix | undefined): number;
    make(m: number, options: ResolvedOptions, settings: OnlineSettings): OnlineEngine;
    makeRunner(m: number, options: ResolvedOptions, threads: number): OnlineRunner;
  };
  /** Projection's default nonzeros per batch from which threads pay (pipeline/project.ts). */
  readonly parallelProjectionNnz: number;
  /** The projection of new samples when not least squares (model/project.ts); undefined: the NNLS projection. */
  columnsProjector?(Wd: Float64Array, m: number, k: number, lambda: number, maxSweeps: number): ColumnsProjector;
}

const cores = (): number => Math.max(1, availableParallelism());

const l2: ModelFamily = {
  loss: 'l2', checkpointsWithinPass: true, startsWithH: false,
  batchThreads(options, matrix) {
    if (options.mask !== undefined) return 1; // masked fits run on one thread (model/l2/masked-engine.ts)
    if (options.threads !== undefined) return options.diag ? options.threads : 1;
    if (!options.diag) return 1; // diag: false runs on one thread
    // The fast solver's pass in WebAssembly: two threads were slower than one in every measurement on this
    // 2-core machine (bench/results/time-to-loss-2026-12-06-final.json, load 4–7), so more only on request.
    if (options.nnlsMethod === NNLS_CD_WARM && options.wasm) return 1;
    const large = matrix === undefined || matrix.values.length >= 200_000 || matrix.m * options.rank >= 200_000;
    return large ? cores() : 1;
  },
  makeBatchRunner: (m, options, threads) => makeL2Pool(m, options, threads),
  makeEngine: (m, options, context, _matrix, runner) =>
    (options.mask !== undefined ? makeMaskedL2Engine(m, options, options.mask, context) : makeL2Engine(m, options, context, runner)),
  online: {
    // solver 'fast': bench/README.md, bench:online (the default that meets both goals); 'exact': the new chunk only
    defaultWindow: (options) => (options.nnlsMethod === NNLS_CD_WARM ? 4 : 1),
    checkForgetting: () => undefined,
    fingerprint: (settings) => ({ forgetting: settings.forgetting }),
    threaded: (options) => options.diag && options.mask === undefined, // masked: one thread (l2/online-masked.ts)
    // the cores when the source is large (the batch fit's rule), once the source says m
    threadsBeforeReading: (options, _threads, features, matrix) => (features === undefined ? 1 : l2.batchThreads(options, matrix)),
    make: (m, options, settings) => (options.mask !== undefined ? makeOnlineMaskedL2Engine(m, options, settings) : makeOnlineL2Engine(m, options, settings)),
    makeRunner: (m, options, threads) => makeL2Pool(m, options, threads, true),
  },
  parallelProjectionNnz: 200_000,
};

const l1: ModelFamily = {
  loss: 'l1', checkpointsWithinPass: false, startsWithH: true,
  batchThreads(options, matrix) {
    if (matrix === undefined) return 1; // out-of-core l1 runs on one thread
    if (options.threads !== undefined) return options.diag ? options.threads : 1;
    if (!options.diag) return 1;
    return matrix.values.length >= 200_000 || matrix.m * options.rank >= 200_000 ? cores() : 1;
  },
  // In memory when the source is an in-memory matrix; otherwise out of core, with a feature-major copy of A
  // in temporary files (removed when the fit ends, fails or is unsubscribed).
  makeEngine(m, options, context, matrix) {
    if (matrix !== undefined) {
      const threads = l1.batchThreads(options, matrix);
      return makeL1Engine(m, options, { ...context, threads }, matrix, threads > 1 ? makeL1Pool(threads, options.rank) : undefined);
    }
    return makeL1StreamEngine(m, options, context, makeFeatureMajorStore(m, options.tempDir === undefined ? {} : { dir: options.tempDir }));
  },
  online: {
    defaultWindow: () => 8,
    checkForgetting: (rho) => { if (rho !== 1) throw new OptionError('forgetting', "1 with loss 'l1' (its memory is the window)", rho); },
    fingerprint: () => ({}),
    threaded: () => true,
    threadsBeforeReading: (_options, threads) => (threads.auto ? 1 : threads.count),
    make: makeOnlineL1Engine,
    makeRunner: (_m, options, threads) => makeL1Pool(threads, options.rank),
  },
  parallelProjectionNnz: 20_000,
  columnsProjector: (Wd, m, k, lambda, maxSweeps) => (chunk, out, j0, j1) => { projectL1Columns(Wd, m, k, lambda, maxSweeps, chunk, out, j0, j1); },
};

/** model/l1/online.ts behind the OnlineEngine contract; its tol is left to the driver (the objective's decrease). */
function makeOnlineL1Engine(m: number, options: ResolvedOptions, settings: OnlineSettings): OnlineEngine {
  const online = makeOnlineL1(m, options, settings.window, settings.sweeps);
  return {
    get features() { return online.features; },
    get chunks() { return online.chunks; },
    grow: () => undefined, // W grows inside step
    step: (chunk): OnlineStep => online.step(chunk),
    snapshot: (summary, final, trace, names) => online.snapshot(summary, final, trace, names),
    exportState: () => online.exportState(),
    importState: (saved) => online.importState(saved),
    remember: (chunk) => online.remember(chunk),
    attach: (runner) => online.attach(runner as unknown as L1Runner), // the runner made by l1.online.makeRunner
  };
}

const FAMILIES: Readonly<Record<Loss, ModelFamily>> = { l2, l1 };

export function familyOf(loss: Loss): ModelFamily {
  return FAMILIES[loss];
}
