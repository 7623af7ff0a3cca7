/**
 * The blog's L1/L2 sweep, for any set of models of one data set: for each model its penalty
 * (none, L1 or L2 at some α), seed, sparsity of W, mean cosine between factors, robustness
 * (mean matched cosine to the unpenalised model of the same seed — the blog's measure), replicate
 * agreement (mean matched cosine to the models of other seeds at the same penalty) and, given the
 * data, similarity to k-means centroids and to the rank-1 model. `summarizeSweep` averages the
 * replicates of each (penalty, α); `formatSweepTable` prints that as a fixed-width table.
 */
import type { CscMatrix } from '../source/from-csc.js';
import { meanFactorCosine } from './cosine.js';
import type { FactorModel } from './factor-model.js';
import { kmeans, kmeansSimilarity } from './kmeans.js';
import { matchModels } from './match-models.js';
import { rankOne, rankOneSimilarity } from './rank-one.js';
import { sparsity } from './sparsity.js';

export type Penalty = 'none' | 'L1' | 'L2' | 'L1+L2';

export interface SweepEntry {
  readonly label: string;
  readonly model: FactorModel & { readonly relativeLoss?: number };
  /** L1 penalty the model was fitted with (0 or absent: none). */
  readonly l1?: number;
  /** L2 penalty the model was fitted with (0 or absent: none). */
  readonly l2?: number;
  readonly seed?: number;
}

export interface SweepRow {
  readonly label: string;
  readonly penalty: Penalty;
  /** The penalty's value (L1 + L2 when both are set; 0 for none). */
  readonly alpha: number;
  readonly seed?: number;
  readonly sparsity: number;
  readonly meanCosine: number;
  readonly robustness?: number;
  readonly replicateAgreement?: number;
  readonly kmeansSimilarity?: number;
  readonly rankOneSimilarity?: number;
  readonly relativeLoss?: number;
}

export interface SweepOptions {
  /** The data the models were fitted to: adds k-means and rank-1 similarities. */
  readonly matrix?: CscMatrix;
  /** Seed of the k-means++ start. Default 42. */
  readonly kmeansSeed?: number;
}

/** The penalty of a sweep entry: 'l1', 'l2' or 'none', and its weight. */
export function penaltyOf(entry: { readonly l1?: number; readonly l2?: number }): { penalty: Penalty; alpha: number } {
  const l1 = entry.l1 ?? 0, l2 = entry.l2 ?? 0;
  if (l1 > 0 && l2 > 0) return { penalty: 'L1+L2', alpha: l1 + l2 };
  if (l1 > 0) return { penalty: 'L1', alpha: l1 };
  if (l2 > 0) return { penalty: 'L2', alpha: l2 };
  return { penalty: 'none', alpha: 0 };
}

/** One row per model of an L1/L2 sweep: sparsity, mean cosine, robustness against the unpenalised model of the same seed, replicate agreement. */
export function sweepRows(entries: readonly SweepEntry[], options: SweepOptions = {}): SweepRow[] {
  const matrix = options.matrix;
  // k-means of the data at each model's own rank (models of different ranks each get theirs), once per rank
  const byRank = new Map<number, Float64Array | undefined>();
  const centersOf = (rank: number): Float64Array | undefined => {
    if (!byRank.has(rank)) byRank.set(rank, matrix && rank <= matrix.n ? kmeans(matrix, rank, { seed: options.kmeansSeed ?? 42 }).centers : undefined);
    return byRank.get(rank);
  };
  const u = matrix ? rankOne(matrix).u : undefined;
  const tagged = entries.map((e) => ({ e, ...penaltyOf(e) }));
  const compatible = (a: FactorModel, b: FactorModel): boolean => a.rank === b.rank && a.features === b.features;
  return tagged.map(({ e, penalty, alpha }) => {
    const centers = centersOf(e.model.rank);
    const reference = tagged.find((t) => t.penalty === 'none' && t.e.seed === e.seed && t.e !== e && compatible(t.e.model, e.model));
    const peers = tagged.filter((t) => t.e !== e && t.penalty === penalty && t.alpha === alpha && t.e.seed !== e.seed && compatible(t.e.model, e.model));
    const agreement = peers.length > 0 ? peers.reduce((s, t) => s + matchModels(t.e.model, e.model).robustness, 0) / peers.length : undefined;
    const loss = e.model.relativeLoss;
    return {
      label: e.label, penalty, alpha, ...(e.seed === undefined ? {} : { seed: e.seed }),
      sparsity: sparsity(e.model.W), meanCosine: meanFactorCosine(e.model),
      ...(penalty === 'none' ? { robustness: 1 } : reference ? { robustness: matchModels(reference.e.model, e.model).robustness } : {}),
      ...(agreement === undefined ? {} : { replicateAgreement: agreement }),
      ...(centers === undefined ? {} : { kmeansSimilarity: kmeansSimilarity(e.model, centers, e.model.rank) }),
      ...(u === undefined ? {} : { rankOneSimilarity: rankOneSimilarity(e.model, u) }),
      ...(loss === undefined ? {} : { relativeLoss: loss }),
    };
  });
}

export interface SweepSummaryRow {
  readonly penalty: Penalty;
  readonly alpha: number;
  readonly replicates: number;
  readonly sparsity: number;
  /** Standard deviation of the sparsity over the replicates (how consistently the penalty acts). */
  readonly sparsitySd: number;
  readonly meanCosine: number;
  readonly robustness?: number;
  readonly replicateAgreement?: number;
  readonly kmeansSimilarity?: number;
  readonly rankOneSimilarity?: number;
  readonly relativeLoss?: number;
}

/** Means over the replicates of each (penalty, α), ordered none, L1, L2, L1+L2 and by α. */
export function summarizeSweep(rows: readonly SweepRow[]): SweepSummaryRow[] {
  const order: Penalty[] = ['none', 'L1', 'L2', 'L1+L2'];
  const groups = new Map<string, SweepRow[]>();
  for (const r of rows) {
    const key = `${r.penalty}|${r.alpha}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out = [...groups.values()].map((g) => {
    const head = g[0]!;
    const mean = (f: (r: SweepRow) => number | undefined): number | undefined => {
      const v = g.map(f).filter((x): x is number => x !== undefined);
      return v.length > 0 ? v.reduce((s, x) => s + x, 0) / v.length : undefined;
    };
    const sp = mean((r) => r.sparsity)!;
    const sd = Math.sqrt(g.reduce((s, r) => s + (r.sparsity - sp) ** 2, 0) / Math.max(1, g.length - 1));
    const optional = { robustness: mean((r) => r.robustness), replicateAgreement: mean((r) => r.replicateAgreement),
      kmeansSimilarity: mean((r) => r.kmeansSimilarity), rankOneSimilarity: mean((r) => r.rankOneSimilarity), relativeLoss: mean((r) => r.relativeLoss) };
    const defined = Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) as Partial<Record<keyof typeof optional, number>>;
    return { penalty: head.penalty, alpha: head.alpha, replicates: g.length, sparsity: sp, sparsitySd: g.length > 1 ? sd : 0, meanCosine: mean((r) => r.meanCosine)!, ...defined };
  });
  return out.sort((a, b) => order.indexOf(a.penalty) - order.indexOf(b.penalty) || a.alpha - b.alpha);
}

/** The summary as a fixed-width text table (one header line, one line per (penalty, α)). */
export function formatSweepTable(summary: readonly SweepSummaryRow[]): string {
  const cols: [string, (r: SweepSummaryRow) => number | string | undefined][] = [
    ['penalty', (r) => r.penalty], ['alpha', (r) => r.alpha], ['n', (r) => r.replicates], ['sparsity', (r) => r.sparsity],
    ['sd', (r) => r.sparsitySd], ['meanCos', (r) => r.meanCosine], ['robust', (r) => r.robustness], ['replic', (r) => r.replicateAgreement],
    ['kmeans', (r) => r.kmeansSimilarity], ['rank1', (r) => r.rankOneSimilarity], ['relLoss', (r) => r.relativeLoss],
  ];
  const cell = (v: number | string | undefined): string => v === undefined ? '–' : typeof v === 'string' ? v : Number.isInteger(v) ? String(v) : v.toFixed(3);
  const lines = [cols.map(([h]) => h.padStart(8)).join(' ')];
  for (const r of summary) lines.push(cols.map(([, f]) => cell(f(r)).padStart(8)).join(' '));
  return lines.join('\n');
}
