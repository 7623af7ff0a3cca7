/**
 * One subscription of fit() (pipeline/fit.ts): its state, named, and the transitions — a pass over the
 * source (runPass), one chunk (onChunk), the end of an iteration (finishIteration), the start (begin).
 * Every pass subscribes to `source.chunks()` once; every chunk goes through the engine's `step`; at the
 * end of the pass the engine updates the model and the run emits a snapshot.
 */
import { firstValueFrom, type Subscriber, type Subscription } from 'rxjs';
import { checkChunk } from '../chunk/check-chunk.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import type { CscMatrix } from '../chunk/csc-matrix.js';
import { DataError, NmfError, OptionError } from '../errors.js';
import { readCheckpointFor, writeCheckpoint, type Checkpoint } from '../io/checkpoint.js';
import { adoptRecord, fingerprintOf as dataFingerprintOf, recordOf, type DataWatch } from '../chunk/data-fingerprint.js';
import { watchData } from '../source/watch-data.js';
import type { MemoryBudget } from '../memory-limit.js';
import { checkFiniteLoss, checkModelNotZero, checkSomeValue, hasPositive } from './fit-checks.js';
import type { Engine, EngineContext } from '../model/engine.js';
import type { ModelFamily } from '../model/families.js';
import { checkShape, fingerprintOf, type ResolvedOptions } from '../options.js';
import type { L2Pool } from '../parallel/l2-pool.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';
import { finalRecord, type FinalRecord } from '../options/recorded.js';
import type { MatrixSource } from '../source/matrix-source.js';

export interface FitRun {
  readonly source: MatrixSource;
  readonly resolved: ResolvedOptions;
  readonly family: ModelFamily;
  readonly subscriber: Subscriber<Snapshot>;
  readonly started: number;
  readonly trace: TracePoint[];
  engine?: Engine;
  /** The current pass's subscription to the source, the SVD start's, the next pass's timer. */
  pass?: Subscription | undefined;
  startup?: Subscription | undefined;
  pending?: ReturnType<typeof setImmediate> | undefined;
  failed: boolean;
  /** The options the engine is made with: the SVD start's W (and, l1, H) as an explicit start. */
  startOptions: ResolvedOptions;
  initSeconds?: number | undefined;
  /** Chunks of the first pass to skip after resuming from a mid-pass checkpoint. */
  resumeSkip: number;
  /** What W, H and the statistics need per feature and sample (memory-limit.ts), checked for every chunk and by the source. */
  readonly budget: MemoryBudget;
  /** The data's fingerprint, recorded by the first pass and checked by every later one (and against a resumed checkpoint's). */
  readonly watch: DataWatch;
  /** What the final snapshot records besides the model: the options (resolved, as JSON) and the source's sample names. */
  readonly record: FinalRecord;
  /** The checkpoint resumed from, read once. */
  saved?: Checkpoint | undefined;
}

const seconds = (run: FitRun): number => (performance.now() - run.started) / 1000;
const withInit = (run: FitRun, s: Snapshot): Snapshot => {
  const data = dataFingerprintOf(run.watch);
  // every snapshot names its samples (when the source does); the final one also records the options
  const { options, ...names } = finalRecord(run.record, s.samples);
  const record = s.final && options !== undefined ? { options, ...names } : names;
  return run.initSeconds === undefined && data === undefined && record.sampleNames === undefined && !s.final ? s
    : { ...s, ...(run.initSeconds === undefined ? {} : { initSeconds: run.initSeconds }), ...(data ? { data } : {}), ...record };
};

/** The checkpoint to resume from, read once; its data fingerprint becomes the one the passes are checked against. */
function savedCheckpoint(run: FitRun): Checkpoint {
  if (run.saved === undefined) {
    run.saved = readCheckpointFor(run.resolved.resumeFrom!, fingerprintOf(run.resolved));
    if (run.saved.data) adoptRecord(run.watch, run.saved.data, run.resolved.resumeFrom!);
  }
  return run.saved;
}

export function failRun(run: FitRun, error: unknown): void {
  if (run.failed) return;
  run.failed = true;
  run.startup?.unsubscribe();
  run.pass?.unsubscribe();
  run.engine?.close();
  run.subscriber.error(error instanceof NmfError ? error
    : new NmfError('NUMERICAL', `fit failed: ${(error as Error)?.message ?? String(error)}`, { cause: error }));
}

/** Teardown: unsubscribed (or done). */
export function stopRun(run: FitRun): void {
  run.failed = true;
  run.startup?.unsubscribe();
  run.pass?.unsubscribe();
  if (run.pending !== undefined) clearImmediate(run.pending);
  run.engine?.close();
}

function makeEngine(run: FitRun, m: number, pool: L2Pool | undefined): Engine {
  const { source } = run;
  const context: EngineContext = { sourceName: source.name, featureNames: source.featureNames, threads: pool?.threads ?? 1 };
  return run.family.makeEngine(m, run.startOptions, context, matrixOf(source), pool);
}

export const matrixOf = (source: MatrixSource): CscMatrix | undefined => (source as { matrix?: CscMatrix }).matrix;

/** Loads the checkpoint into the fresh engine: its trace, and the chunks of the pass it had done. */
function resumeInto(run: FitRun, engine: Engine): void {
  const { resolved } = run;
  const checkpoint = savedCheckpoint(run);
  const done = checkpoint.trace.at(-1)?.iteration ?? 0;
  if (done >= resolved.maxIterations) {
    throw new OptionError('maxIterations', `more than the ${done} iterations the checkpoint has done (to continue from it)`, resolved.maxIterations);
  }
  engine.importState(checkpoint.state);
  run.trace.push(...checkpoint.trace.map(pointOf));
  run.resumeSkip = checkpoint.state.numbers.passChunks ?? 0;
}

/** One pass's chunk-level state. */
interface Pass { skip: number; chunks: number; began: boolean; samplesRead: number; nnzRead: number; sawPositive: boolean }

function onChunk(run: FitRun, pass: Pass, chunk: CscChunk): void {
  const { source, resolved } = run;
  // NaN entries: the data's with missing: 'nan', the mask source's (source/mask-source.ts checked the data's own)
  checkChunk(chunk, source.name, resolved.mask?.nan === true || resolved.mask?.source !== undefined);
  run.budget.check(chunk.m, Math.max(source.samples ?? 0, chunk.colStart + chunk.n), { source: source.name, sample: chunk.colStart });
  pass.sawPositive ||= hasPositive(chunk);
  if (run.engine === undefined) {
    checkShape(resolved, chunk.m, source.samples);
    run.engine = makeEngine(run, chunk.m, undefined);
    if (resolved.resumeFrom !== undefined) resumeInto(run, run.engine);
    pass.skip = run.resumeSkip;
    run.resumeSkip = 0;
  }
  const engine = run.engine;
  pass.chunks++;
  // Resumed from a mid-pass checkpoint: the chunks it had done in this pass are read, not redone.
  if (pass.skip > 0) { pass.skip--; return; }
  if (!pass.began) { engine.beginPass(); pass.began = true; }
  engine.step(chunk);
  const every = resolved.checkpoint?.chunks;
  if (every !== undefined && pass.chunks % every === 0 && engine.exportPassState) {
    writeCheckpoint(resolved.checkpoint!.dir, {
      fingerprint: fingerprintOf(resolved), sourceName: source.name, trace: run.trace, data: recordOf(run.watch), state: engine.exportPassState(pass.chunks),
    });
  }
  if (resolved.onChunk) {
    pass.samplesRead += chunk.n;
    pass.nnzRead += chunk.colPtr[chunk.n]!;
    resolved.onChunk({ iteration: (run.trace.at(-1)?.iteration ?? 0) + 1, samples: pass.samplesRead, nnz: pass.nnzRead });
  }
}

export function runPass(run: FitRun): void {
  run.pending = undefined;
  const pass: Pass = { skip: run.resumeSkip, chunks: 0, began: false, samplesRead: 0, nnzRead: 0, sawPositive: false };
  run.resumeSkip = 0;
  const guarded = (body: () => void) => (): void => {
    if (run.failed || run.subscriber.closed) return; // closed: unsubscribed during a synchronous pass
    try { body(); } catch (error) { failRun(run, error); }
  };
  if (run.engine !== undefined && !run.engine.readsData()) {
    guarded(() => finishIteration(run, run.engine!))();
    return;
  }
  const { source } = run;
  const complete = guarded(() => {
    if (run.engine === undefined || pass.chunks === 0) throw new DataError('EMPTY_INPUT', 'the source produced no chunks', { source: source.name });
    checkSomeValue(pass.sawPositive, source.name);
    if (!pass.began) run.engine.beginPass();
    finishIteration(run, run.engine);
  });
  // An error from the source itself (not an NmfError: the user's Observable, a network) is an IO error.
  const sourceFailed = (error: unknown): void => failRun(run, error instanceof NmfError ? error
    : new NmfError('IO', `source ${source.name} failed: ${(error as Error)?.message ?? String(error)}`, { location: { source: source.name }, cause: error }));
  if (run.resolved.resumeFrom !== undefined) {
    try { savedCheckpoint(run); } catch (error) { failRun(run, error); return; }
  }
  const subscription = source.chunks(run.budget).pipe(watchData(run.watch))
    .subscribe({ next: (chunk) => guarded(() => onChunk(run, pass, chunk))(), error: sourceFailed, complete });
  if (run.failed) subscription.unsubscribe();
  else run.pass = subscription;
}

/** End of an iteration: emit its snapshot(s); then the final snapshot, or schedule the next pass. */
function finishIteration(run: FitRun, engine: Engine): void {
  const { resolved, subscriber, trace } = run;
  const { early, summary } = engine.endPass(seconds(run));
  for (const s of early) {
    trace.push(pointOf({ ...s, seconds: s.elapsedSeconds }));
    resolved.onIteration?.(trace.at(-1)!);
    if (resolved.emit === 'every') subscriber.next(withInit(run, s));
  }
  if (summary === undefined) {
    // an internal pass: no iteration completed; wait for workers the engine may be starting
    const waiting = engine.whenReady?.();
    if (waiting) waiting.then(() => { if (!run.failed) run.pending = setImmediate(runPass, run); }, (error: unknown) => failRun(run, error));
    else run.pending = setImmediate(runPass, run);
    return;
  }
  trace.push(pointOf(summary));
  checkFiniteLoss(summary, run.source.name);
  const last = summary.converged || summary.iteration >= resolved.maxIterations;
  if (!last && resolved.checkpoint && summary.iteration % resolved.checkpoint.every === 0) {
    writeCheckpoint(resolved.checkpoint.dir, { fingerprint: fingerprintOf(resolved), sourceName: run.source.name, trace, data: recordOf(run.watch), state: engine.exportState() });
  }
  resolved.onIteration?.(trace.at(-1)!);
  if (resolved.emit === 'every') subscriber.next(withInit(run, engine.snapshot(summary, false, trace)));
  if (last) {
    const final = withInit(run, engine.snapshot(summary, true, trace));
    checkModelNotZero(final, run.source.name);
    engine.close();
    subscriber.next(final);
    subscriber.complete();
  } else {
    run.pending = setImmediate(runPass, run);
  }
}

/**
 * The first pass. With a worker pool (the family's batch runner) the pool is made, and its workers started,
 * before it, so that no pass ever waits synchronously on a worker that is still loading.
 */
export function beginRun(run: FitRun): void {
  const { source, resolved, family } = run;
  const threads = family.batchThreads(resolved, matrixOf(source));
  if (threads <= 1 || family.makeBatchRunner === undefined) {
    runPass(run);
    return;
  }
  const makeRunner = family.makeBatchRunner;
  void (async () => {
    const m = source.features ?? await peekFeatures(source);
    if (run.failed) return;
    checkShape(resolved, m, source.samples);
    run.budget.check(m, source.samples ?? 0, { source: source.name });
    const pool = makeRunner(m, run.startOptions, threads);
    run.engine = makeEngine(run, m, pool);
    if (resolved.resumeFrom !== undefined) resumeInto(run, run.engine);
    await pool.ready;
    if (!run.failed) runPass(run);
  })().catch((error: unknown) => failRun(run, error));
}

/** The number of features of a source that does not say: read its first chunk, then stop reading. */
async function peekFeatures(source: MatrixSource): Promise<number> {
  const first = await firstValueFrom(source.chunks(), { defaultValue: undefined });
  if (first === undefined) throw new DataError('EMPTY_INPUT', 'the source produced no chunks', { source: source.name });
  return first.m;
}

function pointOf(s: TracePoint): TracePoint {
  return {
    iteration: s.iteration, relativeLoss: s.relativeLoss, objective: s.objective, tol: s.tol, seconds: s.seconds,
    ...(s.trainLoss === undefined ? {} : { trainLoss: s.trainLoss }), ...(s.testLoss === undefined ? {} : { testLoss: s.testLoss }),
  };
}
