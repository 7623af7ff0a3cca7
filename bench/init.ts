/**
 * Which start reaches L* sooner: `init` 'random' vs 'nndsvd' vs 'nndsvda' (src/pipeline/nndsvd-start.ts).
 *
 *   npm run bench:init [-- --datasets movielens,synthetic] [--seeds 1,2,3,4,5] [--loss l2|l1] [--solver exact|fast]
 *                         [--max-iterations 200] [--out FILE]
 *
 * Per data set (../shared/data/movielens.mtx; bench/data/synthetic-20000x5000-1pct.mtx, made by
 * ../shared/peers/make_synthetic.py when missing), read once into memory, k = 10, threads 1, tol 0,
 * two targets (l2: relativeLoss; l1: the objective):
 *   L20: per seed, the loss of the random start after 20 iterations;
 *   L*:  the data set's L* in bench/results/lstar.json (RcppML 1.0's median loss after 20 iterations,
 *        from bench:time-to-loss), when there is one (l2 only).
 * For each seed the random start runs 20 iterations (and on until L*), then every other init runs until
 * its loss is ≤ both targets and it has done 20 iterations (at most --max-iterations). Reported per init,
 * over the seeds, for each target: how many seeds reach it, the iterations to it and the seconds to it
 * (the snapshot's elapsedSeconds, from subscription: the SVD start included); passes over A to L*
 * (iterations + the SVD start's 2q + 2); on how many seeds the init reached L* in fewer seconds than the
 * random start with the same seed (paired: the seconds are noisy, the pairs run side by side); the
 * start's own seconds (initSeconds) and the loss after 20 iterations ÷ the random start's. An untimed two-iteration fit per init first warms up the JIT (and
 * leaves the SVD start's WebAssembly memory for the next start to reuse); the order of the inits rotates
 * with the seed. The library is the working tree's src/ (as `npm test` sees it): the JSON records HEAD,
 * the files changed under src/ and the l2 `solver` the options resolved to, if that option exists.
 * Writes bench/results/init-<date>.json and prints the table, os.loadavg() and the command.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, takeWhile, toArray } from 'rxjs';
import { resolveOptions, type FitOptions, type InitMethod } from '../src/options.js';
import { fit } from '../src/pipeline/fit.js';
import type { Snapshot } from '../src/snapshot/snapshot.js';
import { loadMtx } from '../src/source/from-mtx.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import { DEFAULT_POWER_ITERATIONS } from '../src/model/svd/sketch.js';
import { markdownTable, NA, ratioText, secondsText } from './lib/markdown.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repoRoot);
const SYNTHETIC = join('bench', 'data', 'synthetic-20000x5000-1pct.mtx');
const RANK = 10;
const REFERENCE_ITERATIONS = 20;
const INITS: readonly InitMethod[] = ['random', 'nndsvd', 'nndsvda'];
/** Passes of the SVD start (2q + 2), read before the first iteration. */
const SVD_PASSES = 2 * DEFAULT_POWER_ITERATIONS + 2;
/** lstar.json's key for each data set. */
const LSTAR_KEYS: Record<string, string> = { movielens: 'movielens', synthetic: 'synthetic1m' };

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const list = (name: string, fallback: string): string[] => (flag(name) ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
const datasets = list('datasets', 'movielens,synthetic');
const seeds = list('seeds', '1,2,3,4,5').map(Number);
const loss = (flag('loss') ?? 'l2') as 'l2' | 'l1';
const solver = flag('solver');
const maxIterations = Number(flag('max-iterations') ?? 200);
const date = new Date().toISOString().slice(0, 10);
const out = flag('out') ?? join('bench', 'results', `init-${date}${loss === 'l1' ? '-l1' : ''}.json`);
const log = (line = ''): void => { console.log(line); };
const load = (): number[] => loadavg().map((x) => Number(x.toFixed(2)));
const git = (...args: string[]): string => { try { return execFileSync('git', args, { encoding: 'utf8' }).trim(); } catch { return NA; } };
const median = (xs: readonly number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};
const range = (xs: readonly number[], text: (x: number) => string): string =>
  xs.length === 0 ? NA : `${text(median(xs)!)} (${text(Math.min(...xs))}–${text(Math.max(...xs))})`;

function pathOf(name: string): string {
  if (name === 'synthetic') {
    if (!existsSync(SYNTHETIC)) {
      mkdirSync(dirname(SYNTHETIC), { recursive: true });
      log(`making ${SYNTHETIC} with ../shared/peers/make_synthetic.py`);
      execFileSync('/usr/bin/python3', ['../shared/peers/make_synthetic.py', SYNTHETIC], { stdio: 'inherit' });
    }
    return SYNTHETIC;
  }
  return join('..', 'shared', 'data', `${name}.mtx`);
}

const optionsFor = (init: InitMethod, seed: number, iterations: number): FitOptions => ({
  rank: RANK, loss, init, seed, tol: 0, maxIterations: iterations, threads: 1, ...(solver === undefined ? {} : { solver }),
} as FitOptions);
const lossOf = (s: Snapshot): number => (loss === 'l2' ? s.relativeLoss : s.objective);

interface Run {
  init: InitMethod;
  seed: number;
  /** First iteration with loss ≤ L20 (this seed's random start after 20 iterations) and its elapsedSeconds; undefined when not reached. */
  iterationsToTarget?: number;
  secondsToTarget?: number;
  /** The same for L* (lstar.json). */
  iterationsToLstar?: number;
  secondsToLstar?: number;
  initSeconds?: number;
  lossAt20?: number;
  secondsAt20?: number;
  lastIteration: number;
  lastLoss: number;
}

/** Runs until 20 iterations are done and the loss is ≤ both targets (undefined: none), or maxIterations. */
async function runInit(source: MatrixSource, init: InitMethod, seed: number, target: number | undefined, lstar: number | undefined): Promise<Run> {
  const stop = Math.min(target ?? Infinity, lstar ?? Infinity);
  const all = await lastValueFrom(fit(source, optionsFor(init, seed, maxIterations)).pipe(
    takeWhile((s) => s.final || s.iteration < REFERENCE_ITERATIONS || lossOf(s) > stop, true), toArray()));
  const done = all.filter((s) => !s.final && s.iteration >= 1);
  const hit = target === undefined ? undefined : done.find((s) => lossOf(s) <= target);
  const hitLstar = lstar === undefined ? undefined : done.find((s) => lossOf(s) <= lstar);
  const at20 = done.find((s) => s.iteration === REFERENCE_ITERATIONS);
  const last = done.at(-1)!;
  return {
    init, seed, lastIteration: last.iteration, lastLoss: lossOf(last),
    ...(hit ? { iterationsToTarget: hit.iteration, secondsToTarget: hit.elapsedSeconds } : {}),
    ...(hitLstar ? { iterationsToLstar: hitLstar.iteration, secondsToLstar: hitLstar.elapsedSeconds } : {}),
    ...(last.initSeconds === undefined ? {} : { initSeconds: last.initSeconds }),
    ...(at20 ? { lossAt20: lossOf(at20), secondsAt20: at20.elapsedSeconds } : {}),
  };
}

async function main(): Promise<void> {
  const resolved = resolveOptions(optionsFor('random', 1, 1)) as unknown as Record<string, unknown>;
  const report = {
    command: `npm run bench:init -- ${argv.join(' ')}`.trim(), date: new Date().toISOString(),
    head: git('rev-parse', 'HEAD'), srcChanges: git('status', '--short', '--', 'src').split('\n').filter(Boolean),
    node: process.version, cpus: cpus().length, loss, rank: RANK, seeds, referenceIterations: REFERENCE_ITERATIONS,
    solver: resolved.solver ?? '(no solver option)', threads: 1,
    loadAverage: { start: load() } as Record<string, number[]>,
    svdPasses: SVD_PASSES,
    datasets: {} as Record<string, { features: number; samples: number; nnz: number; lstar: number | undefined; runs: Run[]; targets: Record<number, number> }>,
  };
  log(`bench:init — ${loss}, k = ${RANK}, seeds ${seeds.join(',')}, threads 1, solver ${String(report.solver)}; load ${report.loadAverage.start!.join(' ')}`);
  const rows: string[][] = [];
  for (const name of datasets) {
    const source = await loadMtx(pathOf(name));
    const { m, n, values } = source.matrix;
    const lstar = loss === 'l2' ? lstarOf(name) : undefined;
    for (const init of INITS) await lastValueFrom(fit(source, optionsFor(init, 1, 2)).pipe(toArray())); // JIT warm-up
    const runs: Run[] = [];
    const targets: Record<number, number> = {};
    for (const [index, seed] of seeds.entries()) {
      // the random start, 20 iterations (and on to L*): its loss is L20 for this seed, reached (by definition) at iteration 20
      const reference = await runInit(source, 'random', seed, undefined, lstar);
      const target = reference.lossAt20!;
      targets[seed] = target;
      runs.push({ ...reference, iterationsToTarget: REFERENCE_ITERATIONS, secondsToTarget: reference.secondsAt20! });
      const order = INITS.filter((i) => i !== 'random');
      if (index % 2 === 1) order.reverse();
      for (const init of order) runs.push(await runInit(source, init, seed, target, lstar));
      log(`  ${name} seed ${seed}: L20 = ${target.toPrecision(6)}; ${runs.slice(-3).map((r) => `${r.init} ${r.iterationsToTarget ?? '—'} it. ${secondsText(r.secondsToTarget)} s, L* ${r.iterationsToLstar ?? '—'} it. ${secondsText(r.secondsToLstar)} s`).join('; ')}; load ${load().join(' ')}`);
    }
    report.datasets[name] = { features: m, samples: n, nnz: values.length, lstar, runs, targets };
    report.loadAverage[name] = load();
    const randomSeconds = (seed: number): number => runs.find((r) => r.init === 'random' && r.seed === seed)?.secondsToLstar ?? Infinity;
    for (const init of INITS) {
      const mine = runs.filter((r) => r.init === init);
      const reached = mine.filter((r) => r.iterationsToTarget !== undefined), reachedLstar = mine.filter((r) => r.iterationsToLstar !== undefined);
      const ratios = mine.flatMap((r) => (r.lossAt20 === undefined ? [] : [r.lossAt20 / targets[r.seed]!]));
      const count = (x: number): string => x.toFixed(x % 1 ? 1 : 0);
      rows.push([
        `${name} ${m}×${n}`, init, init === 'random' ? NA : range(mine.map((r) => (r.initSeconds ?? NaN) * 1000), (x) => x.toFixed(0)),
        `${reached.length}/${mine.length}`, range(reached.map((r) => r.iterationsToTarget!), count), range(reached.map((r) => r.secondsToTarget!), secondsText),
        lstar === undefined ? NA : `${reachedLstar.length}/${mine.length}`, range(reachedLstar.map((r) => r.iterationsToLstar!), count),
        range(reachedLstar.map((r) => r.iterationsToLstar! + (init === 'random' ? 0 : SVD_PASSES)), count),
        range(reachedLstar.map((r) => r.secondsToLstar!), secondsText),
        init === 'random' || lstar === undefined ? NA : `${mine.filter((r) => r.secondsToLstar !== undefined && r.secondsToLstar < randomSeconds(r.seed)).length}/${mine.length}`,
        range(ratios, (x) => ratioText(x, 4)),
      ]);
    }
  }
  report.loadAverage.end = load();
  const table = markdownTable(
    ['data', 'init', 'start (ms)', 'reached L20', 'iterations to L20', 'seconds to L20', 'reached L*', 'iterations to L*', 'passes to L*', 'seconds to L*',
      'L* before random (seeds)', `loss at ${REFERENCE_ITERATIONS} ÷ random's`],
    rows, [false, false, true, true, true, true, true, true, true, true, true, true]);
  log();
  log(table);
  log();
  log(`load average: ${Object.entries(report.loadAverage).map(([k, v]) => `${k} ${v.join(' ')}`).join('; ')}`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ ...report, table }, null, 1)}\n`);
  log(`wrote ${out}`);
}

/** L* of the data set from bench/results/lstar.json, if measured. */
function lstarOf(name: string): number | undefined {
  const file = join('bench', 'results', 'lstar.json');
  if (!existsSync(file)) return undefined;
  const entry = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, { lstar?: number }>)[LSTAR_KEYS[name] ?? name];
  return entry?.lstar;
}

await main();
