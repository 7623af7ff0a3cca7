/**
 * fit(source, options): Observable<Snapshot> — the multi-pass batch algorithm over a re-readable
 * source. Each pass subscribes to `source.chunks()` once; every chunk goes through the engine's
 * `step`; at the end of the pass the engine updates W and the driver emits one snapshot. When the
 * stopping rule holds (or maxIterations is reached) it emits the final snapshot and completes.
 *
 * State is created per subscription: two subscribers fit two independent models. Unsubscribing
 * stops the current pass's source subscription (closing its file handles) and any pending pass.
 */
import { Observable, lastValueFrom } from 'rxjs';
import { OptionError } from '../errors.js';
import { familyOf } from '../model/families.js';
import { checkShape, resolveFit, withSolver, type FitOptions, type ResolvedOptions } from '../options.js';
import type { Model, Snapshot } from '../snapshot/snapshot.js';
import { maskedSource } from '../source/mask-source.js';
import { isMatrixSource, type MatrixSource } from '../source/matrix-source.js';
import { beginRun, failRun, matrixOf, stopRun, type FitRun } from './fit-run.js';
import { nndsvdStart } from './nndsvd-start.js';
import { makeDataWatch } from '../chunk/data-fingerprint.js';
import { watchedSource } from '../source/watch-data.js';
import { fitBudget } from '../memory-limit.js';
import { makeValueScale } from './value-scale.js';
import { recordedOptions } from '../options/recorded.js';

/**
 * The multi-pass batch fit of A ≈ W·diag(d)·H over a re-readable source: a snapshot per iteration (or only the
 * final one with `emit: 'final'`), the final one with the factors sorted by d, its `trace`, `options` and, where the
 * source names them, `sampleNames`. Bad options throw an OptionError synchronously; bad data errors the Observable.
 */
export function fit(given: MatrixSource, options: FitOptions): Observable<Snapshot> {
  if (!isMatrixSource(given)) throw new OptionError('source', 'a MatrixSource (fromCsc, fromMtx, fromArrow, fromParquet, …)', given);
  const { resolved: plain, values } = resolveFit('fit', options);
  const resolved = withSolver(plain, options);
  // A mask source: its entries come as NaN entries of the data (mask-source.ts), before the values are scaled.
  const maskSource = resolved.mask?.source as MatrixSource | undefined;
  const masked = maskSource === undefined ? given : maskedSource(given, maskSource, resolved.mask!.nan);
  // Values far from 1 are fitted scaled by a power of two (exact), d unscaled at the end (value-scale.ts).
  const scale = makeValueScale(masked);
  const source = scale.source;
  if (!source.rereadable) throw new OptionError('source', 'a re-readable source for a multi-pass fit (use online fitting for live streams)', source.name);
  const record = { options: recordedOptions(maskSource ? { ...values, maskSource: maskSource.name } : values), sampleNames: given.sampleNames };
  if (source.features !== undefined) checkShape(resolved, source.features, source.samples);
  const family = familyOf(resolved.loss);
  if (!family.checkpointsWithinPass && resolved.checkpoint?.chunks !== undefined) {
    throw new OptionError('checkpoint.chunks', "loss 'l2' for checkpoints within a pass (l1 writes them at iteration boundaries)", resolved.checkpoint.chunks);
  }
  // What W, H and the statistics need per feature and sample: checked before a chunk reaches the engine (memory-limit.ts).
  const budget = fitBudget(resolved.memoryLimit, { rank: resolved.rank, loss: resolved.loss, threads: resolved.threads });
  return scale.unscaled(new Observable<Snapshot>((subscriber) => {
    const run: FitRun = {
      source, resolved, family, subscriber, started: performance.now(), trace: [], failed: false, startOptions: resolved, resumeSkip: 0,
      budget, watch: makeDataWatch(source.name), record,
    };
    // The SVD start runs before the first pass (its time counts in elapsedSeconds); a resumed fit
    // takes W and H from its checkpoint instead.
    if ((resolved.initMethod === 'nndsvd' || resolved.initMethod === 'nndsvda') && resolved.resumeFrom === undefined) startWithSvd(run);
    else beginRun(run);
    return () => stopRun(run);
  }));
}

/** init 'nndsvd' / 'nndsvda': the SVD start's passes, then the fit with its W (and, l1, H) as the explicit start. */
function startWithSvd(run: FitRun): void {
  const { resolved, source, family } = run;
  const svd$ = nndsvdStart(watchedSource(source, run.watch), {
    rank: resolved.rank, seed: resolved.seed, fill: resolved.initMethod === 'nndsvda', wasm: resolved.wasm, withH: family.startsWithH,
  });
  run.startup = svd$.subscribe({
    next: (start) => {
      try {
        checkShape(resolved, start.m, start.n);
        run.startOptions = { ...resolved, initW: start.W, initH: family.startsWithH ? start.H : undefined };
        run.initSeconds = start.seconds;
      } catch (error) {
        failRun(run, error);
      }
    },
    error: (error: unknown) => failRun(run, error),
    complete: () => {
      run.startup = undefined;
      if (!run.failed) beginRun(run);
    },
  });
}

/** The final model of a fit, as a promise. */
export async function fitModel(source: MatrixSource, options: FitOptions): Promise<Model> {
  return await lastValueFrom(fit(source, options)) as Model;
}

/**
 * The `threads` option, or by default the available cores when the problem is large enough to
 * gain: an in-memory matrix with ≥ 200 000 nonzeros or features × rank ≥ 200 000, or any file or
 * streamed source. Out-of-core l1 runs on one thread; in-memory l1 splits its half-sweeps
 * (the family's rule: model/families.ts batchThreads).
 */
export function threadsFor(source: MatrixSource, options: ResolvedOptions): number {
  return familyOf(options.loss).batchThreads(options, matrixOf(source));
}
