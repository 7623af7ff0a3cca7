/**
 * One subscription of fitOnline() (pipeline/fit-online.ts): its state, named, and the transitions — a chunk
 * (onOnlineChunk: the family's OnlineEngine steps, snapshots, checkpoints), completion, failure, and the
 * worker pool started before reading or at the first large chunk.
 */
import type { Subscriber, Subscription } from 'rxjs';
import { checkChunk } from '../chunk/check-chunk.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { DataError, NmfError } from '../errors.js';
import { readCheckpointFor, writeCheckpoint, type Checkpoint } from '../io/checkpoint.js';
import type { OnlineEngine, OnlineRunner } from '../model/engine.js';
import { checkShape } from '../options.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';
import type { OnlinePlan } from './fit-online.js';
import { finalRecord } from '../options/recorded.js';
import { checkFiniteLoss, checkModelNotZero, checkSomeValue, hasPositive } from './fit-checks.js';
import { makeChunkScaler } from './value-scale.js';

/** Nonzeros in a chunk from which the default `threads` starts workers. */
const LARGE_CHUNK_NNZ = 20_000;

/** One subscription's state. */
export interface OnlineRun {
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
  /** Chunks from a log (they carry a sequence): the last `window` of them, saved in checkpoints (where to resume). */
  readonly log: { sequence: number; colStart: number; position: number }[];
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

export function makeOnlineRun(plan: OnlinePlan, subscriber: Subscriber<Snapshot>): OnlineRun {
  const { resolved } = plan;
  const resumed = resolved.resumeFrom !== undefined ? readCheckpointFor(resolved.resumeFrom, plan.fingerprint) : undefined;
  return {
    plan, subscriber, started: performance.now(), trace: resumed ? [...resumed.trace] : [], lastEmit: performance.now(), sinceEmit: 0,
    failed: false, resumed, log: [],
    // A log source replays only the saved window (fit-online.ts starts it there); any other source replays everything.
    toSkip: plan.log !== undefined && resumed?.log !== undefined ? resumed.log.sequences.length : resumed?.state.numbers.chunks ?? 0, poolReady: false, poolAttached: false,
    scaler: makeChunkScaler(plan.name), sawPositive: false,
  };
}

export function startPool(run: OnlineRun, m: number, count: number): OnlineRunner {
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

export function failOnline(run: OnlineRun, error: unknown): void {
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

export function onOnlineChunk(run: OnlineRun, given: CscChunk): void {
  // subscriber.closed: a synchronous source keeps delivering until its subscribe returns, even
  // after the consumer unsubscribed; no work (and no checkpoint) is done for those chunks.
  if (run.failed || run.subscriber.closed) return;
  const { plan, trace } = run;
  try {
    const chunk = run.scaler.chunk(given);
    checkChunk(chunk, plan.name, plan.resolved.mask?.nan === true);
    plan.budget.check(chunk.m, 0, { source: plan.name, sample: chunk.colStart }); // a live stream may grow n for ever: only m is held
    run.sawPositive ||= hasPositive(chunk);
    const engine = engineFor(run, chunk);
    if (given.sequence !== undefined) {
      run.log.push({ sequence: given.sequence, colStart: given.colStart, position: given.position });
      if (run.log.length > plan.settings.window) run.log.shift();
    }
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
    const losses = { ...(result.trainLoss === undefined ? {} : { trainLoss: result.trainLoss }), ...(result.testLoss === undefined ? {} : { testLoss: result.testLoss }) };
    run.last = { iteration: engine.chunks, relativeLoss: result.relativeLoss, objective: result.objective, tol: result.tol ?? previous - result.objective, seconds, converged: false, ...losses };
    trace.push({ iteration: run.last.iteration, relativeLoss: run.last.relativeLoss, objective: run.last.objective, tol: run.last.tol, seconds, ...losses });
    checkFiniteLoss(run.last, plan.name);
    const checkpoint = plan.resolved.checkpoint;
    if (checkpoint && run.last.iteration % checkpoint.every === 0) {
      const first = run.log[0];
      const log = first && { sequences: run.log.map((c) => c.sequence), colStart: first.colStart, position: first.position };
      writeCheckpoint(checkpoint.dir, { fingerprint: plan.fingerprint, sourceName: plan.name, trace, state: engine.exportState(), log });
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

export function completeOnline(run: OnlineRun): void {
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
  run.subscriber.next({ ...run.scaler.snapshot(final), ...finalRecord(run.plan.record, final.samples) });
  run.subscriber.complete();
}

/** The chunks received and not yet fitted (fit-online.ts: the producer is not blocked, the queue is bounded). */
export interface ChunkQueue {
  push(chunk: CscChunk): void;
  /** The input completed (`undefined`) or failed: after the queued chunks, the run completes or fails. */
  end(outcome: { error: unknown } | undefined): void;
  /** Unsubscribed: nothing more is fitted. */
  clear(): void;
}

export function makeChunkQueue(run: OnlineRun, capacity: number): ChunkQueue {
  const queue: CscChunk[] = [];
  let ended: { outcome: { error: unknown } | undefined } | undefined;
  let timer: ReturnType<typeof setImmediate> | undefined;
  const fitOldest = (): void => { const chunk = queue.shift(); if (chunk !== undefined) onOnlineChunk(run, chunk); };
  const finish = (): void => {
    if (ended === undefined || queue.length > 0 || run.failed) return;
    if (ended.outcome === undefined) completeOnline(run);
    else failOnline(run, ended.outcome.error);
  };
  const drain = (): void => {
    timer = undefined;
    if (run.failed) { queue.length = 0; return; }
    fitOldest(); // one chunk per macrotask: the producer's timers and I/O run in between
    if (queue.length > 0) timer = setImmediate(drain);
    else finish();
  };
  return {
    push(chunk) {
      if (run.failed || run.subscriber.closed) return;
      if (capacity === 0) { onOnlineChunk(run, chunk); return; }
      // Backpressure: a producer `capacity` chunks ahead waits here while the oldest is fitted.
      while (queue.length >= capacity && !run.failed) fitOldest();
      queue.push(chunk);
      timer ??= setImmediate(drain);
    },
    end(outcome) {
      ended = { outcome };
      if (queue.length === 0) finish();
    },
    clear() {
      queue.length = 0;
      if (timer !== undefined) clearImmediate(timer);
      timer = undefined;
    },
  };
}
