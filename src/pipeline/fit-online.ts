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
import { Observable, isObservable, type Subscription } from 'rxjs';
import { checkChunk } from '../chunk/check-chunk.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { DataError, NmfError, OptionError } from '../errors.js';
import { checkShape, fingerprintOf, ONLINE_W_SWEEPS, resolveOptions, withSolver, type FitOptions } from '../options.js';
import { readCheckpointFor, writeCheckpoint } from '../io/checkpoint.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';
import { isMatrixSource, type MatrixSource } from '../source/matrix-source.js';
import { l2Snapshot } from '../model/l2/snapshot.js';
import { makeL1Pool } from '../parallel/l1-pool.js';
import { makeL2Pool, type L2Pool } from '../parallel/l2-pool.js';
import type { L1Runner } from '../model/l1/engine.js';
import { threadsFor } from './fit.js';
import {
  attachOnlineL2Runner, exportOnlineL2, growOnlineL2, importOnlineL2, makeOnlineL2, onlineStepL2, rememberOnlineL2, type OnlineL2,
} from '../model/l2/online.js';
import { makeOnlineL1, type OnlineL1 } from '../model/l1/online.js';
import { NNLS_CD_WARM } from '../kernel/nnls-solve.js';

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

/** The l2 window of solver 'fast' (bench/README.md, bench:online: the default that meets both goals). */
const FAST_WINDOW = 4;

/** Nonzeros in a chunk from which the default `threads` starts workers. */
const LARGE_CHUNK_NNZ = 20_000;

export function fitOnline(input: Observable<CscChunk> | MatrixSource, options: OnlineOptions): Observable<Snapshot> {
  // l2 'fast' (the default): warm-started CD sweeps (model/l2/online.ts); 'exact': exact NNLS, cold H starts.
  const resolved = withSolver(resolveOptions(options), options);
  const fast = resolved.loss === 'l2' && resolved.nnlsMethod === NNLS_CD_WARM;
  const rho = options.forgetting ?? 1;
  if (!(rho > 0 && rho <= 1)) throw new OptionError('forgetting', 'a number in (0, 1]', rho);
  const emitEvery = options.emitEvery ?? 1;
  if (!Number.isInteger(emitEvery) || emitEvery < 1) throw new OptionError('emitEvery', 'an integer ≥ 1', emitEvery);
  const emitEveryMs = options.emitEveryMs;
  const window = options.window ?? (resolved.loss === 'l1' ? 8 : fast ? FAST_WINDOW : 1);
  if (!Number.isInteger(window) || window < 1) throw new OptionError('window', 'an integer ≥ 1 (chunks)', window);
  const sweeps = options.sweeps ?? 1;
  if (!Number.isInteger(sweeps) || sweeps < 1) throw new OptionError('sweeps', 'an integer ≥ 1', sweeps);
  if (resolved.loss === 'l1' && rho !== 1) throw new OptionError('forgetting', "1 with loss 'l1' (its memory is the window)", rho);
  if (resolved.checkpoint?.chunks !== undefined) {
    throw new OptionError('checkpoint.chunks', 'nothing for online fits (every chunk is an iteration: use checkpoint.every)', resolved.checkpoint.chunks);
  }
  if (emitEveryMs !== undefined && !(emitEveryMs >= 0)) throw new OptionError('emitEveryMs', 'a number ≥ 0', emitEveryMs);
  // An SVD start reads A 6 times; a live stream is read once (an SVD of the first chunk alone would be another method).
  if (resolved.initMethod === 'nndsvd' || resolved.initMethod === 'nndsvda') {
    throw new OptionError('init', "'random' or explicit arrays { W } for fitOnline (an SVD start needs 6 passes over A; use fit)", resolved.initMethod);
  }
  // Threads (l2 with the diagonal only, as in fit; l1); `auto` = the default, used for large chunks.
  const threads = resolved.loss === 'l1' || resolved.diag
    ? { count: resolved.threads ?? Math.max(1, availableParallelism()), auto: resolved.threads === undefined }
    : { count: 1, auto: false };
  let chunks$: Observable<CscChunk>;
  let name: string;
  // Read at each snapshot: a source that learns its features while it is read names them as it goes.
  let namesOf = (_m: number): readonly string[] | undefined => undefined;
  if (isMatrixSource(input)) {
    chunks$ = input.chunks();
    name = input.name;
    namesOf = (m) => {
      const names = input.featureNames;
      // A growing dictionary may be ahead of the chunks fitted so far (it only ever appends), and it is
      // a live list: the snapshot gets a copy of its first m names.
      return names === undefined || names.length < m ? undefined : names.slice(0, m);
    };
    if (input.features !== undefined) checkShape(resolved, input.features, undefined);
  } else if (isObservable(input)) {
    chunks$ = input;
    name = options.name ?? 'live stream';
  } else {
    throw new OptionError('input', 'an Observable<CscChunk> or a MatrixSource', input);
  }

  // What a checkpoint must have been made with to be resumed here.
  const fingerprint = { ...fingerprintOf(resolved), window, sweeps, ...(resolved.loss === 'l2' ? { forgetting: rho } : {}) };

  return new Observable<Snapshot>((subscriber) => {
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    let online: OnlineL2 | undefined;
    let onlineL1: OnlineL1 | undefined;
    let lastEmit = performance.now();
    let sinceEmit = 0;
    let last: (TracePoint & { converged: boolean }) | undefined;
    const trace: TracePoint[] = [];
    let failed = false;
    // Resuming: the checkpoint's state is loaded at the first chunk, and the chunks it had already
    // consumed are skipped (the input must deliver the same chunks again, from the start).
    let resumed = resolved.resumeFrom !== undefined ? readCheckpointFor(resolved.resumeFrom, fingerprint) : undefined;
    if (resumed) trace.push(...resumed.trace);
    let toSkip = resumed?.state.numbers.chunks ?? 0;
    let pendingWindow = 0;
    const snapshot = (final: boolean): Snapshot => onlineL1 ? onlineL1.snapshot(last!, final, trace, namesOf(onlineL1.features)) : l2Snapshot(online!.state, last!, final, trace, {
      samples: online!.samplesSeen, nnz: online!.nnzSeen, samplesSeen: online!.samplesSeen, nnzSeen: online!.nnzSeen,
      keepH: false, featureNames: namesOf(online!.state.m),
    }, online!.runner?.counts());
    // Worker threads: started before reading when that is possible (l2: the source says m; l1: a given
    // `threads`), else at the first chunk (a given `threads`) or the first large chunk (default); until
    // they are up, chunks are solved here. Either way the model is the same bytes.
    let pool: L2Pool | L1Runner | undefined;
    let poolReady = false;
    let poolAttached = false;
    let poolFailure: unknown;
    const startPool = (m: number, count: number): L2Pool | L1Runner => {
      const started = resolved.loss === 'l1' ? makeL1Pool(count, resolved.rank) : makeL2Pool(m, resolved, count, true);
      started.ready.then(() => { poolReady = true; }, (error: unknown) => { poolFailure = error; });
      return started;
    };
    const usePool = (chunk: CscChunk): void => {
      const nnz = chunk.colPtr[chunk.n]!;
      if (pool === undefined && (!threads.auto || nnz >= LARGE_CHUNK_NNZ || chunk.m * resolved.rank >= 200_000)) {
        pool = startPool(chunk.m, threads.count);
      }
      if (poolFailure !== undefined && !threads.auto) throw poolFailure;
      if (!poolReady || poolAttached) return;
      poolAttached = true;
      if (online) attachOnlineL2Runner(online, pool as L2Pool); else onlineL1!.attach(pool as L1Runner);
    };
    if (threads.count > 1 && isMatrixSource(input)) {
      // the `threads` option, or the cores when the source is large (l2: threadsFor's rule)
      const count = resolved.loss === 'l2' ? (input.features === undefined ? 1 : threadsFor(input, resolved)) : threads.auto ? 1 : threads.count;
      if (count > 1) pool = startPool(input.features ?? 0, count);
    }
    const fail = (error: unknown): void => {
      failed = true;
      pool?.close();
      subscriber.error(error instanceof NmfError ? error : new NmfError('NUMERICAL', String((error as Error)?.message ?? error), { cause: error }));
    };
    const observer = {
      next: (chunk: CscChunk) => {
        // subscriber.closed: a synchronous source keeps delivering until its subscribe returns, even
        // after the consumer unsubscribed; no work (and no checkpoint) is done for those chunks.
        if (failed || subscriber.closed) return;
        try {
          checkChunk(chunk, name);
          if (online === undefined && onlineL1 === undefined) {
            checkShape(resolved, chunk.m, undefined);
            if (resolved.loss === 'l1') onlineL1 = makeOnlineL1(chunk.m, resolved, window, sweeps);
            else online = makeOnlineL2(chunk.m, resolved, { window, sweeps, warmup: resolved.warmupIterations, wSweeps: options.nnlsMaxSweeps ?? ONLINE_W_SWEEPS });
            if (resumed) {
              if (online) pendingWindow = importOnlineL2(online, resumed.state); else onlineL1!.importState(resumed.state);
              resumed = undefined;
            }
          }
          if (toSkip > 0) {
            toSkip--;
            // the saved window's data comes from the input again
            if (onlineL1) onlineL1.remember(chunk); else rememberOnlineL2(online!, chunk, pendingWindow);
            return;
          }
          // The features may grow from chunk to chunk (new rows of W start at 0), never shrink.
          const features = onlineL1 ? onlineL1.features : online!.state.m;
          if (chunk.m < features) {
            throw new DataError('SHAPE_MISMATCH', `chunk has ${chunk.m} features but the model already has ${features} (features may be added, not removed)`,
              { source: name, batch: chunk.position });
          }
          if (online && chunk.m > features) growOnlineL2(online, chunk.m);
          if (threads.count > 1) usePool(chunk);
          if (onlineL1 !== undefined) {
            const previous = (last ?? trace.at(-1))?.objective ?? Infinity;
            const result = onlineL1.step(chunk);
            last = { iteration: onlineL1.chunks, relativeLoss: result.relativeLoss, objective: result.objective, tol: previous - result.objective, seconds: seconds(), converged: false };
          } else {
            if (online!.runner) online!.runner.resetCounts(); else online!.state.ws.counts.fill(0);
            const result = onlineStepL2(online!, chunk, resolved, rho, name);
            last = { iteration: online!.chunks, relativeLoss: result.relativeLoss, objective: result.relativeLoss, tol: result.tol, seconds: seconds(), converged: false };
          }
          trace.push({ iteration: last.iteration, relativeLoss: last.relativeLoss, objective: last.objective, tol: last.tol, seconds: last.seconds });
          if (resolved.checkpoint && last.iteration % resolved.checkpoint.every === 0) {
            const state = online ? exportOnlineL2(online) : onlineL1!.exportState();
            writeCheckpoint(resolved.checkpoint.dir, { fingerprint, sourceName: name, trace, state });
          }
          sinceEmit += 1;
          const now = performance.now();
          if (sinceEmit >= emitEvery || (emitEveryMs !== undefined && now - lastEmit >= emitEveryMs)) {
            sinceEmit = 0;
            lastEmit = now;
            subscriber.next(snapshot(false));
          }
        } catch (error) {
          fail(error);
        }
      },
      error: (error: unknown) => { if (!failed) fail(error); },
      complete: () => {
        if (failed) return;
        if ((online === undefined && onlineL1 === undefined) || last === undefined) {
          fail(new NmfError('EMPTY_INPUT', `the stream ${name} completed without any chunk`));
          return;
        }
        pool?.close();
        subscriber.next(snapshot(true));
        subscriber.complete();
      },
    };
    let subscription: Subscription | undefined;
    const start = (): void => {
      subscription = chunks$.subscribe(observer);
      if (failed) subscription.unsubscribe();
    };
    // A source that says m: its workers are started first and it is read once they are up (a cold
    // source loses nothing by waiting; a synchronous one would otherwise never give them a chance).
    if (pool !== undefined) pool.ready.then(() => { if (!failed) start(); }, (error: unknown) => fail(error));
    else start();
    return () => {
      failed = true;
      subscription?.unsubscribe();
      pool?.close();
    };
  });
}
