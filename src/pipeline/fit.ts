/**
 * fit(source, options): Observable<Snapshot> — the multi-pass batch algorithm over a re-readable
 * source. Each pass subscribes to `source.chunks()` once; every chunk goes through the engine's
 * `step`; at the end of the pass the engine updates W and the driver emits one snapshot. When the
 * stopping rule holds (or maxIterations is reached) it emits the final snapshot and completes.
 *
 * State is created per subscription: two subscribers fit two independent models. Unsubscribing
 * stops the current pass's source subscription (closing its file handles) and any pending pass.
 */
import { availableParallelism } from 'node:os';
import { Observable, firstValueFrom, lastValueFrom, type Subscription } from 'rxjs';
import { checkChunk } from '../chunk/check-chunk.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { DataError, NmfError, OptionError } from '../errors.js';
import { readCheckpointFor, writeCheckpoint } from '../io/checkpoint.js';
import { checkShape, fingerprintOf, resolveOptions, withSolver, type FitOptions, type ResolvedOptions } from '../options.js';
import type { Model, Snapshot, TracePoint } from '../snapshot/snapshot.js';
import type { CscMatrix } from '../chunk/csc-matrix.js';
import { isMatrixSource, type MatrixSource } from '../source/matrix-source.js';
import type { Engine, EngineContext } from '../model/engine.js';
import { makeL2Engine } from '../model/l2/engine.js';
import { NNLS_CD_WARM } from '../kernel/nnls-solve.js';
import { makeL1Engine } from '../model/l1/engine.js';
import { makeL1StreamEngine } from '../model/l1/stream-engine.js';
import { makeFeatureMajorStore } from '../io/feature-major.js';
import { makeL2Pool, type L2Pool } from '../parallel/l2-pool.js';
import { makeL1Pool } from '../parallel/l1-pool.js';
import { nndsvdStart } from './nndsvd-start.js';

export function fit(source: MatrixSource, options: FitOptions): Observable<Snapshot> {
  if (!isMatrixSource(source)) throw new OptionError('source', 'a MatrixSource (fromCsc, fromMtx, fromArrow, fromParquet, …)', source);
  if (!source.rereadable) throw new OptionError('source', 'a re-readable source for a multi-pass fit (use online fitting for live streams)', source.name);
  const resolved = withSolver(resolveOptions(options), options);
  if (source.features !== undefined) checkShape(resolved, source.features, source.samples);
  if (resolved.loss === 'l1' && resolved.checkpoint?.chunks !== undefined) {
    throw new OptionError('checkpoint.chunks', "loss 'l2' for checkpoints within a pass (l1 writes them at iteration boundaries)", resolved.checkpoint.chunks);
  }
  return new Observable<Snapshot>((subscriber) => {
    const started = performance.now();
    const seconds = (): number => (performance.now() - started) / 1000;
    const trace: TracePoint[] = [];
    let engine: Engine | undefined;
    let pass: Subscription | undefined;
    let pending: ReturnType<typeof setImmediate> | undefined;
    let failed = false;
    // init 'nndsvd' / 'nndsvda': the SVD start's passes, then the options with its W (and, l1, H) as the explicit start
    let startup: Subscription | undefined;
    let startOptions: ResolvedOptions = resolved;
    let initSeconds: number | undefined;
    const withInit = (s: Snapshot): Snapshot => (initSeconds === undefined ? s : { ...s, initSeconds });

    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      startup?.unsubscribe();
      pass?.unsubscribe();
      engine?.close();
      subscriber.error(error instanceof NmfError ? error
        : new NmfError('NUMERICAL', `fit failed: ${(error as Error)?.message ?? String(error)}`, { cause: error }));
    };

    // Chunks of the first pass to skip after resuming from a mid-pass checkpoint.
    let resumeSkip = 0;
    const resumeInto = (target: Engine): void => {
      const resumed = resume(target, resolved, resolved.resumeFrom!);
      trace.push(...resumed.trace);
      resumeSkip = resumed.passChunks;
    };

    const runPass = (): void => {
      pending = undefined;
      let skip = resumeSkip;
      resumeSkip = 0;
      let chunks = 0;
      let began = false;
      let samplesRead = 0;
      let nnzRead = 0;
      const onChunk = (chunk: CscChunk): void => {
        if (failed || subscriber.closed) return; // closed: unsubscribed during a synchronous pass
        try {
          checkChunk(chunk, source.name);
          if (engine === undefined) {
            checkShape(resolved, chunk.m, source.samples);
            engine = makeEngine(source, chunk.m, startOptions, undefined);
            if (resolved.resumeFrom !== undefined) {
              resumeInto(engine);
              skip = resumeSkip;
              resumeSkip = 0;
            }
          }
          chunks++;
          // Resumed from a mid-pass checkpoint: the chunks it had done in this pass are read, not redone.
          if (skip > 0) { skip--; return; }
          if (!began) { engine.beginPass(); began = true; }
          engine.step(chunk);
          const every = resolved.checkpoint?.chunks;
          if (every !== undefined && chunks % every === 0 && engine.exportPassState) {
            writeCheckpoint(resolved.checkpoint!.dir, {
              fingerprint: fingerprintOf(resolved), sourceName: source.name, trace, state: engine.exportPassState(chunks),
            });
          }
          if (resolved.onChunk) {
            samplesRead += chunk.n;
            nnzRead += chunk.colPtr[chunk.n]!;
            resolved.onChunk({ iteration: (trace.at(-1)?.iteration ?? 0) + 1, samples: samplesRead, nnz: nnzRead });
          }
        } catch (error) {
          fail(error);
        }
      };
      const onComplete = (): void => {
        if (failed || subscriber.closed) return;
        try {
          if (engine === undefined || chunks === 0) {
            throw new DataError('EMPTY_INPUT', 'the source produced no chunks', { source: source.name });
          }
          if (!began) engine.beginPass();
          finishIteration(engine);
        } catch (error) {
          fail(error);
        }
      };
      if (engine !== undefined && !engine.readsData()) {
        try { finishIteration(engine); } catch (error) { fail(error); }
        return;
      }
      // An error from the source itself (not an NmfError: the user's Observable, a network) is an IO error.
      const sourceFailed = (error: unknown): void => fail(error instanceof NmfError ? error
        : new NmfError('IO', `source ${source.name} failed: ${(error as Error)?.message ?? String(error)}`, { location: { source: source.name }, cause: error }));
      const subscription = source.chunks().subscribe({ next: onChunk, error: sourceFailed, complete: onComplete });
      if (failed) subscription.unsubscribe();
      else pass = subscription;
    };

    /** End of an iteration: emit its snapshot(s); then the final snapshot, or schedule the next pass. */
    const finishIteration = (engine: Engine): void => {
      const { early, summary } = engine.endPass(seconds());
      for (const s of early) {
        trace.push(pointOf({ ...s, seconds: s.elapsedSeconds }));
        resolved.onIteration?.(trace.at(-1)!);
        if (resolved.emit === 'every') subscriber.next(withInit(s));
      }
      if (summary === undefined) {
        // an internal pass: no iteration completed; wait for workers the engine may be starting
        const waiting = engine.whenReady?.();
        if (waiting) waiting.then(() => { if (!failed) pending = setImmediate(runPass); }, fail);
        else pending = setImmediate(runPass);
        return;
      }
      trace.push(pointOf(summary));
      const last = summary.converged || summary.iteration >= resolved.maxIterations;
      if (!last && resolved.checkpoint && summary.iteration % resolved.checkpoint.every === 0) {
        writeCheckpoint(resolved.checkpoint.dir, {
          fingerprint: fingerprintOf(resolved), sourceName: source.name, trace, state: engine.exportState(),
        });
      }
      resolved.onIteration?.(trace.at(-1)!);
      if (resolved.emit === 'every') subscriber.next(withInit(engine.snapshot(summary, false, trace)));
      if (last) {
        const final = withInit(engine.snapshot(summary, true, trace));
        engine.close();
        subscriber.next(final);
        subscriber.complete();
      } else {
        pending = setImmediate(runPass);
      }
    };

    // With worker threads the pool is made (and its workers started) before the first pass, so that
    // no pass ever waits synchronously on a worker that is still loading.
    const begin = (): void => {
      const threads = threadsFor(source, resolved);
      if (threads > 1 && resolved.loss === 'l2') {
        void (async () => {
          const m = source.features ?? await peekFeatures(source);
          if (failed) return;
          checkShape(resolved, m, source.samples);
          const pool = makeL2Pool(m, startOptions, threads);
          engine = makeEngine(source, m, startOptions, pool);
          if (resolved.resumeFrom !== undefined) resumeInto(engine);
          await pool.ready;
          if (!failed) runPass();
        })().catch(fail);
      } else {
        runPass();
      }
    };
    // The SVD start runs before the first pass (its time counts in elapsedSeconds); a resumed fit
    // takes W and H from its checkpoint instead.
    if ((resolved.initMethod === 'nndsvd' || resolved.initMethod === 'nndsvda') && resolved.resumeFrom === undefined) {
      const svd$ = nndsvdStart(source, {
        rank: resolved.rank, seed: resolved.seed, fill: resolved.initMethod === 'nndsvda', wasm: resolved.wasm, withH: resolved.loss === 'l1',
      });
      startup = svd$.subscribe({
        next: (start) => {
          try {
            checkShape(resolved, start.m, start.n);
            startOptions = { ...resolved, initW: start.W, initH: resolved.loss === 'l1' ? start.H : undefined };
            initSeconds = start.seconds;
          } catch (error) {
            fail(error);
          }
        },
        error: fail,
        complete: () => {
          startup = undefined;
          if (!failed) begin();
        },
      });
    } else {
      begin();
    }
    return () => {
      failed = true;
      startup?.unsubscribe();
      pass?.unsubscribe();
      if (pending !== undefined) clearImmediate(pending);
      engine?.close();
    };
  });
}

/** The final model of a fit, as a promise. */
export async function fitModel(source: MatrixSource, options: FitOptions): Promise<Model> {
  return await lastValueFrom(fit(source, options)) as Model;
}

function makeEngine(source: MatrixSource, m: number, options: ResolvedOptions, pool: L2Pool | undefined): Engine {
  const context: EngineContext = { sourceName: source.name, featureNames: source.featureNames, threads: pool?.threads ?? 1 };
  if (options.loss === 'l2') return makeL2Engine(m, options, context, pool);
  const matrix = (source as { matrix?: CscMatrix }).matrix;
  // In memory when the source is an in-memory matrix; otherwise out of core, with a feature-major
  // copy of A in temporary files (removed when the fit ends, fails or is unsubscribed).
  if (matrix !== undefined) {
    const threads = threadsFor(source, options);
    return makeL1Engine(m, options, { ...context, threads }, matrix, threads > 1 ? makeL1Pool(threads, options.rank) : undefined);
  }
  return makeL1StreamEngine(m, options, context, makeFeatureMajorStore(m, options.tempDir === undefined ? {} : { dir: options.tempDir }));
}

/**
 * The `threads` option, or by default the available cores when the problem is large enough to
 * gain: an in-memory matrix with ≥ 200 000 nonzeros or features × rank ≥ 200 000, or any file or
 * streamed source. Out-of-core l1 runs on one thread; in-memory l1 splits its half-sweeps.
 */
export function threadsFor(source: MatrixSource, options: ResolvedOptions): number {
  const matrix = (source as { matrix?: CscMatrix }).matrix;
  if (options.loss === 'l1' && matrix === undefined) return 1; // out-of-core l1 runs on one thread
  if (options.threads !== undefined) return options.diag ? options.threads : 1;
  if (!options.diag) return 1; // diag: false runs on one thread
  // The fast solver's pass in WebAssembly: two threads were slower than one in every measurement on this
  // 2-core machine (bench/results/time-to-loss-2026-12-06-final.json, load 4–7), so more only on request.
  if (options.loss === 'l2' && options.nnlsMethod === NNLS_CD_WARM && options.wasm) return 1;
  const large = matrix === undefined || matrix.values.length >= 200_000 || matrix.m * options.rank >= 200_000;
  return large ? Math.max(1, availableParallelism()) : 1;
}

/** The number of features of a source that does not say: read its first chunk, then stop reading. */
async function peekFeatures(source: MatrixSource): Promise<number> {
  const first = await firstValueFrom(source.chunks(), { defaultValue: undefined });
  if (first === undefined) throw new DataError('EMPTY_INPUT', 'the source produced no chunks', { source: source.name });
  return first.m;
}

/** Loads a checkpoint into a fresh engine; returns the trace it carried and the chunks of the pass it had done. */
function resume(engine: Engine, options: ResolvedOptions, dir: string): { trace: TracePoint[]; passChunks: number } {
  const checkpoint = readCheckpointFor(dir, fingerprintOf(options));
  const done = checkpoint.trace.at(-1)?.iteration ?? 0;
  if (done >= options.maxIterations) {
    throw new OptionError('maxIterations', `more than the ${done} iterations the checkpoint has done (to continue from it)`, options.maxIterations);
  }
  engine.importState(checkpoint.state);
  return { trace: checkpoint.trace.map(pointOf), passChunks: checkpoint.state.numbers.passChunks ?? 0 };
}

function pointOf(s: TracePoint): TracePoint {
  return { iteration: s.iteration, relativeLoss: s.relativeLoss, objective: s.objective, tol: s.tol, seconds: s.seconds };
}
