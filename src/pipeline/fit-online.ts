/**
 * fitOnline(chunks$, options): Observable<Snapshot> — online fitting over a stream that is read
 * once (a live Observable<CscChunk>, or any MatrixSource read for a single pass). Each chunk
 * updates H for its samples and W (l2: model/l2/online.ts, statistics with forgetting factor ρ;
 * l1: model/l1/online.ts, sCD over a window of recent chunks); a snapshot is emitted every `emitEvery`
 * chunks and/or when `emitEveryMs` has passed since the last one, and a final snapshot (factors
 * sorted by d) when the stream completes. Snapshots are copies the consumer owns.
 *
 * Processing is synchronous per chunk, so the engine never buffers: a source that respects
 * backpressure (the file sources pull one batch at a time) is read no faster than it is consumed.
 * State is created per subscription; unsubscribing unsubscribes the upstream; a bad chunk errors
 * with a typed DataError and nothing is emitted after it.
 *
 * New features: a chunk may have more features than the chunks before it (a long-layout source with
 * `unknownFeatures: 'extend'`, or any Observable whose chunks' m grows); the model grows with zero rows
 * of W (and of AHᵀ for l2) that the following W-update fits from the data. A smaller m is a DataError
 * SHAPE_MISMATCH naming the chunk. Snapshots have the current m rows and the source's `featureNames`
 * as they are at that moment (its first m names). The first chunk must have at least `rank` features.
 */
import { availableParallelism } from 'node:os';
import { Observable, isObservable, type Subscriber, type Subscription } from 'rxjs';
import { checkChunk } from '../chunk/check-chunk.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import type { CscMatrix } from '../chunk/csc-matrix.js';
import { DataError, NmfError, OptionError } from '../errors.js';
import { readCheckpointFor, writeCheckpoint, type Checkpoint } from '../io/checkpoint.js';
import type { OnlineEngine, OnlineRunner, OnlineSettings } from '../model/engine.js';
import { familyOf, type ModelFamily } from '../model/families.js';
import { checkShape, fingerprintOf, ONLINE_W_SWEEPS, resolveFit, withSolver, type FitOptions, type ResolvedOptions } from '../options.js';
import { checkFiniteLoss, checkModelNotZero, checkSomeValue, hasPositive } from './fit-checks.js';
import { makeChunkScaler } from './value-scale.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';
import { isMatrixSource, type MatrixSource } from '../source/matrix-source.js';

export interface OnlineOptions extends FitOptions {
  /** Forgetting factor ρ ∈ (0, 1]: statistics decay by ρ per chunk (1 = remember everything). Default 1. */
  readonly forgetting?: number;
  /** Emit a snapshot every this many chunks (integer ≥ 1). Default 1. */
  readonly emitEvery?: number;
  /** Also emit when this many milliseconds have passed since the last snapshot (checked per chunk). */
  readonly emitEveryMs?: number;
  /** Name used in error messages for a plain Observable (default "live stream"). */
  readonly name?: string;
  /**
   * Chunks in the window (integer ≥ 1; memory is bounded by it). l1: W is refined over the window
   * (default 8). l2: the codes of the window's chunks are re-solved at each step and their statistics
   * recomputed (default 4 with solver 'fast', 1 with 'exact': only the new chunk's; more makes one pass
   * come closer to the batch fit).
   */
  readonly window?: number;
  /** Rounds per chunk (integer ≥ 1): l1 sCD iterations over the window; l2 rounds of {the window's codes, W}. Default 1. */
  readonly sweeps?: number;
}

/** Nonzeros in a chunk from which the default `threads` starts workers. */
const LARGE_CHUNK_NNZ = 20_000;

/** Everything fitOnline resolves before subscribing (bad options throw here, synchronously). */
interface OnlinePlan {
  readonly resolved: ResolvedOptions;
  readonly family: ModelFamily;
  readonly settings: OnlineSettings;
  readonly emitEvery: number;
  readonly emitEveryMs: number | undefined;
  /** Threads (the family's rule); `auto`: the default, used for large chunks. */
  readonly threads: { readonly count: number; readonly auto: boolean };
  readonly chunks$: Observable<CscChunk>;
  readonly name: string;
  /** Read at each snapshot: a source that learns its features while it is read names them as it goes. */
  readonly namesOf: (m: number) => readonly string[] | undefined;
  /** What a checkpoint must have been made with to be resumed here. */
  readonly fingerprint: Readonly<Record<string, unknown>>;
  /** Workers to start before reading (the source says m): their count, else 1. */
  readonly earlyThreads: number;
  readonly features: number | undefined;
}

export function fitOnline(input: Observable<CscChunk> | MatrixSource, options: OnlineOptions): Observable<Snapshot> {
  const plan = planOnline(input, options);
  return new Observable<Snapshot>((subscriber) => {
    const run = makeOnlineRun(plan, subscriber);
    const start = (): void => {
      run.subscription = plan.chunks$.subscribe({
        next: (chunk) => onOnlineChunk(run, chunk),
        error: (error: unknown) => { if (!run.failed) failOnline(run, error); },
        complete: () => completeOnline(run),
      });
      if (run.failed) run.subscription.unsubscribe();
    };
    // A source that says m: its workers are started first and it is read once they are up (a cold
    // source loses nothing by waiting; a synchronous one would otherwise never give them a chance).
    if (plan.earlyThreads > 1) run.pool = startPool(run, plan.features ?? 0, plan.earlyThreads);
    if (run.pool !== undefined) run.pool.ready.then(() => { if (!run.failed) start(); }, (error: unknown) => failOnline(run, error));
    else start();
    return () => {
      run.failed = true;
      run.subscription?.unsubscribe();
      run.pool?.close();
    };
  });
}

function planOnline(input: Observable<CscChunk> | MatrixSource, options: OnlineOptions): OnlinePlan {
  // l2 'fast' (the default): warm-started CD sweeps (model/l2/online.ts); 'exact': exact NNLS, cold H starts.
  // Each option's kind, range and default: the options table (options/table-fit.ts); relations are checked here.
  const { resolved: plain, values } = resolveFit('fitOnline', options);
  const resolved = withSolver(plain, options);
  const family = familyOf(resolved.loss);
  const rho = values.forgetting as number;
  const emitEvery = values.emitEvery as number;
  const emitEveryMs = values.emitEveryMs as number | undefined;
  const window = values.window as number;
  const sweeps = values.sweeps as number;
  family.online.checkForgetting(rho);
  if (resolved.checkpoint?.chunks !== undefined) {
    throw new OptionError('checkpoint.chunks', 'nothing for online fits (every chunk is an iteration: use checkpoint.every)', resolved.checkpoint.chunks);
  }
  // An SVD start reads A 6 times; a live stream is read once (an SVD of the first chunk alone would be another method).
  if (resolved.initMethod === 'nndsvd' || resolved.initMethod === 'nndsvda') {
    throw new OptionError('init', "'random' or explicit arrays { W } for fitOnline (an SVD start needs 6 passes over A; use fit)", resolved.initMethod);
  }
  const threads = family.online.threaded(resolved)
    ? { count: resolved.threads ?? Math.max(1, availableParallelism()), auto: resolved.threads === undefined }
    : { count: 1, auto: false };
  const settings: OnlineSettings = { window, sweeps, forgetting: rho, wSweeps: options.nnlsMaxSweeps ?? ONLINE_W_SWEEPS };
  const fingerprint = { ...fingerprintOf(resolved), window, sweeps, ...family.online.fingerprint(settings) };
  const base = { resolved, family, settings, emitEvery, emitEveryMs, threads, fingerprint };
  if (isMatrixSource(input)) {
    if (input.features !== undefined) checkShape(resolved, input.features, undefined);
    const matrix = (input as { matrix?: CscMatrix }).matrix;
    const early = threads.count <= 1 ? 1 : family.online.threadsBeforeReading(resolved, threads, input.features, matrix);
    return {
      ...base, chunks$: input.chunks(), name: input.name, earlyThreads: early, features: input.features,
      // A growing dictionary may be ahead of the chunks fitted so far (it only ever appends), and it is
      // a live list: the snapshot gets a copy of its first m names.
      namesOf: (m) => { const names = input.featureNames; return names === undefined || names.length < m ? undefined : names.slice(0, m); },
    };
  }
  if (!isObservable(input)) throw new OptionError('input', 'an Observable<CscChunk> or a MatrixSource', input);
  return { ...base, chunks$: input, name: values.name as string, earlyThreads: 1, features: undefined, namesOf: () => undefined };
}

/** One subscription's state. */
interface OnlineRun {
  readonly plan: OnlinePlan;
  readonly subscriber: Subscriber<Snapshot>;
  readonly started: number;
  readonly trace: TracePoint[];
  engine?: OnlineEngine;
  last?: TracePoint & { converged: boolean };
  lastEmit: number;
  sinceEmit: number;
  failed: boolean;
  /** Resuming: the checkpoint's state, loaded at the first chunk; the chunks it had consumed are skipped. */
  resumed?: Checkpoint | undefined;
  toSkip: number;
  /** Worker threads: started before reading when the source says m, else at the first (large) chunk; until
   * they are up, chunks are solved here. Either way the model is the same bytes. */
  pool?: OnlineRunner;
  poolReady: boolean;
  poolAttached: boolean;
  poolFailure?: unknown;
  subscription?: Subscription;
  /** Values far from 1: scaled by a power of two, d unscaled in every snapshot (value-scale.ts). */
  readonly scaler: ReturnType<typeof makeChunkScaler>;
  /** Some chunk had a positive value (all-zero data is EMPTY_INPUT: fit-checks.ts). */
  sawPositive: boolean;
}

function makeOnlineRun(plan: OnlinePlan, subscriber: Subscriber<Snapshot>): OnlineRun {
  const { resolved } = plan;
  const resumed = resolved.resumeFrom !== undefined ? readCheckpointFor(resolved.resumeFrom, plan.fingerprint) : undefined;
  return {
    plan, subscriber, started: performance.now(), trace: resumed ? [...resumed.trace] : [], lastEmit: performance.now(), sinceEmit: 0,
    failed: false, resumed, toSkip: resumed?.state.numbers.chunks ?? 0, poolReady: false, poolAttached: false,
    scaler: makeChunkScaler(plan.name), sawPositive: false,
  };
}

function startPool(run: OnlineRun, m: number, count: number): OnlineRunner {
  const pool = run.plan.family.online.makeRunner(m, run.plan.resolved, count);
  pool.ready.then(() => { run.poolReady = true; }, (error: unknown) => { run.poolFailure = error; });
  return pool;
}

function usePool(run: OnlineRun, engine: OnlineEngine, chunk: CscChunk): void {
  const { threads, resolved } = run.plan;
  if (run.pool === undefined && (!threads.auto || chunk.colPtr[chunk.n]! >= LARGE_CHUNK_NNZ || chunk.m * resolved.rank >= 200_000)) {
    run.pool = startPool(run, chunk.m, threads.count);
  }
  if (run.poolFailure !== undefined && !threads.auto) throw run.poolFailure;
  if (!run.poolReady || run.poolAttached) return;
  run.poolAttached = true;
  engine.attach(run.pool!);
}

function failOnline(run: OnlineRun, error: unknown): void {
  run.failed = true;
  run.pool?.close();
  run.subscriber.error(error instanceof NmfError ? error : new NmfError('NUMERICAL', String((error as Error)?.message ?? error), { cause: error }));
}

/** The engine, made at the first chunk (and loaded from the checkpoint when resuming). */
function engineFor(run: OnlineRun, chunk: CscChunk): OnlineEngine {
  if (run.engine !== undefined) return run.engine;
  const { resolved, family, settings } = run.plan;
  checkShape(resolved, chunk.m, undefined);
  const engine = family.online.make(chunk.m, resolved, settings);
  if (run.resumed) {
    engine.importState(run.resumed.state);
    run.resumed = undefined;
  }
  run.engine = engine;
  return engine;
}

function onOnlineChunk(run: OnlineRun, given: CscChunk): void {
  // subscriber.closed: a synchronous source keeps delivering until its subscribe returns, even
  // after the consumer unsubscribed; no work (and no checkpoint) is done for those chunks.
  if (run.failed || run.subscriber.closed) return;
  const { plan, trace } = run;
  try {
    const chunk = run.scaler.chunk(given);
    checkChunk(chunk, plan.name);
    run.sawPositive ||= hasPositive(chunk);
    const engine = engineFor(run, chunk);
    if (run.toSkip > 0) {
      run.toSkip--;
      engine.remember(chunk); // the saved window's data comes from the input again
      return;
    }
    // The features may grow from chunk to chunk (new rows of W start at 0), never shrink.
    if (chunk.m < engine.features) {
      throw new DataError('SHAPE_MISMATCH', `chunk has ${chunk.m} features but the model already has ${engine.features} (features may be added, not removed)`,
        { source: plan.name, batch: chunk.position });
    }
    engine.grow(chunk.m);
    if (plan.threads.count > 1) usePool(run, engine, chunk);
    const previous = (run.last ?? trace.at(-1))?.objective ?? Infinity;
    const result = engine.step(chunk, plan.name);
    const seconds = (performance.now() - run.started) / 1000;
    run.last = { iteration: engine.chunks, relativeLoss: result.relativeLoss, objective: result.objective, tol: result.tol ?? previous - result.objective, seconds, converged: false };
    trace.push({ iteration: run.last.iteration, relativeLoss: run.last.relativeLoss, objective: run.last.objective, tol: run.last.tol, seconds });
    checkFiniteLoss(run.last, plan.name);
    const checkpoint = plan.resolved.checkpoint;
    if (checkpoint && run.last.iteration % checkpoint.every === 0) {
      writeCheckpoint(checkpoint.dir, { fingerprint: plan.fingerprint, sourceName: plan.name, trace, state: engine.exportState() });
    }
    run.sinceEmit += 1;
    const now = performance.now();
    if (run.sinceEmit >= plan.emitEvery || (plan.emitEveryMs !== undefined && now - run.lastEmit >= plan.emitEveryMs)) {
      run.sinceEmit = 0;
      run.lastEmit = now;
      run.subscriber.next(run.scaler.snapshot(engine.snapshot(run.last, false, trace, plan.namesOf(engine.features))));
    }
  } catch (error) {
    failOnline(run, error);
  }
}

function completeOnline(run: OnlineRun): void {
  if (run.failed) return;
  if (run.engine === undefined || run.last === undefined) {
    failOnline(run, new NmfError('EMPTY_INPUT', `the stream ${run.plan.name} completed without any chunk`));
    return;
  }
  run.pool?.close();
  const final = run.engine.snapshot(run.last, true, run.trace, run.plan.namesOf(run.engine.features));
  try {
    checkSomeValue(run.sawPositive, run.plan.name);
    checkModelNotZero(final, run.plan.name);
  } catch (error) {
    failOnline(run, error);
    return;
  }
  run.subscriber.next(run.scaler.snapshot(final));
  run.subscriber.complete();
}
