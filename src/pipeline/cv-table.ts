/**
 * The table of a cross-validation over ranks (issue #15): per rank the mean test loss over the replicates and its
 * standard error, the rank of the minimum (`minRank`) and the one-standard-error choice (`bestRank`: the smallest
 * rank whose mean test loss is within one standard error of the minimum's). Pure functions; no RxJS.
 */
import { OptionError } from '../errors.js';

/** One fit of the cross-validation: its final train and test loss (mean squared errors). */
export interface CvFit {
  readonly kind: 'fit';
  readonly rank: number;
  readonly replicate: number;
  readonly iterations: number;
  readonly trainLoss: number;
  readonly testLoss: number;
  readonly seconds: number;
}

export interface CvTable {
  readonly kind: 'table';
  /** The one-standard-error choice. */
  readonly bestRank: number;
  /** The rank of the minimum mean test loss. */
  readonly minRank: number;
  /** Ascending; testLoss, testLossSe and trainLoss are per rank in this order. */
  readonly ranks: readonly number[];
  readonly testLoss: readonly number[];
  /** Standard error of the mean over replicates (sample standard deviation / √replicates; 0 with one replicate). */
  readonly testLossSe: readonly number[];
  readonly trainLoss: readonly number[];
  readonly replicates: number;
  readonly testFraction: number;
  readonly fits: readonly CvFit[];
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** The table of the fits (every rank of `ranks` must have at least one). A non-finite test loss counts as +∞. */
export function cvTable(fits: readonly CvFit[], ranks: readonly number[], replicates: number, testFraction: number): CvTable {
  const sorted = [...ranks].sort((a, b) => a - b);
  const testLoss: number[] = [], testLossSe: number[] = [], trainLoss: number[] = [];
  for (const rank of sorted) {
    const mine = fits.filter((f) => f.rank === rank);
    const test = mine.map((f) => (Number.isFinite(f.testLoss) ? f.testLoss : Infinity));
    const mu = mean(test);
    testLoss.push(mu);
    const sd = test.length > 1 && Number.isFinite(mu) ? Math.sqrt(test.reduce((s, x) => s + (x - mu) ** 2, 0) / (test.length - 1)) : 0;
    testLossSe.push(sd / Math.sqrt(test.length));
    trainLoss.push(mean(mine.map((f) => f.trainLoss)));
  }
  let min = 0;
  for (let r = 1; r < sorted.length; r++) if (testLoss[r]! < testLoss[min]!) min = r;
  const bound = testLoss[min]! + testLossSe[min]!;
  const best = testLoss.findIndex((t) => t <= bound);
  return {
    kind: 'table', bestRank: sorted[best]!, minRank: sorted[min]!, ranks: sorted, testLoss, testLossSe, trainLoss, replicates, testFraction, fits,
  };
}

/** Checks the ranks of a cross-validation: a non-empty list of distinct integers ≥ 1 (and ≤ `limit` when known). */
export function checkRanks(ranks: unknown, limit?: number): readonly number[] {
  if (!Array.isArray(ranks) || ranks.length === 0 || !ranks.every((r) => Number.isInteger(r) && (r as number) >= 1)) {
    throw new OptionError('ranks', 'a non-empty array of integers ≥ 1', ranks);
  }
  if (new Set(ranks).size !== ranks.length) throw new OptionError('ranks', 'distinct ranks', ranks);
  const above = (ranks as number[]).find((r) => limit !== undefined && r > limit);
  if (above !== undefined) throw new OptionError('ranks', `ranks ≤ min(features, samples) = ${limit}`, above);
  return ranks as number[];
}

/** "2:20" (every rank), "2:20:2" (a step) or "2,4,8" (a list) → the ranks. Throws OptionError naming `flag`. */
export function parseRanks(text: string, flag = '--ranks'): number[] {
  const range = /^\s*(\d+)\s*:\s*(\d+)\s*(?::\s*(\d+)\s*)?$/.exec(text);
  if (range) {
    const [from, to, step] = [Number(range[1]), Number(range[2]), Number(range[3] ?? 1)];
    if (from < 1 || to < from || step < 1) throw new OptionError(flag, 'FROM:TO[:STEP] with 1 ≤ FROM ≤ TO and STEP ≥ 1', text);
    const out: number[] = [];
    for (let r = from; r <= to; r += step) out.push(r);
    return out;
  }
  const list = text.split(',').map((s) => s.trim());
  if (list.some((s) => !/^\d+$/.test(s))) throw new OptionError(flag, 'FROM:TO[:STEP] or a comma-separated list of ranks', text);
  return list.map(Number);
}
