/**
 * nmflow against its peers, side by side in one run: RcppML 0.3.7 (C++/Eigen, through R) and
 * scikit-learn's NMF (solver 'cd'), least squares, k = 10, one thread each, the same seed.
 *
 *   npm run bench:peers [-- --quick] [--datasets hawaiibirds,movielens,synthetic]
 *                       [--rounds 3] [--repeat 3] [--seed 42] [--no-build] [--out FILE]
 *
 * For every data set, two modes:
 *   fixed  tol 0 and the same iteration count N for all (20 on the small sets, 10 on the
 *          synthetic one): seconds per iteration and the ratios nmflow/RcppML, nmflow/sklearn.
 *   tol    tol 1e-4, max 100 iterations: nmflow and RcppML share the stopping rule
 *          (1 − Pearson(W_t, W_{t−1}) < tol); sklearn runs with its own default (tol 1e-4 on the
 *          projected gradient, max_iter 200), which is not the same test. Iterations, final relative
 *          loss ‖A − WDH‖²/‖A‖², fit time; the loss ratio nmflow/RcppML.
 * Tools are interleaved: `rounds` rounds, each runs every tool (order rotated per round) for
 * `repeat` fits: nmflow as `repeat` processes, a peer as one process with --repeat. Each tool's
 * time is the minimum over its rounds × repeat fits (input reading excluded for all).
 * Every child gets OMP_NUM_THREADS=1 (see bench/README.md: without it RcppML 0.3.7 is 5–10×
 * slower on a busy 2-core machine even with its own thread count at 1).
 * Writes bench/results/peers-<date>[-quick].json and prints two markdown tables.
 */
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lossText, markdownTable, ms, NA, ratio, ratioText, secondsText } from './lib/markdown.js';
import { runTool, TOOL_LABELS, type Environment, type FitRequest, type ToolName, type ToolRun } from './lib/peer-tools.js';
import { runCommand, tail } from './lib/run-command.js';

// ---------------------------------------------------------------- options

interface Options {
  quick: boolean;
  datasets: string[];
  rounds: number;
  repeat: number;
  seed: number;
  rank: number;
  tol: number;
  maxIterations: number;
  sklearnMaxIterations: number;
  build: boolean;
  out?: string;
}

const DEFAULT_DATASETS = ['hawaiibirds', 'movielens', 'synthetic'];
const QUICK_DATASETS = ['hawaiibirds', 'movielens'];
const FIXED_ITERATIONS: Record<string, number> = { hawaiibirds: 20, movielens: 20, synthetic: 10 };
const TOOLS: readonly ToolName[] = ['nmflow', 'nmflow-cd', 'rcppml', 'sklearn'];

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string): string | undefined => {
    const at = argv.indexOf(`--${name}`);
    if (at < 0) return undefined;
    const next = argv[at + 1];
    if (next === undefined || next.startsWith('--')) throw new Error(`--${name} needs a value`);
    return next;
  };
  const integer = (name: string, fallback: number): number => {
    const text = value(name);
    const parsed = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name}: expected an integer ≥ 1, got ${String(text)}`);
    return parsed;
  };
  const known = new Set(['--quick', '--no-build', '--datasets', '--rounds', '--repeat', '--seed', '--out']);
  for (const arg of argv) {
    if (arg.startsWith('--') && !known.has(arg)) throw new Error(`unknown flag ${arg} (known: ${[...known].join(' ')})`);
  }
  const quick = argv.includes('--quick');
  const datasetsText = value('datasets');
  const out = value('out');
  return {
    quick,
    datasets: datasetsText === undefined ? (quick ? QUICK_DATASETS : DEFAULT_DATASETS) : datasetsText.split(',').map((s) => s.trim()).filter(Boolean),
    rounds: integer('rounds', quick ? 2 : 3),
    repeat: integer('repeat', quick ? 1 : 3),
    seed: integer('seed', 42),
    rank: 10,
    tol: 1e-4,
    maxIterations: 100,
    sklearnMaxIterations: 200,
    build: !argv.includes('--no-build'),
    ...(out === undefined ? {} : { out }),
  };
}

// ---------------------------------------------------------------- paths and setup

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = resolve(repoRoot, '../shared');
const peersDir = resolve(sharedDir, 'peers');
const dataDir = resolve(sharedDir, 'data');
const syntheticFile = resolve(repoRoot, 'bench/data/synthetic-20000x5000-1pct.mtx');

const log = (line = ''): void => { console.log(line); };

function uptime(): string {
  const result = runCommand('uptime', []);
  return result.ok ? result.stdout.trim() : `load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}`;
}

interface PeerSetup { rcppml: boolean; sklearn: boolean; actions: string[] }

function checkPeers(): { rcppml: boolean; jsonlite: boolean; sklearn: boolean } {
  return {
    rcppml: runCommand('Rscript', ['-e', 'suppressMessages({library(RcppML); library(Matrix)})']).ok,
    jsonlite: runCommand('Rscript', ['-e', 'library(jsonlite)']).ok,
    sklearn: runCommand('/usr/bin/python3', ['-c', 'import sklearn, scipy, threadpoolctl']).ok,
  };
}

/** Installs R's RcppML and python3-sklearn with apt-get, only when one is missing. */
function ensurePeers(): PeerSetup {
  const actions: string[] = [];
  let found = checkPeers();
  log(`peers: RcppML ${found.rcppml ? 'found' : 'missing'}, R jsonlite ${found.jsonlite ? 'found' : 'missing'}, sklearn ${found.sklearn ? 'found' : 'missing'}`);
  if (!found.rcppml || !found.sklearn || !found.jsonlite) {
    const packages = ['r-cran-rcppml', 'python3-sklearn', ...(found.jsonlite ? [] : ['r-cran-jsonlite'])];
    const root = process.getuid?.() === 0;
    const command = `${root ? '' : 'sudo -n '}apt-get update && ${root ? '' : 'sudo -n '}apt-get install -y ${packages.join(' ')}`;
    log(`installing the missing peers: ${command}`);
    actions.push(command);
    const result = runCommand('bash', ['-c', command], { timeoutSeconds: 1800 });
    log(tail(result.stdout, 5));
    if (!result.ok) {
      log(`install failed (${result.error ?? ''}); the missing peers will show n/a\n${tail(result.stderr, 20)}`);
      actions.push(`failed: ${result.error ?? ''}`);
    }
    found = checkPeers();
    log(`after install: RcppML ${found.rcppml ? 'ok' : 'missing'}, sklearn ${found.sklearn ? 'ok' : 'missing'}`);
  }
  return { rcppml: found.rcppml && found.jsonlite, sklearn: found.sklearn, actions };
}

/** Compiles src/ to dist/ (the CLI runs dist/). A failed build with an old dist/ is a warning. */
function buildNmflow(build: boolean): string {
  const cli = resolve(repoRoot, 'dist/cli/run.js');
  if (!build) return existsSync(cli) ? 'skipped (--no-build), using the existing dist/' : 'skipped, and dist/ is missing';
  log('building nmflow (tsc -p tsconfig.build.json) …');
  const result = runCommand(process.execPath, [resolve(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: repoRoot });
  if (result.ok) return 'ok';
  const note = existsSync(cli)
    ? `build failed, using the existing dist/ of ${statSync(cli).mtime.toISOString()}`
    : 'build failed and dist/ is missing: nmflow will show n/a';
  log(`${note}\n${tail(result.stdout + result.stderr, 20)}`);
  return note;
}

/** The synthetic 20000×5000 matrix at 1% density, made once by ../shared/peers/make_synthetic.py. */
function ensureSynthetic(): void {
  if (existsSync(syntheticFile)) return;
  mkdirSync(dirname(syntheticFile), { recursive: true });
  const partial = `${syntheticFile}.partial`;
  log(`generating ${syntheticFile} (make_synthetic.py, 20000 × 5000, density 0.01, rank 10, seed 42) …`);
  const result = runCommand('/usr/bin/python3', [resolve(peersDir, 'make_synthetic.py'), partial], { timeoutSeconds: 600 });
  if (!result.ok) throw new Error(`make_synthetic.py failed: ${result.error ?? ''}\n${tail(result.stderr)}`);
  renameSync(partial, syntheticFile);
  log(result.stdout.trim());
}

function datasetFile(name: string): string {
  return name === 'synthetic' ? syntheticFile : resolve(dataDir, `${name}.mtx`);
}

// ---------------------------------------------------------------- running

type Mode = 'fixed' | 'tol';

interface ToolSummary {
  tool: ToolName;
  label: string;
  ok: boolean;
  errors: string[];
  fits: number;
  fitSecondsMin?: number;
  fitSecondsAll: number[];
  cpuSecondsAll: number[];
  iterations?: number;
  relativeLoss?: number;
  converged?: boolean;
  secondsPerIteration?: number;
  laterSecondsPerIterationMin?: number;
  firstIterationSecondsMin?: number;
  processSeconds: number;
  details: Record<string, unknown>;
}

function summarise(tool: ToolName, runs: readonly ToolRun[]): ToolSummary {
  const good = runs.filter((run) => run.ok);
  const fitSecondsAll = good.flatMap((run) => run.fitSeconds);
  const last = good[good.length - 1];
  const min = (values: number[]): number | undefined => (values.length ? Math.min(...values) : undefined);
  const fitSecondsMin = min(fitSecondsAll);
  const iterationCounts = new Set(good.map((run) => run.iterations));
  const details: Record<string, unknown> = { ...(last?.details ?? {}) };
  if (iterationCounts.size > 1) details['warning'] = `iterations differ between rounds: ${[...iterationCounts].join(', ')}`;
  const later = min(good.flatMap((run) => run.laterSecondsPerIteration));
  const first = min(good.flatMap((run) => run.firstIterationSeconds));
  const summary: ToolSummary = {
    tool, label: TOOL_LABELS[tool], ok: good.length > 0,
    errors: runs.filter((run) => !run.ok).map((run) => run.error ?? 'failed'),
    fits: fitSecondsAll.length, fitSecondsAll, cpuSecondsAll: good.flatMap((run) => run.cpuSeconds),
    processSeconds: runs.reduce((sum, run) => sum + run.processSeconds, 0),
    details,
  };
  if (fitSecondsMin !== undefined) summary.fitSecondsMin = fitSecondsMin;
  if (last?.iterations !== undefined) summary.iterations = last.iterations;
  if (last?.relativeLoss !== undefined) summary.relativeLoss = last.relativeLoss;
  if (last?.converged !== undefined) summary.converged = last.converged;
  if (fitSecondsMin !== undefined && summary.iterations !== undefined && summary.iterations > 0) {
    summary.secondsPerIteration = fitSecondsMin / summary.iterations;
  }
  if (later !== undefined) summary.laterSecondsPerIterationMin = later;
  if (first !== undefined) summary.firstIterationSecondsMin = first;
  return summary;
}

interface ModeResult {
  mode: Mode;
  tol: number;
  maxIterations: number;
  sklearn: { tol: number; maxIterations: number };
  loadAverage1m: number[];
  tools: Partial<Record<ToolName, ToolSummary>>;
  ratios: Record<string, number | undefined>;
}

function runMode(mode: Mode, file: string, fixedIterations: number, options: Options, environment: Environment, available: Record<ToolName, boolean>): ModeResult {
  const tol = mode === 'fixed' ? 0 : options.tol;
  const maxIterations = mode === 'fixed' ? fixedIterations : options.maxIterations;
  // sklearn: in fixed mode tol 0 and the same N (it then runs exactly N); in tol mode its own defaults
  const sklearn = mode === 'fixed' ? { tol: 0, maxIterations: fixedIterations } : { tol: options.tol, maxIterations: options.sklearnMaxIterations };
  const runs: Record<ToolName, ToolRun[]> = { nmflow: [], 'nmflow-cd': [], rcppml: [], sklearn: [] };
  const loadAverage1m: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    loadAverage1m.push(loadavg()[0] ?? NaN);
    const order = TOOLS.map((_, i) => TOOLS[(i + round) % TOOLS.length]!);
    for (const tool of order) {
      if (!available[tool]) {
        runs[tool].push({ tool, ok: false, error: 'not installed', fitSeconds: [], cpuSeconds: [], firstIterationSeconds: [], laterSecondsPerIteration: [], processSeconds: 0, details: {} });
        continue;
      }
      const request: FitRequest = tool === 'sklearn'
        ? { file, rank: options.rank, maxIterations: sklearn.maxIterations, tol: sklearn.tol, seed: options.seed, repeat: options.repeat }
        : { file, rank: options.rank, maxIterations, tol, seed: options.seed, repeat: options.repeat };
      const run = runTool(tool, request, environment);
      // RcppML 0.3.7 is 5–10× slower when Eigen's own OpenMP may use both cores (bench/README.md)
      if (tool === 'rcppml' && run.ok && run.details['ompNumThreadsEnv'] !== '1') {
        run.details['warning'] = `Rscript saw OMP_NUM_THREADS=${String(run.details['ompNumThreadsEnv'])}, not 1: its times are not one-thread times`;
      }
      runs[tool].push(run);
      if (run.ok) {
        log(`  ${mode} round ${round + 1} ${TOOL_LABELS[tool].padEnd(16)} fits ${run.fitSeconds.map((s) => s.toFixed(3)).join(' ')} s, `
          + `${String(run.iterations)} it, rel. loss ${lossText(run.relativeLoss)}${run.details['warning'] ? `  WARNING ${String(run.details['warning'])}` : ''}`);
      } else {
        log(`  ${mode} round ${round + 1} ${TOOL_LABELS[tool].padEnd(16)} FAILED: ${run.error ?? ''}`);
      }
    }
  }
  const tools: Partial<Record<ToolName, ToolSummary>> = {};
  for (const tool of TOOLS) tools[tool] = summarise(tool, runs[tool]);
  const perIt = (tool: ToolName): number | undefined => tools[tool]?.secondsPerIteration;
  const fit = (tool: ToolName): number | undefined => tools[tool]?.fitSecondsMin;
  const loss = (tool: ToolName): number | undefined => tools[tool]?.relativeLoss;
  const ratios = mode === 'fixed'
    ? {
      nmflowPerIterationOverRcppml: ratio(perIt('nmflow'), perIt('rcppml')),
      nmflowPerIterationOverSklearn: ratio(perIt('nmflow'), perIt('sklearn')),
      nmflowCdPerIterationOverRcppml: ratio(perIt('nmflow-cd'), perIt('rcppml')),
      nmflowLaterPerIterationOverRcppml: ratio(tools.nmflow?.laterSecondsPerIterationMin, perIt('rcppml')),
    }
    : {
      nmflowLossOverRcppml: ratio(loss('nmflow'), loss('rcppml')),
      nmflowCdLossOverRcppml: ratio(loss('nmflow-cd'), loss('rcppml')),
      nmflowLossOverSklearn: ratio(loss('nmflow'), loss('sklearn')),
      nmflowFitTimeOverRcppml: ratio(fit('nmflow'), fit('rcppml')),
      nmflowCdFitTimeOverRcppml: ratio(fit('nmflow-cd'), fit('rcppml')),
      nmflowFitTimeOverSklearn: ratio(fit('nmflow'), fit('sklearn')),
    };
  return { mode, tol, maxIterations, sklearn, loadAverage1m, tools, ratios };
}

interface DatasetResult {
  name: string;
  file: string;
  features?: unknown;
  samples?: unknown;
  nnz?: unknown;
  uptimeBefore: string;
  fixed: ModeResult;
  tol: ModeResult;
}

// ---------------------------------------------------------------- tables

function shape(result: DatasetResult): string {
  const n = (value: unknown): string => (typeof value === 'number' ? value.toLocaleString('en-US') : '?');
  return `${n(result.features)} × ${n(result.samples)}, ${n(result.nnz)} nnz`;
}

function fixedTable(results: readonly DatasetResult[]): string {
  const header = ['data set', 'size', 'N', 'nmflow', 'nmflow after it. 1', 'nmflow --nnls cd', 'RcppML', 'sklearn (n_iter)', 'nmflow / RcppML', 'nmflow / sklearn', 'cd / RcppML'];
  const rows = results.map((r) => {
    const t = r.fixed.tools;
    const it = (tool: ToolName): string => {
      const s = t[tool];
      if (!s?.ok) return NA;
      const mismatch = s.iterations !== r.fixed.maxIterations ? ` (${String(s.iterations)} it)` : '';
      return `${ms(s.secondsPerIteration)}${mismatch}`;
    };
    const sk = t.sklearn;
    return [
      r.name, shape(r), String(r.fixed.maxIterations), it('nmflow'), ms(t.nmflow?.laterSecondsPerIterationMin), it('nmflow-cd'), it('rcppml'),
      sk?.ok ? `${ms(sk.secondsPerIteration)} (${String(sk.iterations)})` : NA,
      ratioText(r.fixed.ratios['nmflowPerIterationOverRcppml']), ratioText(r.fixed.ratios['nmflowPerIterationOverSklearn']),
      ratioText(r.fixed.ratios['nmflowCdPerIterationOverRcppml']),
    ];
  });
  return markdownTable(header, rows, [false, false, true, true, true, true, true, true, true, true, true]);
}

function tolTable(results: readonly DatasetResult[], options: Options): string {
  const header = ['data set', 'tool', 'iterations', 'rel. loss', 'loss / RcppML', 'fit s', 'time / RcppML', 'ms / it'];
  const rows: string[][] = [];
  for (const r of results) {
    const rc = r.tol.tools.rcppml;
    for (const tool of TOOLS) {
      const s = r.tol.tools[tool];
      const label = tool === 'sklearn' ? `sklearn (own tol ${options.tol.toExponential()}, max_iter ${options.sklearnMaxIterations})` : TOOL_LABELS[tool];
      if (!s?.ok) { rows.push([r.name, label, NA, NA, NA, NA, NA, NA]); continue; }
      const capped = s.converged === false ? ' (max)' : '';
      const lossRatio = ratio(s.relativeLoss, rc?.ok ? rc.relativeLoss : undefined);
      rows.push([
        r.name, label, `${String(s.iterations)}${capped}`, lossText(s.relativeLoss),
        tool === 'rcppml' ? '1' : ratioText(lossRatio, 4),
        secondsText(s.fitSecondsMin), tool === 'rcppml' ? '1' : ratioText(ratio(s.fitSecondsMin, rc?.ok ? rc.fitSecondsMin : undefined)),
        ms(s.secondsPerIteration),
      ]);
    }
  }
  return markdownTable(header, rows, [false, false, true, true, true, true, true, true]);
}

// ---------------------------------------------------------------- main

function today(): string {
  const now = new Date();
  const two = (x: number): string => String(x).padStart(2, '0');
  return `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
}

function main(): void {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const started = new Date();
  const uptimeStart = uptime();
  log(`# nmflow vs RcppML vs scikit-learn — ${started.toISOString()}`);
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}`);
  log(`load at start: ${uptimeStart}`);
  log(`data sets: ${options.datasets.join(', ')}; rank ${options.rank}, seed ${options.seed}, ${options.rounds} rounds × ${options.repeat} fits per tool`);

  const peers = ensurePeers();
  const build = buildNmflow(options.build);
  const nmflowOk = existsSync(resolve(repoRoot, 'dist/cli/run.js'));
  const available: Record<ToolName, boolean> = { nmflow: nmflowOk, 'nmflow-cd': nmflowOk, rcppml: peers.rcppml, sklearn: peers.sklearn };
  const gitHead = runCommand('git', ['rev-parse', 'HEAD'], { cwd: repoRoot }).stdout.trim();
  const dirty = runCommand('git', ['status', '--porcelain', '--', 'src'], { cwd: repoRoot }).stdout.trim().split('\n').filter(Boolean);
  if (dirty.length) log(`note: src/ has ${dirty.length} uncommitted change(s); the figures are for the working tree at HEAD ${gitHead.slice(0, 10)}`);

  const environment: Environment = {
    repoRoot, peersDir, timeoutSeconds: 3600,
    env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  };

  const results: DatasetResult[] = [];
  for (const name of options.datasets) {
    if (name === 'synthetic') ensureSynthetic();
    const file = datasetFile(name);
    if (!existsSync(file)) { log(`skipping ${name}: ${file} not found`); continue; }
    const fixedIterations = FIXED_ITERATIONS[name] ?? 20;
    const uptimeBefore = uptime();
    log(`\n## ${name} (${file})\nload: ${uptimeBefore}`);
    const fixed = runMode('fixed', file, fixedIterations, options, environment, available);
    const tol = runMode('tol', file, fixedIterations, options, environment, available);
    const details = fixed.tools.nmflow?.details ?? tol.tools.nmflow?.details ?? {};
    results.push({ name, file, features: details['features'], samples: details['samples'], nnz: details['nnz'], uptimeBefore, fixed, tol });
  }

  const uptimeEnd = uptime();
  const tables = { fixed: fixedTable(results), tol: tolTable(results, options) };
  log(`\n### Fixed iterations (tol 0): milliseconds per iteration, min over ${options.rounds * options.repeat} fits, one thread`);
  log(tables.fixed);
  log(`\n### tol ${options.tol.toExponential()} (nmflow and RcppML: 1 − Pearson(W_t, W_t−1), max ${options.maxIterations} iterations; sklearn: its own test)`);
  log(tables.tol);
  log(`\nload at start: ${uptimeStart}\nload at end:   ${uptimeEnd}`);

  const rcppmlVersion = results.map((r) => r.fixed.tools.rcppml?.details['version']).find((v) => v !== undefined);
  const sklearnVersion = results.map((r) => r.fixed.tools.sklearn?.details['version']).find((v) => v !== undefined);
  const report = {
    benchmark: 'peers',
    date: today(),
    started: started.toISOString(),
    finished: new Date().toISOString(),
    command: `npm run bench:peers${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    settings: {
      rank: options.rank, seed: options.seed, rounds: options.rounds, repeat: options.repeat,
      fitsPerTool: options.rounds * options.repeat, fixedIterations: FIXED_ITERATIONS, tol: options.tol,
      maxIterations: options.maxIterations, sklearn: { solver: 'cd', init: 'default (nndsvda)', maxIterationsTolMode: options.sklearnMaxIterations },
      threads: 1, env: { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      timing: 'wall seconds of the fit only (input reading excluded), minimum over all fits of a tool',
    },
    machine: {
      cpus: cpus().length, cpuModel: cpus()[0]?.model, totalMemoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version,
      uptimeStart, uptimeEnd,
    },
    nmflow: { gitHead, uncommittedSrcChanges: dirty.length, build },
    peers: { rcppml: rcppmlVersion, sklearn: sklearnVersion, install: peers.actions },
    datasets: results,
    tables,
  };
  const suffix = options.quick ? '-quick' : options.datasets.join(',') === DEFAULT_DATASETS.join(',') ? '' : `-${options.datasets.join('-')}`;
  const out = options.out ?? resolve(repoRoot, `bench/results/peers-${today()}${suffix}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(`${out}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(`${out}.tmp`, out);
  log(`\nwrote ${out}`);
}

main();
