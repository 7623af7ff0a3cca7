/**
 * The report's plot of a cross-validation over ranks (issue #15): mean train and test loss against the rank, the
 * test loss with ± one standard error, the chosen rank (one-standard-error rule) marked by a rule and the minimum
 * by a point. Reads the table `nmflow cv --out` writes (pipeline/cv-table.ts CvTable; structural here).
 */
import type { TopLevelSpec } from 'vega-lite';

/** What the plot needs of a CV table. */
export interface CvCurve {
  readonly ranks: readonly number[];
  readonly trainLoss: readonly number[];
  readonly testLoss: readonly number[];
  readonly testLossSe: readonly number[];
  readonly bestRank: number;
  readonly minRank: number;
  readonly testFraction?: number;
  readonly replicates?: number;
}

/** Checks that a parsed JSON value is a CV table (the arrays of equal length, the chosen ranks among the ranks). */
export function isCvCurve(value: unknown): value is CvCurve {
  const v = value as Partial<CvCurve> | null;
  const arrays = [v?.ranks, v?.trainLoss, v?.testLoss, v?.testLossSe];
  return typeof v === 'object' && v !== null && arrays.every((a) => Array.isArray(a) && a.length === v.ranks!.length && a.length > 0)
    && v.ranks!.includes(v.bestRank!) && v.ranks!.includes(v.minRank!);
}

/** The Vega-Lite chart of a cross-validation: train and test loss (± SE) against rank, the chosen rank marked. */
export function cvSpec(cv: CvCurve): TopLevelSpec {
  const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
  const rows = cv.ranks.flatMap((rank, q) => [
    { rank, set: 'test', loss: finite(cv.testLoss[q]!), low: finite(cv.testLoss[q]! - cv.testLossSe[q]!), high: finite(cv.testLoss[q]! + cv.testLossSe[q]!) },
    { rank, set: 'train', loss: finite(cv.trainLoss[q]!), low: null, high: null },
  ]);
  const x = { field: 'rank', type: 'quantitative' as const, title: 'rank', axis: { tickMinStep: 1 } };
  const color = { field: 'set', type: 'nominal' as const, title: '', scale: { domain: ['train', 'test'], range: ['#1f77b4', '#d62728'] } };
  const min = cv.ranks.indexOf(cv.minRank);
  return {
    title: `Train and test loss against rank (chosen rank ${cv.bestRank}: one-standard-error rule; minimum at ${cv.minRank})`,
    width: 420, height: 260,
    layer: [
      { data: { values: rows }, mark: { type: 'line', point: true }, encoding: { x, y: { field: 'loss', type: 'quantitative', title: 'mean squared error', scale: { type: 'log' } }, color } },
      { data: { values: rows.filter((r) => r.set === 'test' && r.low !== null && r.low > 0) }, mark: { type: 'errorbar', color: '#d62728' },
        encoding: { x, y: { field: 'low', type: 'quantitative', scale: { type: 'log' } }, y2: { field: 'high' } } },
      { data: { values: [{ rank: cv.bestRank }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#333' }, encoding: { x } },
      { data: { values: [{ rank: cv.minRank, loss: finite(cv.testLoss[min]!) }] }, mark: { type: 'point', shape: 'diamond', size: 120, filled: true, color: '#333' },
        encoding: { x, y: { field: 'loss', type: 'quantitative', scale: { type: 'log' } } } },
    ],
  };
}
