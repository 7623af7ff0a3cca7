/**
 * rank 'auto' (issue #15): search a range of ranks on the cross-validation curve without fitting every rank —
 * coarse to fine: the mean test loss (crossValidate) at five ranks spread over [from, to], then, around the
 * lowest one so far, the midpoints towards its evaluated neighbours, until they are adjacent ranks. The chosen
 * rank is the one-standard-error choice over the ranks evaluated (cv-table.ts); it is then fitted on all entries
 * (no held-out set). Cost: about 5 + 2·log2((to − from) / 4) ranks instead of to − from + 1.
 */
import { filter, lastValueFrom } from 'rxjs';
import { OptionError } from '../errors.js';
import type { FitOptions } from '../options.js';
import type { Model } from '../snapshot/snapshot.js';
import type { MatrixSource } from '../source/matrix-source.js';
import { crossValidate, CV_TEST_FRACTION, type CrossValidateOptions } from './cross-validate.js';
import { cvTable, type CvFit, type CvTable } from './cv-table.js';
import { fitModel } from './fit.js';

export interface AutoRankOptions extends Omit<CrossValidateOptions, 'ranks'> {
  /** The range searched, [from, to] (integers, 1 ≤ from ≤ to ≤ min(features, samples)). Default [1, min(20, m, n)]. */
  readonly range?: readonly [number, number];
  /** Called after each round with the table of the ranks evaluated so far. */
  readonly onRound?: (table: CvTable) => void;
}

export interface AutoRankResult {
  readonly rank: number;
  /** The table of the ranks evaluated (a subset of the range). */
  readonly table: CvTable;
  /** The chosen rank fitted on all entries. */
  readonly model: Model;
}

/** The ranks of the first round: five spread evenly over [from, to] (fewer when the range is smaller). */
export function coarseRanks(from: number, to: number): number[] {
  const out = new Set<number>();
  for (let q = 0; q < 5; q++) out.add(Math.round(from + ((to - from) * q) / 4));
  return [...out].sort((a, b) => a - b);
}

/** The next ranks to evaluate: the midpoints between the lowest mean test loss and its evaluated neighbours (none: done). */
export function refineRanks(table: CvTable): number[] {
  const { ranks, testLoss } = table;
  let min = 0;
  for (let q = 1; q < ranks.length; q++) if (testLoss[q]! < testLoss[min]!) min = q;
  const out: number[] = [];
  if (min > 0 && ranks[min]! - ranks[min - 1]! > 1) out.push(Math.floor((ranks[min]! + ranks[min - 1]!) / 2));
  if (min < ranks.length - 1 && ranks[min + 1]! - ranks[min]! > 1) out.push(Math.floor((ranks[min]! + ranks[min + 1]!) / 2));
  return out;
}

/** Searches the rank coarse to fine on the CV curve: the chosen rank (1-SE rule) and the table of the ranks evaluated. */
export async function searchRank(source: MatrixSource, options: AutoRankOptions): Promise<{ rank: number; table: CvTable }> {
  const { range, onRound, ...cv } = options;
  const limit = Math.min(source.features ?? Infinity, source.samples ?? Infinity);
  const [from, to] = range ?? [1, Math.min(20, limit)];
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < from) throw new OptionError('range', 'integers [from, to] with 1 ≤ from ≤ to', range);
  if (to > limit) throw new OptionError('range', `ranks ≤ min(features, samples) = ${limit}`, to);
  const fits: CvFit[] = [];
  const replicates = cv.replicates ?? 3, testFraction = cv.testFraction ?? CV_TEST_FRACTION;
  let next = coarseRanks(from, to), table: CvTable | undefined;
  while (next.length > 0) {
    const round = await lastValueFrom(crossValidate(source, { ...cv, ranks: next }).pipe(filter((e): e is CvTable => e.kind === 'table')));
    fits.push(...round.fits);
    table = cvTable(fits, [...new Set(fits.map((f) => f.rank))], replicates, testFraction);
    onRound?.(table);
    next = refineRanks(table);
  }
  return { rank: table!.bestRank, table: table! };
}

/** rank 'auto': searchRank, then the chosen rank fitted on all entries (the options without the test set's). */
export async function fitAutoRank(source: MatrixSource, options: AutoRankOptions): Promise<AutoRankResult> {
  const { rank, table } = await searchRank(source, options);
  const { range: _range, onRound: _onRound, testFraction: _f, testSeed: _s, testZeros: _z, earlyStop: _e, replicates: _r, ...fitOptions } = options;
  const model = await fitModel(source, { ...(fitOptions as Omit<FitOptions, 'rank'>), rank });
  return { rank, table, model };
}
