/**
 * fitOnline(chunks$, options): Observable<Snapshot> — online fitting over a stream that is read
 * once (a live Observable<CscChunk>, or any MatrixSource read for a single pass). Each chunk
 * updates H for its samples and W (l2: model/l2/online.ts, statistics with forgetting factor ρ;
 * l1: model/l1/online.ts, sCD over a window of recent chunks); a snapshot is emitted every `emitEvery`
 * chunks and/or when `emitEveryMs` has passed since the last one, and a final snapshot (factors
 * sorted by d) when the stream completes. Snapshots are copies the consumer owns.
 *
 * The producer is not blocked: a chunk is queued and fitted off the producer's call stack (one chunk per
 * macrotask, setImmediate), so `subject.next(chunk)` returns at once and the event loop of the app that feeds it
 * keeps running. The queue is bounded (`buffer`, default 4 chunks): a producer that gets further ahead waits in
 * next() while the oldest queued chunk is fitted — backpressure, never a drop — and a file source (which pulls its
 * next batch when next() returns) is read at most `buffer` chunks ahead. `buffer: 0` fits every chunk inside
 * next(), as before. Chunks are fitted in order whatever the timing: the same bytes for any `buffer`. A chunk's
 * arrays must not change after it is handed over (the window keeps them anyway).
 * State is created per subscription; unsubscribing unsubscribes the upstream; a bad chunk errors
 * with a typed DataError and nothing is emitted after it.
 *
 * Masks and held-out sets (`mask`, `missing: 'nan'`, `testFraction`; issue #15): each chunk is split by its global
 * sample indices (colStart + j: the batch fit's held-out set), the masked entries are left out of the codes and of W
 * (l2: model/l2/online-masked.ts, one thread; l1: model/l1/online-mask.ts), and each snapshot carries trainLoss and
 * testLoss (the held-out entries of the window, with the model after that chunk). No checkpoints; a masked l2 stream
 * whose features grow is a DataError.
 *
 * New features: a chunk may have more features than the chunks before it (a long-layout source with
 * `unknownFeatures: 'extend'`, or any Observable whose chunks' m grows); the model grows with zero rows
 * of W (and of AHᵀ for l2) that the following W-update fits from the data. A smaller m is a DataError
 * SHAPE_MISMATCH naming the chunk. Snapshots have the current m rows and the source's `featureNames`
 * as they are at that moment (its first m names). The first chunk must have at least `rank` features.
 */
import { onlineBudget, type MemoryBudget } from '../memory-limit.js';
import { availableParallelism } from 'node:os';
import { Observable, isObservable } from 'rxjs';
import type { CscChunk } from '../chunk/csc-chunk.js';
import type { CscMatrix } from '../chunk/csc-matrix.js';
import { OptionError } from '../errors.js';
import type { OnlineSettings } from '../model/engine.js';
import { familyOf, type ModelFamily } from '../model/families.js';
import { checkShape, fingerprintOf, ONLINE_W_SWEEPS, resolveFit, withSolver, type FitOptions, type ResolvedOptions } from '../options.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { isLogSource, isMatrixSource, type LogSource, type MatrixSource } from '../source/matrix-source.js';
import { recordedOptions, type FinalRecord } from '../options/recorded.js';
import { failOnline, makeChunkQueue, makeOnlineRun, startPool } from './fit-online-run.js';

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
  /**
   * Chunks received but not yet fitted (integer ≥ 0; default 4). Updates run off the producer's call stack; a
   * producer this far ahead waits in next() for the oldest update (backpressure, no chunk dropped). 0: every update
   * runs inside next().
   */
  readonly buffer?: number;
}

/** Everything fitOnline resolves before subscribing (bad options throw here, synchronously). */
export interface OnlinePlan {
  readonly resolved: ResolvedOptions;
  readonly family: ModelFamily;
  readonly settings: OnlineSettings;
  readonly emitEvery: number;
  readonly emitEveryMs: number | undefined;
  /** Threads (the family's rule); `auto`: the default, used for large chunks. */
  readonly threads: { readonly count: number; readonly auto: boolean };
  readonly chunks$: Observable<CscChunk>;
  /** A source on a log (a JetStream stream): resumed from the checkpoint's log position, not from its start. */
  readonly log: LogSource | undefined;
  readonly name: string;
  /** Read at each snapshot: a source that learns its features while it is read names them as it goes. */
  readonly namesOf: (m: number) => readonly string[] | undefined;
  /** What a checkpoint must have been made with to be resumed here. */
  readonly fingerprint: Readonly<Record<string, unknown>>;
  /** Workers to start before reading (the source says m): their count, else 1. */
  readonly earlyThreads: number;
  readonly features: number | undefined;
  /** What W and its statistics need per feature (memory-limit.ts): checked for every chunk, and by a file source. */
  readonly budget: MemoryBudget;
  /** What the final snapshot records: the options (resolved, as JSON) and the source's sample names. */
  readonly record: FinalRecord;
  /** Chunks queued ahead of the updates (`buffer`). */
  readonly buffer: number;
}

/**
 * Online fitting over a stream read once (an Observable of chunks or a MatrixSource): W is updated after every
 * chunk; a snapshot every `emitEvery` chunks and a final one when the stream completes. Bad options throw an
 * OptionError synchronously; bad data errors the Observable.
 */
export function fitOnline(input: Observable<CscChunk> | MatrixSource, options: OnlineOptions): Observable<Snapshot> {
  const plan = planOnline(input, options);
  return new Observable<Snapshot>((subscriber) => {
    const run = makeOnlineRun(plan, subscriber);
    const queue = makeChunkQueue(run, plan.buffer);
    const start = (): void => {
      const from = run.resumed?.log;
      const chunks$ = from !== undefined && plan.log !== undefined ? plan.log.chunksFrom(from, plan.budget) : plan.chunks$;
      run.subscription = chunks$.subscribe({
        next: (chunk) => queue.push(chunk),
        error: (error: unknown) => queue.end({ error }),
        complete: () => queue.end(undefined),
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
      queue.clear();
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
  if (resolved.mask !== undefined && (resolved.checkpoint !== undefined || resolved.resumeFrom !== undefined)) {
    throw new OptionError(resolved.checkpoint !== undefined ? 'checkpoint' : 'resumeFrom', 'nothing with a mask or a test set in fitOnline (masked online fits keep no checkpoints)', 'a checkpoint');
  }
  if (resolved.mask?.source !== undefined) {
    throw new OptionError('maskSource', "nothing for fitOnline (a stream's missing entries come as NaN values with missing: 'nan')", resolved.mask.source.name);
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
  // W and its statistics per feature; per sample only what reading takes (memory-limit.ts).
  const budget = onlineBudget(resolved.memoryLimit, { rank: resolved.rank, loss: resolved.loss });
  const record: FinalRecord = { options: recordedOptions(values), sampleNames: isMatrixSource(input) ? input.sampleNames : undefined };
  const base = { resolved, family, settings, emitEvery, emitEveryMs, threads, fingerprint, budget, record, buffer: values.buffer as number };
  if (isMatrixSource(input)) {
    if (input.features !== undefined) checkShape(resolved, input.features, undefined);
    const matrix = (input as { matrix?: CscMatrix }).matrix;
    const early = threads.count <= 1 ? 1 : family.online.threadsBeforeReading(resolved, threads, input.features, matrix);
    return {
      ...base, chunks$: input.chunks(budget), log: isLogSource(input) ? input : undefined, name: input.name, earlyThreads: early, features: input.features,
      // A growing dictionary may be ahead of the chunks fitted so far (it only ever appends), and it is
      // a live list: the snapshot gets a copy of its first m names.
      namesOf: (m) => { const names = input.featureNames; return names === undefined || names.length < m ? undefined : names.slice(0, m); },
    };
  }
  if (!isObservable(input)) throw new OptionError('input', 'an Observable<CscChunk> or a MatrixSource', input);
  return { ...base, chunks$: input, log: undefined, name: values.name as string, earlyThreads: 1, features: undefined, namesOf: () => undefined };
}

