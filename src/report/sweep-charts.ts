/**
 * Vega-Lite specs for the blog's L1/L2 sweep: one chart per measure against the penalty α (log
 * scale), L1 and L2 in two colours, one point per replicate (seed) and a line through the mean; a
 * dashed rule marks the mean of the unpenalised models.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { SweepRow } from '../diagnostics/sweep.js';

export interface SweepMeasure {
  readonly field: keyof SweepRow & string;
  readonly title: string;
  readonly axis: string;
}

export const SWEEP_MEASURES: readonly SweepMeasure[] = [
  { field: 'sparsity', title: 'Sparsity of W vs penalty', axis: 'sparsity of W' },
  { field: 'meanCosine', title: 'Mean cosine between factors vs penalty', axis: 'mean cosine similarity' },
  { field: 'robustness', title: 'Robustness vs penalty (similarity to the unpenalised model)', axis: 'mean matched cosine' },
  { field: 'replicateAgreement', title: 'Replicate agreement vs penalty (across seeds)', axis: 'mean matched cosine' },
  { field: 'kmeansSimilarity', title: 'Similarity to k-means centroids vs penalty', axis: 'mean matched cosine' },
  { field: 'rankOneSimilarity', title: 'Similarity to the rank-1 model vs penalty', axis: 'mean cosine to u₁' },
  { field: 'relativeLoss', title: 'Relative loss vs penalty', axis: 'relative loss' },
];

/** The measures for which at least one penalised row has a value. */
export function availableMeasures(rows: readonly SweepRow[]): SweepMeasure[] {
  return SWEEP_MEASURES.filter((m) => rows.some((r) => (r.penalty === 'L1' || r.penalty === 'L2') && typeof r[m.field] === 'number'));
}

export function sweepSpec(rows: readonly SweepRow[], measure: SweepMeasure): TopLevelSpec {
  const value = (r: SweepRow): number | undefined => r[measure.field] as number | undefined;
  const points = rows
    .filter((r) => (r.penalty === 'L1' || r.penalty === 'L2') && r.alpha > 0 && value(r) !== undefined)
    .map((r) => ({ penalty: r.penalty, alpha: r.alpha, seed: r.seed === undefined ? 'none' : String(r.seed), value: value(r)!, label: r.label }));
  const base = rows.filter((r) => r.penalty === 'none' && value(r) !== undefined).map((r) => value(r)!);
  const x = { field: 'alpha', type: 'quantitative' as const, scale: { type: 'log' as const }, title: 'penalty α (log scale)' };
  const y = { field: 'value', type: 'quantitative' as const, title: measure.axis, scale: { zero: false } };
  // the legend lists the penalties drawn, and only those
  const present = (['L1', 'L2'] as const).filter((p) => points.some((q) => q.penalty === p));
  const colors = { L1: '#d62728', L2: '#1f77b4' };
  const color = { field: 'penalty', type: 'nominal' as const, scale: { domain: present, range: present.map((p) => colors[p]) } };
  return {
    title: measure.title, width: 300, height: 220,
    layer: [
      { data: { values: points }, mark: { type: 'point', filled: true, opacity: 0.6 },
        encoding: { x, y, color, shape: { field: 'seed', type: 'nominal', title: 'seed' },
          tooltip: [{ field: 'label' }, { field: 'alpha', type: 'quantitative' }, { field: 'value', type: 'quantitative', format: '.4f' }] } },
      { data: { values: points }, mark: { type: 'line' }, encoding: { x, y: { ...y, aggregate: 'mean' }, color } },
      ...(base.length > 0 ? [{
        data: { values: [{ value: base.reduce((s, v) => s + v, 0) / base.length }] },
        mark: { type: 'rule' as const, strokeDash: [4, 4], color: '#555' },
        encoding: { y: { field: 'value', type: 'quantitative' as const } },
      }] : []),
    ],
  };
}
