/**
 * What the report says about each model besides the charts of model-charts.ts: the order of the models (the
 * unpenalised baseline first), warnings (dead factors, a loss no better than zero), the top features of each
 * factor with their names and weights, the options the fit recorded, and the composition of the samples (H).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { FactorModel } from '../diagnostics/factor-model.js';
import type { ModelEvaluation } from '../diagnostics/evaluate.js';
import { table, type Cell } from './html.js';

/** What a model may record about its fit (a StoredModel from readModel, or a final Snapshot). */
export interface ModelRecord {
  readonly options?: Readonly<Record<string, unknown>>;
  readonly version?: string;
  readonly seed?: number;
  readonly sampleNames?: readonly string[];
}

interface Tagged { readonly l1?: number; readonly l2?: number; readonly seed?: number }

/**
 * The models in report order: the unpenalised baseline(s) first, then L1, L2 and both by penalty, then the
 * models of no sweep; within each, by seed, and otherwise as given.
 */
export function reportOrder<T extends Tagged>(models: readonly T[]): T[] {
  const group = (r: T): number => {
    if (r.l1 === undefined && r.l2 === undefined) return 4;
    const l1 = r.l1 ?? 0, l2 = r.l2 ?? 0;
    return l1 === 0 && l2 === 0 ? 0 : l2 === 0 ? 1 : l1 === 0 ? 2 : 3;
  };
  const alpha = (r: T): number => (r.l1 ?? 0) + (r.l2 ?? 0);
  return models.map((r, index) => ({ r, index }))
    .sort((a, b) => group(a.r) - group(b.r) || alpha(a.r) - alpha(b.r) || (a.r.seed ?? 0) - (b.r.seed ?? 0) || a.index - b.index)
    .map(({ r }) => r);
}

/** The penalties and seed a model's recorded options state (`l1`, `l2` as one number or [W, H]: the larger). */
export function tagsFromOptions(options: Readonly<Record<string, unknown>> | undefined): Tagged | undefined {
  if (options === undefined) return undefined;
  const penalty = (v: unknown): number | undefined => (typeof v === 'number' ? v : Array.isArray(v) && v.every((x) => typeof x === 'number') ? Math.max(...(v as number[])) : undefined);
  const l1 = penalty(options.l1), l2 = penalty(options.l2);
  if (l1 === undefined && l2 === undefined) return undefined;
  return { l1: l1 ?? 0, l2: l2 ?? 0, ...(typeof options.seed === 'number' ? { seed: options.seed } : {}) };
}

/** Warnings about a model, in words: dead factors, a relative loss of 1 or more (no better than W = 0). */
export function modelFlags(model: FactorModel & { readonly relativeLoss?: number }, evaluation: ModelEvaluation): string[] {
  const flags: string[] = [];
  if (evaluation.deadFactors > 0) flags.push(`${evaluation.deadFactors} dead factor${evaluation.deadFactors === 1 ? '' : 's'} (a column of W entirely 0: the rank is effectively ${model.rank - evaluation.deadFactors})`);
  // the fit's own loss, or the loss on the data given
  const loss = [model.relativeLoss, evaluation.relativeLoss].find((l) => l !== undefined && l >= 1 - 1e-9);
  if (loss !== undefined) flags.push(`relative loss ${loss.toPrecision(4)} ≥ 1: no better than the zero model (too strong a penalty, or a failed fit)`);
  return flags;
}

/** The flags as a warning block (nothing when there are none). */
export function flagsHtml(flags: readonly string[]): string {
  return flags.length === 0 ? '' : `<div class="flags">${flags.map((f) => `<p class="flag">⚠ ${escape(f)}</p>`).join('')}</div>`;
}

/** The `top` features of each factor: names and weights (W·d, the factor's share of the data's scale). */
export function topFeaturesTable(model: FactorModel, top: number): string {
  const { W, d, rank: k, features: m } = model;
  const name = (i: number): string => model.featureNames?.[i] ?? String(i);
  const rows: Cell[][] = [];
  for (let a = 0; a < k; a++) {
    const order = Array.from({ length: m }, (_, i) => i).filter((i) => W[i * k + a]! > 0).sort((x, y) => W[y * k + a]! - W[x * k + a]!).slice(0, top);
    const cells = order.map((i) => `${name(i)} (${Number((W[i * k + a]! * d[a]!).toPrecision(3))})`);
    rows.push([`factor ${a}`, d[a]!, order.length === 0 ? '(dead: no feature)' : cells.join(', ')]);
  }
  return table(['factor', 'd', `top ${top} features (weight W·d)`], rows, 'Top features of each factor');
}

/** The options the fit recorded (nmflow's version, every option resolved), or a sentence saying there are none. */
export function optionsTable(model: ModelRecord): string {
  const options = model.options;
  if (options === undefined) return '<p>This model file records no options (written before nmflow 0.1.0 recorded them, or not by nmflow).</p>';
  const rows: Cell[][] = Object.entries(options).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]);
  if (model.version !== undefined) rows.unshift(['nmflow version', model.version]);
  return table(['option', 'value'], rows, 'Options of the fit (as recorded in the model)');
}

/** Samples drawn at most in the composition chart (evenly spaced over the samples sorted by dominant factor). */
const MAX_SAMPLES = 150;

/**
 * H composition: each sample's shares of the factors (d_a·H_aj / Σ_b d_b·H_bj) as a stacked bar, the samples sorted
 * by their dominant factor and its share; and the count of samples per dominant factor in the title.
 */
export function hCompositionSpec(model: FactorModel, H: Float64Array, sampleNames: readonly string[] | undefined): TopLevelSpec {
  const k = model.rank, n = H.length / k;
  const shares: { j: number; dominant: number; share: number[] }[] = [];
  const counts = new Array<number>(k).fill(0);
  for (let j = 0; j < n; j++) {
    const share = Array.from({ length: k }, (_, a) => model.d[a]! * H[a * n + j]!);
    const total = share.reduce((s, v) => s + v, 0);
    if (!(total > 0)) continue;
    const dominant = share.indexOf(Math.max(...share));
    counts[dominant]!++;
    shares.push({ j, dominant, share: share.map((v) => v / total) });
  }
  shares.sort((x, y) => x.dominant - y.dominant || y.share[y.dominant]! - x.share[x.dominant]! || x.j - y.j);
  const step = Math.max(1, shares.length / MAX_SAMPLES);
  const drawn = Array.from({ length: Math.min(MAX_SAMPLES, shares.length) }, (_, t) => shares[Math.floor(t * step)]!);
  const label = (j: number): string => sampleNames?.[j] ?? `sample ${j}`;
  const values = drawn.flatMap((s, position) => s.share.map((v, a) => ({ position, sample: label(s.j), factor: `factor ${a}`, share: v })));
  const empty = n - shares.length;
  return {
    title: {
      text: 'H: the composition of the samples', anchor: 'start',
      subtitle: `${drawn.length} of ${n} samples, sorted by dominant factor; samples per dominant factor: ${counts.map((c, a) => `${a}: ${c}`).join(', ')}${empty > 0 ? `; ${empty} all zero` : ''}`,
    },
    data: { values }, width: Math.max(300, Math.min(900, 5 * drawn.length)), height: 200,
    mark: 'bar',
    encoding: {
      x: { field: 'position', type: 'ordinal', title: 'samples', axis: null },
      y: { field: 'share', type: 'quantitative', stack: 'normalize', title: 'share of the sample' },
      color: { field: 'factor', type: 'nominal', sort: Array.from({ length: k }, (_, a) => `factor ${a}`), title: 'factor' },
      tooltip: [{ field: 'sample' }, { field: 'factor' }, { field: 'share', type: 'quantitative', format: '.3f' }],
    },
  };
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
