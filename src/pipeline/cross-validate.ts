/**
 * crossValidate(source, { ranks, replicates, testFraction, … }): Observable<CvEvent> — the test loss of a held-out
 * speckled set per rank and replicate (issue #15). The fits (ranks × replicates, in that order) run one after the
 * other over the same re-readable source, each a masked fit (model/l2/masked-*.ts) whose test loss is accumulated
 * chunk by chunk, so it works out of core. Replicate r holds out the set of testSeed + r and starts from seed + r.
 * Emits `{ kind: 'iteration', rank, replicate, iteration, trainLoss, testLoss }` per iteration, `{ kind: 'fit', … }`
 * per fit and a final `{ kind: 'table', bestRank, minRank, ranks, testLoss, testLossSe, … }` (cv-table.ts).
 * With `earlyStop` a fit's test loss is its lowest (the iteration before the rise). Bad options throw an OptionError
 * synchronously.
 */
import { Observable, type Subscription } from 'rxjs';
import { OptionError } from '../errors.js';
import { resolveOptions, type FitOptions } from '../options.js';
import { isMatrixSource, type MatrixSource } from '../source/matrix-source.js';
import { checkRanks, cvTable, type CvFit, type CvTable } from './cv-table.js';
import { fit } from './fit.js';

export type { CvFit, CvTable } from './cv-table.js';

export interface CrossValidateOptions extends Omit<FitOptions, 'rank' | 'emit' | 'onIteration' | 'keepH' | 'checkpoint' | 'resumeFrom'> {
  /** The ranks to compare: distinct integers ≥ 1, each ≤ min(features, samples). */
  readonly ranks: readonly number[];
  /** Fits per rank, each with its own held-out set and start. Integer ≥ 1. Default 3. */
  readonly replicates?: number;
  /** The held-out fraction, in (0, 1). Default 0.05. */
  readonly testFraction?: number;
}

export interface CvPoint {
  readonly kind: 'iteration';
  readonly rank: number;
  readonly replicate: number;
  readonly iteration: number;
  readonly trainLoss: number;
  readonly testLoss: number;
}

export type CvEvent = CvPoint | CvFit | CvTable;

/** The default held-out fraction of a cross-validation (RcppML's `test_fraction` default). */
export const CV_TEST_FRACTION = 0.05;

/**
 * Cross-validation over ranks (issue #15): for each rank and replicate, a fit with the entries of a speckled test set
 * held out (a hash of feature, sample and `testSeed`), streamed chunk by chunk like any fit. Emits a point per
 * iteration (`{ rank, replicate, iteration, trainLoss, testLoss }`), a record per finished fit, and last the table
 * (mean test loss and its standard error per rank, `minRank`, and `bestRank` by the one-standard-error rule).
 * Bad options (ranks above min(m, n), a test fraction outside (0, 1)) are OptionErrors.
 */
export function crossValidate(source: MatrixSource, options: CrossValidateOptions): Observable<CvEvent> {
  if (!isMatrixSource(source)) throw new OptionError('source', 'a MatrixSource (fromCsc, fromMtx, fromArrow, fromParquet, …)', source);
  const { ranks: given, replicates = 3, testFraction = CV_TEST_FRACTION, ...rest } = options;
  const limit = source.features !== undefined && source.samples !== undefined ? Math.min(source.features, source.samples) : undefined;
  const ranks = checkRanks(given, limit);
  if (!Number.isInteger(replicates) || replicates < 1) throw new OptionError('replicates', 'an integer ≥ 1', replicates);
  for (const key of ['emit', 'onIteration', 'keepH', 'checkpoint', 'resumeFrom'] as const) {
    if ((options as unknown as Record<string, unknown>)[key] !== undefined) throw new OptionError(key, 'nothing with crossValidate (it runs its own fits)', key);
  }
  const base = resolveOptions({ ...rest, rank: Math.min(...ranks), testFraction }); // the fit options, checked now
  const jobs = ranks.flatMap((rank) => Array.from({ length: replicates }, (_, replicate) => ({ rank, replicate })));
  return new Observable<CvEvent>((subscriber) => {
    const fits: CvFit[] = [];
    let current: Subscription | undefined;
    const run = (q: number): void => {
      if (subscriber.closed) return;
      if (q === jobs.length) {
        subscriber.next(cvTable(fits, ranks, replicates, testFraction));
        subscriber.complete();
        return;
      }
      const { rank, replicate } = jobs[q]!;
      const started = performance.now();
      let lowest = Infinity;
      const onIteration = (p: { iteration: number; trainLoss?: number; testLoss?: number }): void => {
        lowest = Math.min(lowest, p.testLoss ?? Infinity);
        subscriber.next({ kind: 'iteration', rank, replicate, iteration: p.iteration, trainLoss: p.trainLoss ?? NaN, testLoss: p.testLoss ?? NaN });
      };
      current = fit(source, {
        ...rest, rank, testFraction, testSeed: base.mask!.testSeed + replicate, seed: base.seed + replicate, emit: 'final', onIteration,
      }).subscribe({
        next: (model) => {
          const record: CvFit = {
            // with earlyStop the fit ends one iteration past its lowest test loss: that lowest one is the fit's (RcppML's best_iter)
            kind: 'fit', rank, replicate, iterations: model.iteration, trainLoss: model.trainLoss ?? NaN,
            testLoss: rest.earlyStop === true ? lowest : model.testLoss ?? NaN,
            seconds: (performance.now() - started) / 1000,
          };
          fits.push(record);
          subscriber.next(record);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => run(q + 1),
      });
    };
    run(0);
    return () => current?.unsubscribe();
  });
}
