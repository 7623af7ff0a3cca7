// The HTML report: it builds with the expected charts and no external resources, the CLI commands
// `nmflow report` / `nmflow eval` work and fail with the right exit codes, and headless Chromium
// (Debian's `chromium`, one launch) renders the page without errors.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { writeModel } from '../src/io/model-file.js';
import { makeRandom } from '../src/kernel/random.js';
import { fitModel } from '../src/pipeline/fit.js';
import { buildReport, modelFileStem, modelTagsFromPath, writeReport, type ReportModel } from '../src/report/index.js';
import { fromDense } from '../src/source/from-csc.js';
import { writeMtx } from '../src/format/write-mtx.js';
import type { Model } from '../src/snapshot/snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'nmflow-report-'));
const rnd = makeRandom(11);
const names = Array.from({ length: 15 }, (_, i) => (i === 0 ? 'Nēnē <goose> & co' : `species ${i}`));
const source = fromDense(Float64Array.from({ length: 15 * 40 }, () => (rnd.uniform() < 0.4 ? rnd.uniform() : 0)), 15, 40, { featureNames: names });
const sweep: ReportModel[] = [];
let single: Model;

beforeAll(async () => {
  single = await fitModel(source, { rank: 3, seed: 1 });
  for (const seed of [1, 2]) {
    for (const [l1, l2] of [[0, 0], [0.05, 0], [0, 0.05]] as const) {
      const model = await fitModel(source, { rank: 3, seed, l1: [l1, l1], l2: [l2, l2] });
      sweep.push({ label: modelFileStem({ l1, l2, seed }), model, l1, l2, seed });
    }
  }
});

const charts = (html: string): string[] => [...html.matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1]!);

describe('buildReport', () => {
  it('holds the five charts of one model as inline SVG and fetches nothing', async () => {
    const html = await buildReport([{ label: 'one model', model: single }]);
    expect(charts(html)).toEqual(['convergence', 'scale', 'sparsity', 'cosine', 'heatmap']);
    expect(html.match(/<svg/g)).toHaveLength(5);
    expect(html).toContain('Convergence: relative loss per iteration');
    expect(html).toContain('Cosine similarity between factors');
    expect(html).toContain('Nēnē &lt;goose&gt; &amp; co'); // feature names label the heatmap, escaped
    expect(html).not.toMatch(/<script|<link|<img|src=|@import|url\(http/i);
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('adds the L1/L2 sweep plots and the data diagnostics for several tagged models', async () => {
    const html = await buildReport(sweep, { data: source.matrix, details: 1 });
    const found = charts(html);
    for (const name of ['sweep-sparsity', 'sweep-meanCosine', 'sweep-robustness', 'sweep-replicateAgreement', 'sweep-kmeansSimilarity', 'sweep-rankOneSimilarity']) {
      expect(found).toContain(name);
    }
    expect(found.filter((c) => c === 'heatmap')).toHaveLength(1);
    expect(html).toContain('Means over the replicates of each penalty');
    expect(html).toContain('similarity to k-means centroids');
  });

  it('issue #16: baseline first, flags for dead factors and loss-1 models, true legends, mixed ranks, H composition, top features with names, options', async () => {
    // given in file-name order (the baseline last), one L1-only sweep, a model of another rank, a dead factor
    const l1Only = sweep.filter((r) => (r.l2 ?? 0) === 0);
    const reversed = [...l1Only].reverse();
    const rank2 = await fitModel(source, { rank: 2, seed: 1, keepH: true });
    const dead = { ...single, W: single.W.map((v, q) => (q % 3 === 2 ? 0 : v)), relativeLoss: 1 };
    const html = await buildReport([...reversed, { label: 'rank 2', model: rank2, l1: 0, l2: 0, seed: 3 }, { label: 'dead', model: dead }], { data: source.matrix, details: 8 });
    const sections = [...html.matchAll(/<section id="model-\d+"><h2>([^<]+)<\/h2>/g)].map((m) => m[1]);
    expect(sections.slice(0, 2)).toEqual(['none-seed-1', 'none-seed-2']); // the unpenalised baseline first
    expect(sections).toContain('rank 2');
    expect(html).toContain('1 dead factor');
    expect(html).toContain('no better than the zero model');
    // k-means for every model (shared per rank), not only the detailed ones
    const summary = html.slice(html.indexOf('<section id="summary">'), html.indexOf('</section>'));
    expect(summary.match(/<tr>/g)!.length).toBe(1 + reversed.length + 2);
    expect(summary).not.toMatch(/<td>–<\/td><td>[0-9.]+<\/td><td>(⚠|<\/td>)/); // no empty k-means cell before rank-1
    // an L1-only sweep: its legends name L1 only
    const sweepSection = html.slice(html.indexOf('<section id="sweep">'));
    expect(sweepSection).toContain('>L1<');
    expect(sweepSection).not.toContain('>L2<');
    // H composition (solved from the data, or the model's own H), the top features with names and the recorded options
    expect(charts(html).filter((c) => c === 'h-composition').length).toBe(sections.length);
    expect(html).toContain('Top features of each factor');
    expect(html).toContain('Nēnē &lt;goose&gt; &amp; co (');
    expect(html).toContain('Options of the fit');
    expect(html).toMatch(/<td>seed<\/td><td>1<\/td>/);
    // zero is drawn white in the heatmap of W
    expect(html).toMatch(/fill="(#ffffff|#fff|rgb\(255, 255, 255\))"/i);
  });

  it('says so when a model has no trace', async () => {
    const { trace: _trace, ...untraced } = single;
    const html = await buildReport([{ label: 'csv model', model: untraced }]);
    expect(charts(html)).not.toContain('convergence');
    expect(html).toContain('No convergence trace');
  });

  it('writeReport writes the file atomically (no temporary file left)', async () => {
    const out = join(dir, 'atomic.html');
    await writeReport(out, [{ label: 'm', model: single }]);
    expect(readFileSync(out, 'utf8')).toMatch(/^<!DOCTYPE html>/);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('modelTagsFromPath', () => {
  it('reads penalties and seed from a model file name', () => {
    expect(modelTagsFromPath('out/birds-l1-0.05-seed-123.arrow')).toEqual({ l1: 0.05, l2: 0, seed: 123 });
    expect(modelTagsFromPath('birds_l2=1e-3_seed_7.csv')).toEqual({ l1: 0, l2: 0.001, seed: 7 });
    expect(modelTagsFromPath('birds-none-seed-1.parquet')).toEqual({ l1: 0, l2: 0, seed: 1 });
    expect(modelTagsFromPath('model.arrow')).toEqual({});
    for (const tags of [{ l1: 0.3, l2: 0, seed: 5 }, { l1: 0, l2: 0.01, seed: 9 }, { l1: 0, l2: 0, seed: 2 }]) {
      expect(modelTagsFromPath(`x-${modelFileStem(tags)}.arrow`)).toEqual(tags);
    }
  });
});

describe('nmflow report / eval (CLI, in process)', () => {
  const out: string[] = [];
  beforeAll(() => {
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => { out.push(String(s)); return true; });
  });
  afterAll(() => { vi.restoreAllMocks(); });

  it('writes a sweep report from model files and evaluates a model as JSON', async () => {
    const data = join(dir, 'data.mtx');
    await writeMtx(data, source.matrix);
    const files: string[] = [];
    for (const entry of sweep) files.push(join(dir, `m-${entry.label}.arrow`));
    await Promise.all(sweep.map((entry, i) => writeModel(files[i]!, entry.model as Model)));
    out.length = 0;
    const html = join(dir, 'cli.html');
    expect(await main(['report', ...files, '--data', data, '--details', '1', '--out', html, '--json'])).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ done: true, out: html, models: 6 });
    expect(charts(readFileSync(html, 'utf8'))).toContain('sweep-robustness');
    out.length = 0;
    expect(await main(['eval', files[0]!, data, '--json'])).toBe(0);
    const e = JSON.parse(out.join('')) as Record<string, number>;
    expect(e.rank).toBe(3);
    // H re-solved for the final W: no worse than the fit's last loss (computed with the previous W's H)
    expect(e.relativeLoss).toBeLessThanOrEqual(sweep[0]!.model.relativeLoss! + 1e-12);
    expect(e.relativeLoss).toBeCloseTo(sweep[0]!.model.relativeLoss!, 3);
    expect(e.kmeansSimilarity).toBeGreaterThan(0);
  });

  it('exits 2 on bad usage and 1 on data that does not fit the model', async () => {
    const model = join(dir, 'single.arrow');
    await writeModel(model, single);
    expect(await main(['report', model, '--out', join(dir, 'r.txt')])).toBe(2);
    expect(await main(['report', model])).toBe(2);
    const other = join(dir, 'other.mtx');
    await writeMtx(other, fromDense([1, 2, 3, 4], 2, 2).matrix);
    out.length = 0;
    expect(await main(['eval', model, other])).toBe(1);
    expect(out.join('')).toMatch(/the model has 15 features but the data has 2/);
    expect(await main(['report', model, '--data', other, '--out', join(dir, 'misfit.html')])).toBe(1);
  });
});

const chromium = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));

describe.skipIf(!chromium)(`the report in headless Chromium${chromium ? '' : ' (skipped: no chromium; apt-get install -y chromium)'}`, () => {
  it('loads without errors and shows every chart', async () => {
    const page = join(dir, 'browser.html');
    await writeReport(page, sweep, { data: source.matrix, details: 1 });
    const expected = charts(readFileSync(page, 'utf8'));
    const screenshot = process.env.NMFLOW_REPORT_SCREENSHOT ?? join(dir, 'report.png');
    const { stdout, stderr } = await promisify(execFile)(chromium!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', `--user-data-dir=${join(dir, 'chromium-profile')}`, '--enable-logging=stderr', '--v=0',
      '--window-size=1300,2400', `--screenshot=${screenshot}`, '--dump-dom', `file://${page}`,
    ], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
    expect(stderr).not.toMatch(/Uncaught|net::ERR_|Failed to load resource|CONSOLE.*error/i);
    expect(stdout.match(/<svg/g)?.length).toBe(expected.length);
    expect(charts(stdout)).toEqual(expected);
    for (const title of ['Sparsity of W vs penalty', 'Mean cosine between factors vs penalty', 'Convergence: tol per iteration', 'W: the top 5 features of each factor']) {
      expect(stdout).toContain(title);
    }
    expect(statSync(screenshot).size).toBeGreaterThan(20_000);
  }, 120_000);
});
