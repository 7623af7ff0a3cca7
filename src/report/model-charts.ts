/**
 * Vega-Lite specs for one model: convergence (relative loss and tol per iteration, from the fit's
 * trace), d per factor, a heatmap of W restricted to the top features of each factor (labelled by
 * name), the sparsity of each factor and the cosine similarity between factors.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { FactorModel } from '../diagnostics/factor-model.js';
import type { TracePoint } from '../snapshot/snapshot.js';

const factorName = (a: number): string => `factor ${a}`;
const factorSort = (k: number): string[] => Array.from({ length: k }, (_, a) => factorName(a));

export function convergenceSpec(trace: readonly TracePoint[], title: string): TopLevelSpec {
  const values = trace.map((p) => ({ iteration: p.iteration, relativeLoss: p.relativeLoss, tol: p.tol > 0 ? p.tol : null }));
  const line = (field: string, axis: string, log: boolean, color: string) => ({
    width: 320, height: 200,
    mark: { type: 'line' as const, point: true, color },
    encoding: {
      x: { field: 'iteration', type: 'quantitative' as const, title: 'iteration' },
      y: { field, type: 'quantitative' as const, title: axis, scale: log ? { type: 'log' as const } : { zero: false } },
      tooltip: [{ field: 'iteration', type: 'quantitative' as const }, { field, type: 'quantitative' as const, format: '.4g' }],
    },
  });
  return {
    title: { text: title, anchor: 'start' },
    data: { values },
    hconcat: [
      { ...line('relativeLoss', 'relative loss', false, '#1f77b4'), title: 'Convergence: relative loss per iteration' },
      { ...line('tol', 'tol (log scale)', true, '#d62728'), title: 'Convergence: tol per iteration', transform: [{ filter: 'datum.tol != null' }] },
    ],
  };
}

export function scaleSpec(model: FactorModel): TopLevelSpec {
  const values = Array.from(model.d, (d, a) => ({ factor: factorName(a), d }));
  return {
    title: 'Scale d per factor', width: 320, height: 200, data: { values },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      x: { field: 'factor', type: 'nominal', sort: factorSort(model.rank), title: null },
      y: { field: 'd', type: 'quantitative', title: 'd' },
      tooltip: [{ field: 'factor' }, { field: 'd', type: 'quantitative', format: '.4g' }],
    },
  };
}

/** Indices of the `top` largest loadings of each factor, grouped by factor (a feature appears once). */
export function topFeatures(model: FactorModel, top: number): number[] {
  const { W, rank: k, features: m } = model;
  const chosen: number[] = [];
  const seen = new Set<number>();
  for (let a = 0; a < k; a++) {
    const order = Array.from({ length: m }, (_, i) => i).filter((i) => W[i * k + a]! > 0).sort((x, y) => W[y * k + a]! - W[x * k + a]!);
    for (const i of order.slice(0, top)) if (!seen.has(i)) { seen.add(i); chosen.push(i); }
  }
  return chosen;
}

export function heatmapSpec(model: FactorModel, top: number): TopLevelSpec {
  const { W, rank: k } = model;
  const rows = topFeatures(model, top);
  const name = (i: number): string => model.featureNames?.[i] ?? `feature ${i}`;
  const labels = rows.map(name);
  const values = rows.flatMap((i) => Array.from({ length: k }, (_, a) => ({ feature: name(i), factor: factorName(a), W: W[i * k + a]! })));
  return {
    title: { text: `W: the top ${top} features of each factor`, subtitle: `${rows.length} of ${model.features} features` },
    data: { values },
    width: Math.max(200, 28 * k), height: Math.max(120, 13 * rows.length),
    mark: { type: 'rect', stroke: '#eeeeee', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'factor', type: 'nominal', sort: factorSort(k), title: null, axis: { labelAngle: -45 } },
      y: { field: 'feature', type: 'nominal', sort: labels, title: null, axis: { labelLimit: 220 } },
      // 0 is white: a zero loading is drawn as nothing, not as the palest blue
      color: { field: 'W', type: 'quantitative', scale: { domain: [0, Math.max(1e-300, ...values.map((v) => v.W))], range: ['#ffffff', '#08306b'], interpolate: 'rgb' }, title: 'W' },
      tooltip: [{ field: 'feature' }, { field: 'factor' }, { field: 'W', type: 'quantitative', format: '.4g' }],
    },
  };
}

export function sparsitySpec(model: FactorModel, perFactor: Float64Array): TopLevelSpec {
  const values = Array.from(perFactor, (s, a) => ({ factor: factorName(a), sparsity: s }));
  return {
    title: 'Sparsity of each factor (fraction of zeros in W)', width: 320, height: 200, data: { values },
    mark: { type: 'bar', color: '#f58518' },
    encoding: {
      x: { field: 'factor', type: 'nominal', sort: factorSort(model.rank), title: null },
      y: { field: 'sparsity', type: 'quantitative', scale: { domain: [0, 1] }, title: 'sparsity' },
      tooltip: [{ field: 'factor' }, { field: 'sparsity', type: 'quantitative', format: '.3f' }],
    },
  };
}

export function cosineSpec(model: FactorModel, C: Float64Array): TopLevelSpec {
  const k = model.rank;
  const values = Array.from(C, (c, p) => ({ a: factorName(Math.floor(p / k)), b: factorName(p % k), cosine: c }));
  return {
    title: 'Cosine similarity between factors', data: { values },
    width: Math.max(160, 24 * k), height: Math.max(160, 24 * k),
    encoding: {
      x: { field: 'b', type: 'nominal', sort: factorSort(k), title: null, axis: { labelAngle: -45 } },
      y: { field: 'a', type: 'nominal', sort: factorSort(k), title: null },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'cosine', type: 'quantitative', scale: { scheme: 'viridis', domain: [0, 1] } },
        tooltip: [{ field: 'a' }, { field: 'b' }, { field: 'cosine', type: 'quantitative', format: '.3f' }] } },
      ...(k <= 12 ? [{ mark: { type: 'text' as const, fontSize: 8 }, encoding: {
        text: { field: 'cosine', type: 'quantitative' as const, format: '.2f' },
        color: { condition: { test: 'datum.cosine > 0.6', value: 'black' }, value: 'white' },
      } }] : []),
    ],
  };
}
