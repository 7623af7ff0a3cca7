/**
 * The HTML report of one or several models: one self-contained file (inline CSS and SVG charts
 * rendered in Node by Vega-Lite; it fetches nothing when opened). It holds a summary table of
 * every model; for the first `details` models the convergence curve, d per factor, a heatmap of
 * W's top features, the sparsity of each factor and the cosine similarity between factors; and,
 * when the models form an L1/L2 sweep (tagged with their penalties), the blog's sweep plots.
 */
import { factorCosine } from '../diagnostics/cosine.js';
import { evaluateModel, type ModelEvaluation } from '../diagnostics/evaluate.js';
import type { FactorModel } from '../diagnostics/factor-model.js';
import { factorSparsity } from '../diagnostics/sparsity.js';
import { summarizeSweep, sweepRows, type SweepEntry } from '../diagnostics/sweep.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { TracePoint } from '../snapshot/snapshot.js';
import type { CscMatrix } from '../source/from-csc.js';
import { figure, page, paragraph, section, table, type Cell } from './html.js';
import { kmeans } from '../diagnostics/kmeans.js';
import { solveH } from '../diagnostics/solve-h.js';
import { flagsHtml, hCompositionSpec, modelFlags, optionsTable, reportOrder, topFeaturesTable, type ModelRecord } from './model-details.js';
import { convergenceSpec, cosineSpec, heatmapSpec, scaleSpec, sparsitySpec } from './model-charts.js';
import { renderSvg } from './render-svg.js';
import { availableMeasures, sweepSpec } from './sweep-charts.js';
import { cvSpec, type CvCurve } from './cv-charts.js';

export type ReportableModel = FactorModel & ModelRecord & {
  readonly trace?: readonly TracePoint[];
  readonly relativeLoss?: number;
  /** Completed iterations (a StoredModel's `iterations`, a Snapshot's `iteration`). */
  readonly iterations?: number;
  readonly iteration?: number;
};

export interface ReportModel {
  readonly label: string;
  readonly model: ReportableModel;
  /** The fit's penalties and seed: models with l1 or l2 given (0 = unpenalised) form the sweep. */
  readonly l1?: number;
  readonly l2?: number;
  readonly seed?: number;
}

export interface ReportOptions {
  readonly title?: string;
  /** The data the models were fitted to: adds relative loss, k-means and rank-1 similarity. */
  readonly data?: CscMatrix;
  readonly dataName?: string;
  /** Names of the data's samples (a 10x folder's barcodes): they label H's samples when H is solved from the data. */
  readonly sampleNames?: readonly string[];
  /** Top features per factor in the heatmap. Default 5. */
  readonly top?: number;
  /** How many models get their own charts. Default 3. */
  readonly details?: number;
  readonly kmeansSeed?: number;
  /** A cross-validation over ranks (`nmflow cv --out`): the plot of train/test loss against rank. */
  readonly cv?: CvCurve;
}

/** The HTML report of one or more models (optionally with their data) as one self-contained page: charts rendered to inline SVG, tables of factors and options. */
export async function buildReport(given: readonly ReportModel[], options: ReportOptions = {}): Promise<string> {
  const models = reportOrder(given); // the unpenalised baseline first (model-details.ts)
  const top = options.top ?? 5, details = Math.min(models.length, options.details ?? 3);
  let chart = 0;
  const render = async (name: string, spec: Parameters<typeof renderSvg>[0]): Promise<string> => figure(name, await renderSvg(spec, `c${chart++}`));
  // k-means of the data once per rank, shared by the models of that rank: every model gets its k-means similarity
  const centers = new Map<number, Float64Array | undefined>();
  const centersOf = (rank: number): Float64Array | undefined => {
    const data = options.data;
    if (!centers.has(rank)) centers.set(rank, data && rank <= data.n ? kmeans(data, rank, { seed: options.kmeansSeed ?? 42 }).centers : undefined);
    return centers.get(rank);
  };
  const evaluations = models.map((r) => {
    const shared = options.data ? centersOf(r.model.rank) : undefined;
    return evaluateModel(r.model, options.data, {
      ...(shared ? { kmeansCenters: shared } : { kmeans: false }), ...(options.kmeansSeed === undefined ? {} : { kmeansSeed: options.kmeansSeed }),
    });
  });
  const sections: string[] = [section('summary', 'Models', summaryTable(models, evaluations, options.data !== undefined))];
  const nav: [string, string][] = [['summary', 'Models']];
  for (let index = 0; index < details; index++) {
    const { label, model } = models[index]!;
    const charts: string[] = [];
    if (model.trace && model.trace.length > 0) charts.push(await render('convergence', convergenceSpec(model.trace, `Convergence of ${label}`)));
    charts.push(await render('scale', scaleSpec(model)));
    charts.push(await render('sparsity', sparsitySpec(model, factorSparsity(model).perFactor)));
    charts.push(await render('cosine', cosineSpec(model, factorCosine(model))));
    charts.push(await render('heatmap', heatmapSpec(model, top)));
    const H = compositionOf(model, options.data);
    if (H) charts.push(await render('h-composition', hCompositionSpec(model, H, model.H === H ? model.sampleNames : options.sampleNames)));
    const note = model.trace && model.trace.length > 0 ? '' : paragraph('No convergence trace: this model file does not record one (write the model as .arrow, .parquet or .csv with its sidecar to keep it).');
    const noH = H ? '' : paragraph('No H: the model holds none and no data was given (--data) to solve it from.');
    sections.push(section(`model-${index}`, label, flagsHtml(modelFlags(model, evaluations[index]!)) + note + noH + `<div class="charts">${charts.join('')}</div>`
      + topFeaturesTable(model, top) + evaluationTable(evaluations[index]!) + optionsTable(model)));
    nav.push([`model-${index}`, label]);
  }
  const sweepEntries: SweepEntry[] = models.filter((r) => r.l1 !== undefined || r.l2 !== undefined).map((r) => ({
    label: r.label, model: r.model, ...(r.l1 === undefined ? {} : { l1: r.l1 }), ...(r.l2 === undefined ? {} : { l2: r.l2 }), ...(r.seed === undefined ? {} : { seed: r.seed }),
  }));
  const rows = sweepEntries.length > 1 ? sweepRows(sweepEntries, {
    ...(options.data === undefined ? {} : { matrix: options.data }), ...(options.kmeansSeed === undefined ? {} : { kmeansSeed: options.kmeansSeed }),
  }) : [];
  const measures = availableMeasures(rows);
  if (measures.length > 0) {
    const charts: string[] = [];
    for (const measure of measures) charts.push(await render(`sweep-${measure.field}`, sweepSpec(rows, measure)));
    const summary = summarizeSweep(rows);
    sections.push(section('sweep', 'L1/L2 sweep', paragraph(
      'One point per model (shape = seed), lines through the means of the replicates, the dashed rule at the unpenalised mean. '
      + 'Robustness: mean matched cosine similarity of W to the unpenalised model of the same seed (Hungarian matching). '
      + 'Replicate agreement: the same between models of different seeds at the same penalty.',
    ) + `<div class="charts">${charts.join('')}</div>` + table(
      ['penalty', 'α', 'models', 'sparsity', 'sd', 'mean cosine', 'robustness', 'replicate agreement', 'k-means', 'rank-1', 'relative loss'],
      summary.map((s) => [s.penalty, s.alpha, s.replicates, s.sparsity, s.sparsitySd, s.meanCosine, s.robustness, s.replicateAgreement, s.kmeansSimilarity, s.rankOneSimilarity, s.relativeLoss]),
      'Means over the replicates of each penalty',
    )));
    nav.push(['sweep', 'L1/L2 sweep']);
  }
  if (options.cv !== undefined) {
    const cv = options.cv;
    sections.push(section('cv', 'Choosing the rank', paragraph(
      `Mean squared error over held-out entries (test${cv.testFraction === undefined ? '' : `, fraction ${cv.testFraction}`}${cv.replicates === undefined ? '' : `, ${cv.replicates} replicates`}) `
      + 'and over the fitted ones (train), ± one standard error; dashed: the chosen rank (the smallest within one standard error of the minimum), diamond: the minimum.',
    ) + `<div class="charts">${await render('cv', cvSpec(cv))}</div>` + table(['rank', 'train loss', 'test loss', '± SE'],
      cv.ranks.map((r, q) => [r, cv.trainLoss[q]!, cv.testLoss[q]!, cv.testLossSe[q]!]), `bestRank ${cv.bestRank}, minRank ${cv.minRank}`)));
    nav.push(['cv', 'Choosing the rank']);
  }
  const title = options.title ?? (models.length === 1 ? `nmflow report: ${models[0]!.label}` : `nmflow report: ${models.length} models`);
  const first = models[0]?.model;
  const ranks = [...new Set(models.map((r) => r.model.rank))].sort((a, b) => a - b);
  const subtitle = [first ? `${first.features} features, rank ${ranks.join(', ')}` : 'no models',
    options.data ? `evaluated on ${options.dataName ?? 'the data'} (${options.data.m} × ${options.data.n})` : 'no data given',
    `written ${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC`].join(' · ');
  return page(title, subtitle, nav, sections.join('\n'));
}

/** buildReport, then write the file atomically (temporary name, then rename). */
export async function writeReport(path: string, models: readonly ReportModel[], options: ReportOptions = {}): Promise<void> {
  await writeFileAtomic(path, await buildReport(models, options));
}

function summaryTable(models: readonly ReportModel[], evaluations: readonly ModelEvaluation[], withData: boolean): string {
  const headers = ['model', 'loss', 'rank', 'features', 'iterations', 'relative loss', 'sparsity W', 'mean cosine', 'dead factors'];
  if (withData) headers.push('relative loss on data', 'k-means', 'rank-1');
  headers.push('flags');
  return table(headers, models.map(({ label, model }, index) => {
    const e = evaluations[index]!;
    const row: Cell[] = [label, model.loss ?? 'l2', model.rank, model.features, model.iterations ?? model.iteration, model.relativeLoss, e.sparsityW, e.meanCosine, e.deadFactors];
    const flags = modelFlags(model, e).map((f) => `⚠ ${f.split(' (')[0]!.split(':')[0]!}`).join('; ');
    return [...row, ...(withData ? [e.relativeLoss, e.kmeansSimilarity, e.rankOneSimilarity] : []), flags];
  }), 'Models (the unpenalised baseline first; k-means and rank-1 similarity need --data)');
}

function evaluationTable(e: ModelEvaluation): string {
  const rows: [string, number | undefined][] = [
    ['sparsity of W', e.sparsityW], ['sparsity of H', e.sparsityH], ['dead factors', e.deadFactors],
    ['mean cosine between factors', e.meanCosine], ['mean cosine, diagonal included', e.meanCosineWithDiagonal],
    ['relative loss on the data', e.relativeLoss], ['relative L1 objective', e.relativeL1Objective],
    ['similarity to k-means centroids', e.kmeansSimilarity], ['similarity to the rank-1 model', e.rankOneSimilarity],
  ];
  return table(['diagnostic', 'value'], rows.filter(([, v]) => v !== undefined), 'Diagnostics');
}

/** H of the model's own samples (a snapshot kept with keepH), else solved from the data given; undefined without either. */
function compositionOf(model: ReportableModel, data: CscMatrix | undefined): Float64Array | undefined {
  if (model.H !== undefined && model.H.length > 0 && model.H.length % model.rank === 0 && (data === undefined || model.H.length === model.rank * data.n)) return model.H;
  if (data === undefined || data.m !== model.features) return undefined;
  return solveH(data, model, model.loss === undefined ? {} : { loss: model.loss });
}
