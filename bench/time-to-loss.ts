/**
 * Time to reach a given loss, side by side in one run (issue #11, item 5): RcppML 1.0 (default solver,
 * 1 and 2 threads; `solver = "cd"`, 1 thread), scikit-learn NMF(solver='cd'), RcppML 0.3.7 and nmflow
 * (each solver the build accepts, 1 and 2 threads), k = 10, seeds 1–5, least squares.
 *
 *   npm run bench:time-to-loss [-- --quick] [--datasets movielens,synthetic1m,synthetic10m]
 *                              [--seeds 1,2,3,4,5] [--only nmflow|peers] [--out FILE] [--lib DIR]
 *                              [--init nndsvd] [--no-build] [--skip-defaults] [--skip-process]
 *   npm run bench:time-to-loss -- --report bench/results/time-to-loss-<date>.json   (tables of a results file,
 *                                                                                 also of an interrupted run)
 *
 * loss = ‖A − W diag(d) H‖²_F / ‖A‖²_F in double, from each returned model (nmflow: each snapshot's
 * relativeLoss, the exact loss of that iteration's model). L* = the median over seeds 1–5 of the loss of
 * RcppML 1.0's default fit after 20 iterations (maxit = 20, tol 0, 1 thread; the double loss of the returned
 * model, not 1.0's own float32 loss). Time to L* = from the start of the fit (data already in memory;
 * set-up, JIT warm-up and worker start-up included) to the end of the first iteration whose loss ≤ L*.
 * Every system runs in fresh processes, one per (system, seed); see bench/README.md for how each one's
 * first iteration at L* is found (per-iteration curve, probes with maxit = j, bisection).
 * Then each library with its own defaults (final loss, iterations, time), and the whole-process comparison
 * `nmflow fit movielens.mtx --rank 10 --out x.csv` against Rscript readMM + RcppML 1.0 nmf + write.csv.
 * Writes bench/results/time-to-loss-<date>[-suffix].json (every raw run) and bench/results/lstar.json
 * (L* per data set, as soon as it is known); prints markdown tables.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lossText, markdownTable, NA, ratio, ratioText, secondsText } from './lib/markdown.js';
import { jsonLines, runCommand, tail } from './lib/run-command.js';

// ---------------------------------------------------------------- paths, data sets, options

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = resolve(repoRoot, '../shared');
const peersDir = resolve(sharedDir, 'peers');
const dataDir = resolve(repoRoot, 'bench/data');
const resultsDir = resolve(repoRoot, 'bench/results');
const lstarFile = resolve(resultsDir, 'lstar.json');
/** This run's private build (one per process: two runs at once must not replace each other's build). */
const buildDir = resolve(dataDir, `time-to-loss-build-${process.pid}`);
const helperDir = resolve(dataDir, 'time-to-loss-helpers');

const RANK = 10;
const LSTAR_SEEDS = [1, 2, 3, 4, 5];
const LSTAR_ITERATIONS = 20;
/** Iteration caps: a system that has not reached L* by the first cap is run again up to the second. */
const CAPS = [60, 200];
const NMFLOW_CAP = 200;
const SKLEARN_CAP = 1000;
const PROCESS_REPEATS = 5;
const TIMEOUT_SECONDS = 4 * 3600;

interface Dataset { name: string; label: string; file: string; make?: string[] }

const DATASETS: Record<string, Dataset> = {
  movielens: { name: 'movielens', label: 'movielens 3867×610 (75k nnz)', file: resolve(sharedDir, 'data/movielens.mtx') },
  synthetic1m: {
    name: 'synthetic1m', label: 'synthetic 20000×5000 @1% (1M nnz)',
    file: resolve(dataDir, 'synthetic-20000x5000-1pct.mtx'), make: [],
  },
  synthetic10m: {
    name: 'synthetic10m', label: 'synthetic 100000×20000 @0.5% (10M nnz)',
    file: resolve(dataDir, 'synthetic-100000x20000-0.5pct.mtx'), make: ['100000', '20000', '0.005'],
  },
};
const DEFAULT_DATASETS = ['movielens', 'synthetic1m', 'synthetic10m'];
const QUICK_DATASETS = ['movielens', 'synthetic1m'];

interface Options {
  datasets: string[];
  seeds: number[];
  quick: boolean;
  only: 'nmflow' | 'peers' | undefined;
  out: string | undefined;
  lib: string;
  init: string | undefined;
  /** nmflow's `emit` ('final': no per-iteration snapshots; the child follows the iterations through onIteration). */
  emit: string | undefined;
  build: boolean;
  defaults: boolean;
  process: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const withValue = new Set(['--datasets', '--seeds', '--only', '--out', '--lib', '--init', '--emit', '--report']);
  const switches = new Set(['--quick', '--no-build', '--skip-defaults', '--skip-process']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (withValue.has(arg)) { i++; continue; }
    if (!switches.has(arg)) throw new Error(`unknown argument ${arg} (flags: ${[...withValue, ...switches].join(' ')})`);
  }
  const value = (name: string): string | undefined => {
    const at = argv.indexOf(name);
    if (at < 0) return undefined;
    const next = argv[at + 1];
    if (next === undefined || next.startsWith('--')) throw new Error(`${name} needs a value`);
    return next;
  };
  const quick = argv.includes('--quick');
  const datasets = (value('--datasets')?.split(',') ?? (quick ? QUICK_DATASETS : DEFAULT_DATASETS)).map((s) => s.trim()).filter(Boolean);
  for (const name of datasets) if (!DATASETS[name]) throw new Error(`--datasets: unknown ${name} (known: ${Object.keys(DATASETS).join(', ')})`);
  const seeds = (value('--seeds')?.split(',') ?? (quick ? ['1', '2'] : LSTAR_SEEDS.map(String))).map(Number);
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) throw new Error('--seeds: integers separated by commas');
  const only = value('--only');
  if (only !== undefined && only !== 'nmflow' && only !== 'peers') throw new Error('--only: nmflow or peers');
  return {
    datasets, seeds, quick, only, out: value('--out'),
    lib: resolve(value('--lib') ?? resolve(dataDir, 'rcppml10-lib')),
    init: value('--init'), emit: value('--emit'), build: !argv.includes('--no-build'),
    defaults: !argv.includes('--skip-defaults'), process: !argv.includes('--skip-process'),
  };
}

// ---------------------------------------------------------------- small helpers

const log = (line = ''): void => { console.log(line); };
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
/** R's writer gives a number for a length-1 vector and null for NA: always an array, NaN for null. */
const numbers = (value: unknown): number[] => (Array.isArray(value) ? value : [value]).map((x) => (typeof x === 'number' ? x : NaN));
const load1 = (): number => loadavg()[0] ?? NaN;
const loads = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100);

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function today(): string {
  const now = new Date();
  const two = (x: number): string => String(x).padStart(2, '0');
  return `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 1)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** Environment of a timed child: the thread count for OpenMP (RcppML), one BLAS thread. */
function threadEnv(threads: number): NodeJS.ProcessEnv {
  return { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
}

/** The environment a user has: no thread variables (for the defaults section and the whole-process runs). */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS']) delete env[name];
  return env;
}

/** A path as run from the repository root (the commands in the results are re-runnable there). */
function shorten(text: string): string {
  return text.split(`${repoRoot}/`).join('').split(sharedDir).join('../shared');
}

interface JsonRun { ok: boolean; out: Record<string, unknown>; error?: string; processSeconds: number; command: string }

function runJson(command: string, args: readonly string[], env: NodeJS.ProcessEnv): JsonRun {
  const text = [command, ...args].map(shorten).map((a) => (/[\s'"(){};$]/.test(a) ? `'${a.replace(/'/g, "'\\''")}'` : a)).join(' ');
  const result = runCommand(command, args, { env, cwd: repoRoot, timeoutSeconds: TIMEOUT_SECONDS });
  const out = jsonLines(result.stdout).at(-1);
  if (!result.ok || out === undefined) {
    const error = `${result.error ?? 'no JSON line printed'}\n${tail(result.stderr + result.stdout, 15)}`;
    return { ok: false, out: out ?? {}, error, processSeconds: result.seconds, command: text };
  }
  return { ok: true, out, processSeconds: result.seconds, command: text };
}

// ---------------------------------------------------------------- helper scripts (written to bench/data)

/** One nmflow fit in a fresh Node process (plain JavaScript: no loader in the process or its workers). */
const NMFLOW_CHILD = `// written by bench/time-to-loss.ts: one nmflow fit in a fresh process; prints one JSON line.
// usage: node time-to-loss-nmflow.mjs '<json: {lib: path of dist/index.js, file, options, target?, verify?}>'
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const cfg = JSON.parse(process.argv[2]);
const lib = await import(pathToFileURL(resolve(cfg.lib)).href);
const l0 = performance.now();
const loaded = await lib.loadMtx(cfg.file);
const matrix = loaded.matrix;
const loadSeconds = (performance.now() - l0) / 1000;
const points = [];
let final;
let stopped = false;
const t0 = performance.now(); // the clock starts here: the matrix is in memory
const source = lib.fromCsc(matrix, { name: cfg.file });
await new Promise((resolve, reject) => {
  let subscription;
  let stopNow = false;
  // emit: 'final' — no per-iteration snapshots: the points come from onIteration (same fields).
  const onIteration = (p) => {
    points.push({ iteration: p.iteration, seconds: (performance.now() - t0) / 1000, elapsedSeconds: p.seconds, relativeLoss: p.relativeLoss, tol: p.tol });
    if (cfg.target !== undefined && p.relativeLoss <= cfg.target && !stopped) {
      stopped = true;
      if (subscription) { subscription.unsubscribe(); resolve(); } else stopNow = true;
    }
  };
  const fitOptions = cfg.options.emit === 'final' ? { ...cfg.options, onIteration } : cfg.options;
  subscription = lib.fit(source, fitOptions).subscribe({
    next(s) {
      const seconds = (performance.now() - t0) / 1000;
      if (s.final) {
        final = { iteration: s.iteration, relativeLoss: s.relativeLoss, converged: s.converged, tol: s.tol, seconds, elapsedSeconds: s.elapsedSeconds };
        if (cfg.verify) final.check = exactLoss(matrix, s);
        return;
      }
      points.push({ iteration: s.iteration, seconds, elapsedSeconds: s.elapsedSeconds, relativeLoss: s.relativeLoss, tol: s.tol });
      if (cfg.target !== undefined && s.relativeLoss <= cfg.target && !stopped) {
        stopped = true;
        if (subscription) { subscription.unsubscribe(); resolve(); } else stopNow = true;
      }
    },
    error: reject,
    complete: resolve,
  });
  if (stopNow) { subscription.unsubscribe(); resolve(); }
});
const wall = (performance.now() - t0) / 1000;
process.stdout.write(JSON.stringify({ ok: true, points, final, stopped, wall, loadSeconds, features: matrix.m, samples: matrix.n, nnz: matrix.values.length }) + '\\n');
process.exit(0);

/** ‖A − W diag(d) H‖² / ‖A‖² in double from a final snapshot (W m×k, H k×n, row-major). */
function exactLoss(A, s) {
  const { W, d, H } = s;
  if (!H) return { error: 'no H in the final snapshot' };
  const k = d.length, n = A.n, m = A.m;
  let normA2 = 0, cross = 0;
  for (let j = 0; j < n; j++) {
    for (let p = A.colPtr[j]; p < A.colPtr[j + 1]; p++) {
      const v = A.values[p], r = A.rowIdx[p];
      let x = 0;
      for (let c = 0; c < k; c++) x += W[r * k + c] * d[c] * H[c * n + j];
      normA2 += v * v; cross += v * x;
    }
  }
  let recon = 0;
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
    let ww = 0, hh = 0;
    for (let i = 0; i < m; i++) ww += W[i * k + a] * W[i * k + b];
    for (let j = 0; j < n; j++) hh += H[a * n + j] * H[b * n + j];
    recon += d[a] * d[b] * ww * hh;
  }
  return { relativeLoss: (normA2 - 2 * cross + recon) / normA2, reported: s.relativeLoss };
}
`;

/** scikit-learn driver: 'chain' (per-iteration loss by 1-iteration fits from the previous W, H), 'timed', 'defaults'. */
const SKLEARN_DRIVER = `# written by bench/time-to-loss.ts: scikit-learn NMF for the time-to-loss benchmark; prints one JSON line.
# usage: /usr/bin/python3 time-to-loss-sklearn.py PEERS_DIR chain|timed|defaults FILE K SEED [TARGET CAP | MAXIT]
#   chain    NMF(solver='cd', tol=0, init=None) for 1 iteration, then 1-iteration fits from the previous W and H
#            (init='custom': sklearn's CD sweeps keep no other state, so this is the same trajectory) until the
#            relative loss <= TARGET or CAP iterations: the per-iteration loss in double, untimed.
#   timed    one fit with max_iter = MAXIT, tol = 0 from the default init, timed (fit_transform only).
#   defaults NMF(n_components=K, random_state=SEED), everything else sklearn's defaults, timed, no thread limits.
# chain and timed run under threadpool_limits(1). The loss is rel_frobenius of shared/peers/sklearn_nmf.py.
import json, os, sys, time, warnings
sys.path.insert(0, sys.argv[1])
from sklearn_nmf import rel_frobenius
import numpy as np
import scipy.io
import scipy.sparse as sp
import sklearn
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

mode, path, k, seed = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
t_load = time.perf_counter()
npz = path + ".npz"
if os.path.exists(npz):
    A = sp.load_npz(npz).tocsc()
else:
    A = sp.csc_matrix(scipy.io.mmread(path), dtype=np.float64)
    if os.environ.get("TTL_CACHE_NPZ") == "1":
        sp.save_npz(path + ".partial.npz", A, compressed=False)
        os.replace(path + ".partial.npz", npz)
X = sp.csr_matrix(A.T.tocsr())  # samples x features, as sklearn_nmf.py does
load_seconds = time.perf_counter() - t_load
init_default = "nndsvda" if k <= min(X.shape) else "random"  # sklearn >= 1.1 with init=None
out = dict(tool="sklearn.NMF", version=sklearn.__version__, mode=mode, seed=seed, k=k, load_seconds=load_seconds,
           init="None -> " + init_default, omp=os.environ.get("OMP_NUM_THREADS", ""))

def make(max_iter, init, tol=0.0):
    return NMF(n_components=k, solver="cd", init=init, tol=tol, max_iter=max_iter, random_state=seed,
               alpha_W=0.0, alpha_H=0.0, l1_ratio=0.0)

def rel(W, H):
    return rel_frobenius(X, W, H)[0]

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", ConvergenceWarning)
    if mode == "chain":
        target, cap = float(sys.argv[6]), int(sys.argv[7])
        with threadpool_limits(limits=1):
            est = make(1, None)
            W = est.fit_transform(X); H = est.components_
            curve = [rel(W, H)]
            while curve[-1] > target and len(curve) < cap:
                est = make(1, "custom")
                W = est.fit_transform(X, W=W.copy(), H=H.copy()); H = est.components_
                curve.append(rel(W, H))
        out.update(target=target, cap=cap, curve=curve,
                   first_iteration_at_target=len(curve) if curve[-1] <= target else None)
    elif mode == "timed":
        maxit = int(sys.argv[6])
        with threadpool_limits(limits=1):
            est = make(maxit, None)
            t0 = time.perf_counter(); c0 = time.process_time()
            W = est.fit_transform(X)
            out.update(seconds=time.perf_counter() - t0, cpu=time.process_time() - c0)
        out.update(maxit=maxit, iterations=int(est.n_iter_), rel_loss=rel(W, est.components_))
    else:
        est = NMF(n_components=k, random_state=seed)
        t0 = time.perf_counter(); c0 = time.process_time()
        W = est.fit_transform(X)
        out.update(seconds=time.perf_counter() - t0, cpu=time.process_time() - c0, iterations=int(est.n_iter_),
                   rel_loss=rel(W, est.components_), tol=est.tol, max_iter=est.max_iter, solver=est.solver,
                   converged=not any(issubclass(w.category, ConvergenceWarning) for w in caught))
sys.stdout.write(json.dumps(out) + "\\n")
`;

/** RcppML (0.3.7 from the default library, or 1.0 with a library path) with its own defaults: nmf(A, k, seed). */
const RCPPML_DEFAULTS = `# written by bench/time-to-loss.ts: RcppML nmf(A, k, seed = SEED) with every other argument at the
# package's default; times the nmf() call; relative loss of the returned model in double (Gram identity).
# usage: Rscript time-to-loss-rcppml-defaults.R FILE K SEED [LIB]
suppressMessages(library(Matrix))
args <- commandArgs(TRUE)
path <- args[1]; k <- as.integer(args[2]); seed <- as.integer(args[3])
lib <- if (length(args) >= 4 && nzchar(args[4])) args[4] else NULL
if (is.null(lib)) suppressMessages(library(RcppML)) else suppressMessages(library(RcppML, lib.loc = lib))
rds <- paste0(path, ".rds")
A <- if (file.exists(rds)) readRDS(rds) else as(as(as(readMM(path), "CsparseMatrix"), "generalMatrix"), "dMatrix")
normA2 <- sum(A@x^2)
invisible(gc(verbose = FALSE))
c0 <- proc.time(); t0 <- as.numeric(Sys.time())
model <- nmf(A, k, seed = seed)
seconds <- as.numeric(Sys.time()) - t0; c1 <- proc.time() - c0
part <- function(name) if (isS4(model)) slot(model, name) else model[[name]]
W <- as.matrix(part("w")); d <- as.numeric(part("d")); H <- as.matrix(part("h"))
if (nrow(W) != nrow(A)) W <- t(W)
if (ncol(H) != ncol(A)) H <- t(H)
WD <- W %*% diag(d, length(d))
cross <- sum(as.matrix(crossprod(WD, A)) * H)
recon <- sum(crossprod(WD) * tcrossprod(H))
iter <- if (isS4(model)) model@misc$iter else model$iter  # 1.0: S4 with misc; 0.3.7: a list
final_tol <- if (isS4(model)) model@misc$tol else model$tol
num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x[1])) "null" else format(x[1], digits = 15)
cat(sprintf('{"tool":"RcppML","version":"%s","seconds":%s,"cpu":%s,"iter_reported":%s,"final_tol":%s,"rel_loss":%s,"omp":"%s"}\\n',
  as.character(packageVersion("RcppML")), num(seconds), num(c1[["user.self"]] + c1[["sys.self"]]),
  num(iter), num(final_tol), num((normA2 - 2 * cross + recon) / normA2), Sys.getenv("OMP_NUM_THREADS")))
`;

function writeHelpers(): { nmflow: string; sklearn: string; rDefaults: string } {
  mkdirSync(helperDir, { recursive: true });
  const files = {
    nmflow: join(helperDir, 'time-to-loss-nmflow.mjs'),
    sklearn: join(helperDir, 'time-to-loss-sklearn.py'),
    rDefaults: join(helperDir, 'time-to-loss-rcppml-defaults.R'),
  };
  // atomically: another run may be reading them
  const write = (file: string, text: string): void => { writeFileSync(`${file}.${process.pid}`, text); renameSync(`${file}.${process.pid}`, file); };
  write(files.nmflow, NMFLOW_CHILD);
  write(files.sklearn, SKLEARN_DRIVER);
  write(files.rDefaults, RCPPML_DEFAULTS);
  return files;
}

// ---------------------------------------------------------------- set-up: peers, nmflow build, data

function checkPeers(lib: string): { rcppml037: boolean; rcppml10: boolean; sklearn: boolean } {
  return {
    rcppml037: runCommand('Rscript', ['-e', 'suppressMessages({library(RcppML); library(Matrix)})']).ok,
    rcppml10: existsSync(join(lib, 'RcppML/DESCRIPTION')) && runCommand('Rscript', ['-e', `suppressMessages(library(RcppML, lib.loc = '${lib}'))`]).ok,
    sklearn: runCommand('/usr/bin/python3', ['-c', 'import sklearn, scipy, threadpoolctl']).ok,
  };
}

function ensurePeers(lib: string): { found: ReturnType<typeof checkPeers>; actions: string[] } {
  const actions: string[] = [];
  let found = checkPeers(lib);
  if (!found.rcppml037 || !found.sklearn) {
    const command = 'apt-get update && apt-get install -y r-cran-rcppml python3-sklearn r-cran-rcppeigen r-cran-matrix';
    log(`installing the missing peers: ${command}`);
    actions.push(command);
    const result = runCommand('bash', ['-c', command], { timeoutSeconds: 1800 });
    if (!result.ok) log(`install failed: ${result.error ?? ''}\n${tail(result.stderr, 10)}`);
    found = checkPeers(lib);
  }
  if (!found.rcppml10) {
    const command = `bash ${join(peersDir, 'build_rcppml10.sh')} ${lib}`;
    log(`building RcppML 1.0 (about 3 minutes): ${command}`);
    actions.push(command);
    const result = runCommand('bash', [join(peersDir, 'build_rcppml10.sh'), lib], { timeoutSeconds: 1800 });
    log(tail(result.stdout + result.stderr, 5));
    found = checkPeers(lib);
  }
  log(`peers: RcppML 0.3.7 ${found.rcppml037 ? 'ok' : 'MISSING'}, RcppML 1.0 (${lib}) ${found.rcppml10 ? 'ok' : 'MISSING'}, sklearn ${found.sklearn ? 'ok' : 'MISSING'}`);
  return { found, actions };
}

/**
 * Compiles the working tree's src/ (tsc -p tsconfig.build.json) into this run's private dist,
 * bench/data/time-to-loss-build-<pid>/dist, so that other engineers rebuilding dist/ (or running this
 * benchmark) during the run cannot change the code under test between two processes; bin/nmflow.js is
 * copied beside it (its ../dist/cli/run.js is then this build). Removed at the end of the run.
 * --no-build uses the checkout's dist/ and bin/nmflow.js instead.
 */
function buildNmflow(build: boolean): { dist: string; bin: string; note: string; private: boolean } {
  if (!build) return { dist: resolve(repoRoot, 'dist'), bin: resolve(repoRoot, 'bin/nmflow.js'), note: 'skipped (--no-build): the checkout\'s dist/', private: false };
  const dist = join(buildDir, 'dist');
  const bin = join(buildDir, 'bin', 'nmflow.js');
  log(`building nmflow (tsc -p tsconfig.build.json --outDir ${shorten(dist)}) …`);
  rmSync(buildDir, { recursive: true, force: true });
  const result = runCommand(process.execPath, [resolve(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', dist], { cwd: repoRoot });
  if (!result.ok && !existsSync(join(dist, 'index.js'))) {
    throw new Error(`nmflow does not build (use --no-build for the checkout's dist/):\n${tail(result.stdout + result.stderr, 20)}`);
  }
  mkdirSync(dirname(bin), { recursive: true });
  copyFileSync(resolve(repoRoot, 'bin/nmflow.js'), bin);
  return { dist, bin, note: result.ok ? 'ok' : `tsc reported type errors but emitted: ${tail(result.stdout, 5)}`, private: true };
}

interface NmflowLib {
  fit: (source: unknown, options: Record<string, unknown>) => unknown;
  fromDense: (data: number[], m: number, n: number) => unknown;
}

/** Which `solver` values the build accepts (an unknown option is ignored by resolveOptions, a bad value rejected). */
async function detectNmflow(dist: string, init: string | undefined): Promise<{ solvers: string[]; solverOption: boolean; defaultSolver?: string; init: string; note: string[] }> {
  const lib = await import(pathToFileURL(join(dist, 'index.js')).href) as NmflowLib;
  const source = lib.fromDense([1, 2, 3, 4], 2, 2);
  const rejects = (options: Record<string, unknown>): string | undefined => {
    try { lib.fit(source, { rank: 1, ...options }); return undefined; } catch (error) { return (error as Error).message; }
  };
  const note: string[] = [];
  const probe = rejects({ solver: '__probe__' });
  const solverOption = probe !== undefined && probe.includes('solver');
  const solvers = solverOption ? ['exact', 'fast'].filter((s) => rejects({ solver: s }) === undefined) : [];
  if (solverOption) note.push(`solver option: ${probe}`);
  else note.push('the build has no `solver` option: its one solver runs, labelled exact');
  let defaultSolver: string | undefined;
  try {
    const options = await import(pathToFileURL(join(dist, 'options.js')).href) as { resolveOptions: (o: Record<string, unknown>) => Record<string, unknown> };
    const value = options.resolveOptions({ rank: 1 })['solver'];
    if (typeof value === 'string') defaultSolver = value;
  } catch { /* an older layout: not recorded */ }
  let initNote = 'not set';
  if (init !== undefined) {
    const bogus = rejects({ init: '__probe__' });
    if (bogus === undefined) throw new Error(`--init ${init}: this build does not check string values of \`init\` (it would ignore it)`);
    const mine = rejects({ init });
    if (mine !== undefined) throw new Error(`--init ${init}: the build rejects it: ${mine}`);
    initNote = init;
  }
  return { solvers: solvers.length ? solvers : ['exact'], solverOption, ...(defaultSolver ? { defaultSolver } : {}), init: initNote, note };
}

function ensureData(dataset: Dataset, withR: boolean): string[] {
  const notes: string[] = [];
  if (dataset.make && !existsSync(dataset.file)) {
    mkdirSync(dirname(dataset.file), { recursive: true });
    const partial = `${dataset.file}.partial`;
    const args = [join(peersDir, 'make_synthetic.py'), partial, ...dataset.make];
    log(`generating ${dataset.file}: /usr/bin/python3 ${args.join(' ')} …`);
    const result = runCommand('/usr/bin/python3', args, { timeoutSeconds: 3600 });
    if (!result.ok) throw new Error(`make_synthetic.py failed: ${result.error ?? ''}\n${tail(result.stderr)}`);
    renameSync(partial, dataset.file);
    notes.push(result.stdout.trim());
    log(result.stdout.trim());
  }
  // R's cached dgCMatrix (rcppml_curve.R and the defaults script read FILE.rds when present): for generated files only
  if (withR && dataset.make && !existsSync(`${dataset.file}.rds`)) {
    log(`caching ${dataset.file}.rds …`);
    const f = dataset.file;
    const result = runCommand('Rscript', ['-e', `suppressMessages(library(Matrix)); A <- as(as(as(readMM('${f}'), 'CsparseMatrix'), 'generalMatrix'), 'dMatrix'); saveRDS(A, '${f}.rds.partial', compress = FALSE); invisible(file.rename('${f}.rds.partial', '${f}.rds'))`], { timeoutSeconds: 3600 });
    if (!result.ok) log(`could not cache the .rds (R reads the .mtx each time): ${tail(result.stderr, 5)}`);
    else notes.push(`cached ${f}.rds`);
  }
  return notes;
}

// ---------------------------------------------------------------- runs

type SystemKey = string;

interface TimeRun {
  system: SystemKey;
  seed: number;
  ok: boolean;
  error?: string;
  /** First iteration whose loss ≤ L*, absent when not reached within the caps. */
  iterations?: number;
  /** Seconds from the start of the fit to the end of that iteration. */
  seconds?: number;
  /** Loss (double) of the model of that iteration. */
  loss?: number;
  reached: boolean;
  cap: number;
  load1: number;
  details: Record<string, unknown>;
}

interface Context {
  options: Options;
  helpers: ReturnType<typeof writeHelpers>;
  dist: string;
  target: number;
  dataset: Dataset;
}

/** One rcppml_curve.R run of RcppML 1.0 (a fresh R process). */
function rcppml10(context: Context, seed: number, maxit: number, threads: number, solver: 'auto' | 'cd', callback: boolean): JsonRun {
  const args = [join(peersDir, 'rcppml_curve.R'), context.dataset.file, String(RANK), String(maxit), String(seed), String(threads), `--lib=${context.options.lib}`];
  if (solver === 'cd') args.push('--solver=cd');
  if (!callback) args.push('--no-callback');
  return runJson('Rscript', args, threadEnv(threads));
}

/**
 * The first j in 1..cap with loss(j) ≤ target, given loss(cap) ≤ target: from a guess (1.0's float32
 * curve) by probing the guess, then stepping towards the boundary by 1, 2, 4, … and bisecting what is left.
 * Assumes, like rcppml_curve.R's --bisect, that once below the target the loss stays below it.
 */
function firstReaching(cap: number, target: number, guess: number | undefined, probe: (j: number) => number): number {
  let lo = 0;
  let hi = cap;
  const update = (j: number): boolean => {
    const below = probe(j) <= target;
    if (below) hi = Math.min(hi, j); else lo = Math.max(lo, j);
    return below;
  };
  if (guess !== undefined) {
    const g = Math.min(Math.max(guess, 1), hi);
    const down = g === hi ? true : update(g);
    for (let step = 1; hi - lo > 1; step *= 2) {
      const j = down ? hi - step : lo + step;
      if (j <= lo || j >= hi) break;
      if (update(j) !== down) break;
    }
  }
  while (hi - lo > 1) update((lo + hi) >> 1);
  return hi;
}

function runRcppml10(context: Context, system: SystemKey, seed: number, threads: number, solver: 'auto' | 'cd'): TimeRun {
  const base: TimeRun = { system, seed, ok: false, reached: false, cap: 0, load1: load1(), details: {} };
  const attempts: Record<string, unknown>[] = [];
  for (const cap of CAPS) {
    const curve = rcppml10(context, seed, cap, threads, solver, true);
    if (!curve.ok) return { ...base, cap, error: curve.error ?? 'failed', details: { command: curve.command } };
    const iterSeconds = numbers(curve.out['iter_seconds']);
    const internal = numbers(curve.out['iter_loss_internal']);
    const finalLoss = num(curve.out['rel_loss']);
    const attempt: Record<string, unknown> = {
      cap, command: curve.command, fitSeconds: curve.out['fit_seconds'], relLossAtCap: finalLoss, iterSeconds, iterLossInternal: internal,
      omp: curve.out['omp'], version: curve.out['tool'], processSeconds: curve.processSeconds,
    };
    attempts.push(attempt);
    if (finalLoss === undefined || finalLoss > context.target) continue;
    // 1.0's own per-iteration loss is float32: a guess when it agrees with the double loss at the cap
    const lastInternal = internal.at(-1);
    const trusted = lastInternal !== undefined && Math.abs(lastInternal - finalLoss) <= 1e-4 * finalLoss;
    const guessIndex = internal.findIndex((x) => x <= context.target);
    const guess = trusted && guessIndex >= 0 ? guessIndex + 1 : undefined;
    const probes: { j: number; loss: number; fitSeconds: number | undefined; processSeconds: number }[] = [];
    const cache = new Map<number, number>([[cap, finalLoss]]);
    let failure: string | undefined;
    const probe = (j: number): number => {
      const known = cache.get(j);
      if (known !== undefined) return known;
      const run = rcppml10(context, seed, j, threads, solver, false);
      const loss = num(run.out['rel_loss']);
      if (!run.ok || loss === undefined) { failure = run.error ?? 'probe failed'; return -Infinity; }
      probes.push({ j, loss, fitSeconds: num(run.out['fit_seconds']), processSeconds: run.processSeconds });
      cache.set(j, loss);
      return loss;
    };
    const j = firstReaching(cap, context.target, guess, probe);
    Object.assign(attempt, { internalTrusted: trusted, guess, probes });
    if (failure !== undefined) return { ...base, cap, error: failure, details: { attempts } };
    const seconds = iterSeconds[j - 1];
    return {
      ...base, ok: true, reached: true, cap, iterations: j, loss: cache.get(j)!,
      ...(seconds !== undefined && Number.isFinite(seconds) ? { seconds } : {}),
      details: { attempts, timing: 'iter_seconds[j] of the curve run (nmf() called with maxit = cap and on_iteration)', probeFitSecondsAtJ: probes.find((p) => p.j === j)?.fitSeconds },
    };
  }
  return { ...base, ok: true, cap: CAPS.at(-1)!, details: { attempts } };
}

function runRcppml037(context: Context, system: SystemKey, seed: number): TimeRun {
  const base: TimeRun = { system, seed, ok: false, reached: false, cap: 0, load1: load1(), details: {} };
  const attempts: Record<string, unknown>[] = [];
  for (const cap of CAPS) {
    const args = [join(peersDir, 'rcppml_curve.R'), context.dataset.file, String(RANK), String(cap), String(seed), '1', `--bisect=${context.target}`];
    const run = runJson('Rscript', args, threadEnv(1));
    if (!run.ok) return { ...base, cap, error: run.error ?? 'failed', details: { command: run.command } };
    attempts.push({ cap, command: run.command, processSeconds: run.processSeconds, ...run.out });
    const j = num(run.out['first_iteration_at_target']);
    const seconds = num(run.out['seconds_to_target']);
    if (j === undefined) continue;
    const probeJ = numbers(run.out['probe_j']);
    const probeLoss = numbers(run.out['probe_loss']);
    return {
      ...base, ok: true, reached: true, cap, iterations: j, loss: probeLoss[probeJ.indexOf(j)] ?? NaN,
      ...(seconds === undefined ? {} : { seconds }),
      details: { attempts, timing: 'nmf() time of the probe with maxit = j (rcppml_curve.R --bisect)' },
    };
  }
  return { ...base, ok: true, cap: CAPS.at(-1)!, details: { attempts } };
}

function runSklearn(context: Context, system: SystemKey, seed: number): TimeRun {
  const base: TimeRun = { system, seed, ok: false, reached: false, cap: SKLEARN_CAP, load1: load1(), details: {} };
  const env = { ...threadEnv(1), ...(context.dataset.make ? { TTL_CACHE_NPZ: '1' } : {}) };
  const chain = runJson('/usr/bin/python3', [context.helpers.sklearn, peersDir, 'chain', context.dataset.file, String(RANK), String(seed), String(context.target), String(SKLEARN_CAP)], env);
  if (!chain.ok) return { ...base, error: chain.error ?? 'failed', details: { command: chain.command } };
  const curve = numbers(chain.out['curve']);
  const first = num(chain.out['first_iteration_at_target']);
  const details: Record<string, unknown> = { chainCommand: chain.command, curve, init: chain.out['init'], version: chain.out['version'], chainProcessSeconds: chain.processSeconds };
  if (first === undefined) return { ...base, ok: true, details };
  // the timed fit, in a fresh process: max_iter = j; if it does not reach the target (the chain was not the
  // same trajectory), step j up until it does
  for (let j = first; j < first + 10; j++) {
    const timed = runJson('/usr/bin/python3', [context.helpers.sklearn, peersDir, 'timed', context.dataset.file, String(RANK), String(seed), String(j)], env);
    if (!timed.ok) return { ...base, error: timed.error ?? 'failed', details: { ...details, command: timed.command } };
    const loss = num(timed.out['rel_loss']);
    const seconds = num(timed.out['seconds']);
    const timedRuns = [...((details['timed'] as unknown[] | undefined) ?? []), { command: timed.command, processSeconds: timed.processSeconds, ...timed.out }];
    details['timed'] = timedRuns;
    if (loss !== undefined && loss <= context.target) {
      details['chainMatchesTimed'] = Math.abs(loss - (curve[j - 1] ?? NaN)) <= 1e-9 * loss;
      return { ...base, ok: true, reached: true, iterations: j, loss, ...(seconds === undefined ? {} : { seconds }), details };
    }
  }
  return { ...base, ok: false, error: 'the timed fits did not reach the target the chain reached', details };
}

interface NmflowRun { ok: boolean; out: Record<string, unknown>; error?: string; processSeconds: number; command: string }

function nmflowChild(context: Context, options: Record<string, unknown>, env: NodeJS.ProcessEnv, extra: { target?: number; verify?: boolean } = {}): NmflowRun {
  const cfg = { lib: join(context.dist, 'index.js'), file: context.dataset.file, options, ...extra };
  return runJson(process.execPath, [context.helpers.nmflow, JSON.stringify(cfg)], env);
}

interface Point { iteration: number; seconds: number; elapsedSeconds: number; relativeLoss: number; tol: number }

function runNmflow(context: Context, system: SystemKey, seed: number, solver: string, solverOption: boolean, threads: number): TimeRun {
  const base: TimeRun = { system, seed, ok: false, reached: false, cap: NMFLOW_CAP, load1: load1(), details: {} };
  const options: Record<string, unknown> = {
    rank: RANK, seed, tol: 0, maxIterations: NMFLOW_CAP, threads,
    ...(solverOption ? { solver } : {}), ...(context.options.init ? { init: context.options.init } : {}),
    ...(context.options.emit ? { emit: context.options.emit } : {}),
  };
  const run = nmflowChild(context, options, threadEnv(threads), { target: context.target });
  if (!run.ok) return { ...base, error: run.error ?? 'failed', details: { command: run.command } };
  const points = (run.out['points'] as Point[] | undefined) ?? [];
  const hit = points.find((p) => p.relativeLoss <= context.target);
  const details = {
    command: run.command, options, points, stopped: run.out['stopped'], loadSeconds: run.out['loadSeconds'], processSeconds: run.processSeconds,
    shape: { features: run.out['features'], samples: run.out['samples'], nnz: run.out['nnz'] },
    timing: 'from before fromCsc(matrix) (the matrix loaded by loadMtx) to the snapshot of iteration j',
  };
  if (!hit) return { ...base, ok: true, details };
  return { ...base, ok: true, reached: true, iterations: hit.iteration, seconds: hit.seconds, loss: hit.relativeLoss, details };
}

/** The exact loss, computed in double from the returned W, d, H, against the snapshot's relativeLoss. */
function verifyNmflow(context: Context, solver: string, solverOption: boolean, iterations: number): Record<string, unknown> {
  const options: Record<string, unknown> = {
    rank: RANK, seed: 1, tol: 0, maxIterations: iterations, threads: 1, keepH: true,
    ...(solverOption ? { solver } : {}), ...(context.options.init ? { init: context.options.init } : {}),
  };
  const run = nmflowChild(context, options, threadEnv(1), { verify: true });
  const final = run.out['final'] as { check?: { relativeLoss?: number; reported?: number } } | undefined;
  const computed = final?.check?.relativeLoss;
  const reported = final?.check?.reported;
  return {
    solver, iterations, ok: run.ok, computed, reported,
    relativeDifference: computed !== undefined && reported !== undefined ? Math.abs(computed - reported) / computed : undefined,
    ...(run.ok ? {} : { error: run.error }),
  };
}

// ---------------------------------------------------------------- L*

interface LstarResult { lstar: number; perSeedLosses: Record<string, number>; runs: Record<string, unknown>[]; command: string }

function computeLstar(context: Omit<Context, 'target'>): LstarResult {
  const perSeedLosses: Record<string, number> = {};
  const runs: Record<string, unknown>[] = [];
  let command = '';
  for (const seed of LSTAR_SEEDS) {
    const run = rcppml10({ ...context, target: NaN }, seed, LSTAR_ITERATIONS, 1, 'auto', true);
    command = run.command.replace(/ (\d+) 1 --lib=/, ' SEED 1 --lib=');
    const loss = num(run.out['rel_loss']);
    runs.push({ seed, ok: run.ok, command: run.command, ...run.out, ...(run.ok ? {} : { error: run.error }) });
    if (!run.ok || loss === undefined) throw new Error(`L*: RcppML 1.0 failed on seed ${seed}: ${run.error ?? 'no rel_loss'}`);
    perSeedLosses[String(seed)] = loss;
    log(`  L* run seed ${seed}: loss after ${LSTAR_ITERATIONS} iterations ${lossText(loss)} (${secondsText(num(run.out['fit_seconds']))} s)`);
  }
  return { lstar: median(Object.values(perSeedLosses))!, perSeedLosses, runs, command: `OMP_NUM_THREADS=1 ${command}` };
}

function readLstarFile(): Record<string, Record<string, unknown>> {
  if (!existsSync(lstarFile)) return {};
  try { return JSON.parse(readFileSync(lstarFile, 'utf8')) as Record<string, Record<string, unknown>>; } catch { return {}; }
}

function saveLstar(dataset: Dataset, result: LstarResult, gitHead: string): void {
  const all = readLstarFile();
  all[dataset.name] = {
    lstar: result.lstar, perSeedLosses: result.perSeedLosses,
    definition: `median over seeds ${LSTAR_SEEDS.join(',')} of ‖A − W diag(d) H‖²/‖A‖² (double) of RcppML 1.0's default nmf (solver auto, k = ${RANK}, tol 0, maxit = ${LSTAR_ITERATIONS}, 1 thread)`,
    command: result.command, file: shorten(dataset.file), date: new Date().toISOString(), gitHead,
    by: 'npm run bench:time-to-loss',
  };
  writeJson(lstarFile, all);
  log(`  wrote L* = ${result.lstar} to ${lstarFile}`);
}

// ---------------------------------------------------------------- defaults and whole process

interface DefaultRun { system: string; seed: number; ok: boolean; error?: string; loss?: number; iterations?: number; seconds?: number; details: Record<string, unknown> }

function defaultsRuns(context: Context, seed: number, peers: boolean, nmflow: boolean): DefaultRun[] {
  const out: DefaultRun[] = [];
  const env = userEnv();
  if (peers) {
    for (const [system, lib] of [['rcppml10', context.options.lib], ['rcppml037', '']] as const) {
      const run = runJson('Rscript', [context.helpers.rDefaults, context.dataset.file, String(RANK), String(seed), lib], env);
      const reported = num(run.out['iter_reported']);
      const finalTol = num(run.out['final_tol']);
      // 0.3.7 breaks before counting the iteration that met tol (bench/README.md): count it
      const iterations = reported === undefined ? undefined : system === 'rcppml037' && finalTol !== undefined && finalTol < 1e-4 ? reported + 1 : reported;
      out.push({
        system, seed, ok: run.ok, ...(run.ok ? {} : { error: run.error ?? 'failed' }),
        ...(num(run.out['rel_loss']) === undefined ? {} : { loss: num(run.out['rel_loss'])! }),
        ...(iterations === undefined ? {} : { iterations }), ...(num(run.out['seconds']) === undefined ? {} : { seconds: num(run.out['seconds'])! }),
        details: { command: run.command, processSeconds: run.processSeconds, ...run.out },
      });
    }
    const sk = runJson('/usr/bin/python3', [context.helpers.sklearn, peersDir, 'defaults', context.dataset.file, String(RANK), String(seed)], env);
    out.push({
      system: 'sklearn', seed, ok: sk.ok, ...(sk.ok ? {} : { error: sk.error ?? 'failed' }),
      ...(num(sk.out['rel_loss']) === undefined ? {} : { loss: num(sk.out['rel_loss'])! }),
      ...(num(sk.out['iterations']) === undefined ? {} : { iterations: num(sk.out['iterations'])! }),
      ...(num(sk.out['seconds']) === undefined ? {} : { seconds: num(sk.out['seconds'])! }),
      details: { command: sk.command, processSeconds: sk.processSeconds, ...sk.out },
    });
  }
  if (nmflow) {
    const options: Record<string, unknown> = { rank: RANK, seed };
    const run = nmflowChild(context, options, env);
    const final = run.out['final'] as { iteration?: number; relativeLoss?: number; seconds?: number; converged?: boolean } | undefined;
    out.push({
      system: 'nmflow', seed, ok: run.ok && final !== undefined, ...(run.ok ? {} : { error: run.error ?? 'failed' }),
      ...(final?.relativeLoss === undefined ? {} : { loss: final.relativeLoss }), ...(final?.iteration === undefined ? {} : { iterations: final.iteration }),
      ...(final?.seconds === undefined ? {} : { seconds: final.seconds }),
      details: { command: run.command, processSeconds: run.processSeconds, options, converged: final?.converged, points: run.out['points'] },
    });
  }
  return out;
}

function wholeProcess(options: Options, bin: string, peers: boolean, nmflow: boolean): Record<string, unknown> {
  const file = DATASETS['movielens']!.file;
  const tmp = join(tmpdir(), `nmflow-ttl-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  const nmflowArgs = [bin, 'fit', file, '--rank', String(RANK), '--out', join(tmp, 'x.csv')];
  const rCode = `suppressMessages({library(Matrix); library(RcppML, lib.loc = '${options.lib}')}); A <- readMM('${file}'); m <- nmf(A, ${RANK}); write.csv(m@w, '${join(tmp, 'w.csv')}')`;
  const runs: { system: string; round: number; ok: boolean; seconds: number; load1: number; error?: string }[] = [];
  for (let round = 0; round < PROCESS_REPEATS; round++) {
    const order = round % 2 === 0 ? ['nmflow', 'rcppml10'] : ['rcppml10', 'nmflow'];
    for (const system of order) {
      if (system === 'nmflow' ? !nmflow : !peers) continue;
      const l = load1();
      const result = system === 'nmflow'
        ? runCommand(process.execPath, nmflowArgs, { env: userEnv(), cwd: repoRoot, timeoutSeconds: 600 })
        : runCommand('Rscript', ['-e', rCode], { env: userEnv(), timeoutSeconds: 600 });
      runs.push({ system, round, ok: result.ok, seconds: result.seconds, load1: l, ...(result.ok ? {} : { error: `${result.error ?? ''} ${tail(result.stderr, 5)}` }) });
      log(`  whole process round ${round + 1} ${system}: ${result.ok ? `${result.seconds.toFixed(3)} s` : `FAILED ${result.error ?? ''}`}`);
    }
  }
  rmSync(tmp, { recursive: true, force: true });
  const med = (system: string): number | undefined => median(runs.filter((r) => r.system === system && r.ok).map((r) => r.seconds));
  return {
    commands: { nmflow: `node ${nmflowArgs.join(' ').replace(tmp, '$TMP')}`, rcppml10: `Rscript -e "${rCode.replace(new RegExp(tmp, 'g'), '$TMP')}"` },
    env: 'no OMP_NUM_THREADS (the libraries\' own thread defaults)',
    runs, medianSeconds: { nmflow: med('nmflow'), rcppml10: med('rcppml10') },
  };
}

// ---------------------------------------------------------------- tables

interface SystemSpec { key: SystemKey; label: string; kind: 'peer' | 'nmflow'; run: (context: Context, seed: number) => TimeRun }

function systemsFor(solvers: string[], solverOption: boolean, options: Options): SystemSpec[] {
  const out: SystemSpec[] = [];
  if (options.only !== 'nmflow') {
    out.push(
      { key: 'rcppml10-auto-1t', label: 'RcppML 1.0 default, 1 thread', kind: 'peer', run: (c, s) => runRcppml10(c, 'rcppml10-auto-1t', s, 1, 'auto') },
      { key: 'rcppml10-auto-2t', label: 'RcppML 1.0 default, 2 threads', kind: 'peer', run: (c, s) => runRcppml10(c, 'rcppml10-auto-2t', s, 2, 'auto') },
      { key: 'rcppml10-cd-1t', label: 'RcppML 1.0 solver cd, 1 thread', kind: 'peer', run: (c, s) => runRcppml10(c, 'rcppml10-cd-1t', s, 1, 'cd') },
      { key: 'sklearn-cd', label: "sklearn NMF(solver='cd')", kind: 'peer', run: (c, s) => runSklearn(c, 'sklearn-cd', s) },
      { key: 'rcppml037', label: 'RcppML 0.3.7', kind: 'peer', run: (c, s) => runRcppml037(c, 'rcppml037', s) },
    );
  }
  if (options.only !== 'peers') {
    for (const solver of solvers) {
      for (const threads of [1, 2]) {
        const key = `nmflow-${solver}-${threads}t`;
        out.push({ key, label: `nmflow ${solver}, ${threads} thread${threads > 1 ? 's' : ''}`, kind: 'nmflow', run: (c, s) => runNmflow(c, key, s, solver, solverOption, threads) });
      }
    }
  }
  return out;
}

interface Summary { key: SystemKey; label: string; reached: number; runs: number; medianSeconds?: number; medianIterations?: number; ratio?: number; seconds: (number | null)[]; iterations: (number | null)[] }

function summarise(systems: readonly { key: SystemKey; label: string }[], runs: readonly TimeRun[]): Summary[] {
  const summaries = systems.map((spec): Summary => {
    const mine = runs.filter((r) => r.system === spec.key);
    // a seed that did not reach L* (or failed) counts as +∞ in the median
    const seconds = mine.map((r) => (r.reached && r.seconds !== undefined ? r.seconds : Infinity));
    const iterations = mine.map((r) => (r.reached && r.iterations !== undefined ? r.iterations : Infinity));
    const ms = median(seconds);
    const mi = median(iterations);
    return {
      key: spec.key, label: spec.label, reached: mine.filter((r) => r.reached).length, runs: mine.length,
      ...(ms !== undefined && Number.isFinite(ms) ? { medianSeconds: ms } : {}),
      ...(mi !== undefined && Number.isFinite(mi) ? { medianIterations: mi } : {}),
      seconds: seconds.map((x) => (Number.isFinite(x) ? x : null)), iterations: iterations.map((x) => (Number.isFinite(x) ? x : null)),
    };
  });
  const reference = summaries.find((s) => s.key === 'rcppml10-auto-1t')?.medianSeconds;
  for (const s of summaries) {
    const r = ratio(s.medianSeconds, reference);
    if (r !== undefined) s.ratio = r;
  }
  return summaries;
}

function cell(s: Summary | undefined): string {
  if (!s) return NA;
  if (s.medianSeconds === undefined) return `not reached (${s.reached}/${s.runs})`;
  const partial = s.reached < s.runs ? `, ${s.reached}/${s.runs} reached` : '';
  return `${secondsText(s.medianSeconds)} s (${String(s.medianIterations)} it${partial}) ×${ratioText(s.ratio)}`;
}

function buildTables(
  datasets: readonly string[], systems: readonly { key: SystemKey; label: string }[], summaries: Record<string, Summary[]>,
  lstars: Record<string, number>, defaultsAll: Record<string, DefaultRun[]>, wholeProcessResult: unknown,
): Record<string, string> {
  const header = ['data', 'L*', ...systems.map((s) => s.label)];
  const rows = datasets.map((name) => [name, lossText(lstars[name]), ...systems.map((spec) => cell(summaries[name]?.find((s) => s.key === spec.key)))]);
  const tables: Record<string, string> = {};
  tables['timeToLstar'] = markdownTable(header, rows);
  const perSeed: string[][] = [];
  for (const name of datasets) {
    for (const s of summaries[name] ?? []) {
      perSeed.push([name, s.label, s.seconds.map((x) => (x === null ? '—' : secondsText(x))).join(' / '), s.iterations.map((x) => (x === null ? '—' : String(x))).join(' / ')]);
    }
  }
  tables['perSeed'] = markdownTable(['data', 'system', 'seconds (per seed)', 'iterations'], perSeed);
  const defaultRows: string[][] = [];
  for (const name of datasets) {
    for (const system of ['rcppml10', 'rcppml037', 'sklearn', 'nmflow']) {
      const mine = (defaultsAll[name] ?? []).filter((r) => r.system === system && r.ok);
      if (mine.length === 0) continue;
      const ml = median(mine.map((r) => r.loss ?? NaN));
      defaultRows.push([
        name, { rcppml10: 'RcppML 1.0 nmf(A, 10, seed)', rcppml037: 'RcppML 0.3.7 nmf(A, 10, seed)', sklearn: 'sklearn NMF(10, random_state)', nmflow: 'nmflow fit {rank 10, seed}' }[system]!,
        lossText(ml), ratioText(ratio(ml, lstars[name]), 4), String(median(mine.map((r) => r.iterations ?? NaN))), secondsText(median(mine.map((r) => r.seconds ?? NaN))),
        mine.map((r) => `${lossText(r.loss)}/${String(r.iterations)}/${secondsText(r.seconds)}`).join(' '),
      ]);
    }
  }
  if (defaultRows.length) tables['defaults'] = markdownTable(['data', 'library, own defaults', 'median loss', '/ L*', 'median it', 'median s', 'per seed: loss/it/s'], defaultRows, [false, false, true, true, true, true, false]);
  const wp = wholeProcessResult as { medianSeconds?: Record<string, number | undefined> } | undefined;
  if (wp?.medianSeconds) {
    tables['wholeProcess'] = markdownTable(['whole process, movielens (median of 5)', 'seconds'], [
      ['nmflow fit --rank 10 --out x.csv', secondsText(wp.medianSeconds['nmflow'])],
      ['Rscript: readMM + RcppML 1.0 nmf(A, 10) + write.csv(W)', secondsText(wp.medianSeconds['rcppml10'])],
      ['ratio nmflow / R', ratioText(ratio(wp.medianSeconds['nmflow'], wp.medianSeconds['rcppml10']))],
    ]);
  }
  return tables;
}

function printTables(tables: Record<string, string>, seeds: readonly number[]): void {
  log(`\n### Time to L* (median over seeds ${seeds.join(',')}: seconds from the start of the fit, iterations; ×ratio to RcppML 1.0 default, 1 thread)`);
  log(tables['timeToLstar']);
  log('\n### Per seed');
  log(tables['perSeed']);
  if (tables['defaults']) { log('\n### Each library with its own defaults (threads included; no OMP_NUM_THREADS)'); log(tables['defaults']); }
  if (tables['wholeProcess']) { log('\n### Whole process'); log(tables['wholeProcess']); }
}

/** `--report FILE`: the tables of a results file, also of an interrupted run (medians over the seeds it has). */
function reportFromFile(file: string): void {
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    command?: string; datasets?: Record<string, { lstar?: { value?: number }; runs?: TimeRun[]; defaults?: DefaultRun[] }>;
    wholeProcess?: unknown; loadAverages?: Record<string, number[]>; settings?: { seeds?: number[] };
  };
  const datasets = Object.keys(report.datasets ?? {});
  const labels: Record<string, string> = {
    'rcppml10-auto-1t': 'RcppML 1.0 default, 1 thread', 'rcppml10-auto-2t': 'RcppML 1.0 default, 2 threads',
    'rcppml10-cd-1t': 'RcppML 1.0 solver cd, 1 thread', 'sklearn-cd': "sklearn NMF(solver='cd')", rcppml037: 'RcppML 0.3.7',
  };
  const keys: string[] = [];
  for (const name of datasets) for (const run of report.datasets?.[name]?.runs ?? []) if (!keys.includes(run.system)) keys.push(run.system);
  const order = (k: string): number => { const i = Object.keys(labels).indexOf(k); return i >= 0 ? i : 100; };
  keys.sort((a, b) => order(a) - order(b));
  const systems = keys.map((key) => ({ key, label: labels[key] ?? key.replace(/^nmflow-(\w+)-(\d)t$/, (_, solver: string, t: string) => `nmflow ${solver}, ${t} thread${t === '1' ? '' : 's'}`) }));
  const summaries: Record<string, Summary[]> = {};
  const lstars: Record<string, number> = {};
  const defaultsAll: Record<string, DefaultRun[]> = {};
  for (const name of datasets) {
    const entry = report.datasets?.[name];
    summaries[name] = summarise(systems, entry?.runs ?? []);
    if (entry?.lstar?.value !== undefined) lstars[name] = entry.lstar.value;
    defaultsAll[name] = entry?.defaults ?? [];
  }
  log(`${file}: ${report.command ?? ''}`);
  for (const name of datasets) {
    const runs = report.datasets?.[name]?.runs ?? [];
    log(`${name}: ${runs.length} runs, seeds ${[...new Set(runs.map((r) => r.seed))].join(',')}; defaults ${(defaultsAll[name] ?? []).length} runs`);
  }
  printTables(buildTables(datasets, systems, summaries, lstars, defaultsAll, report.wholeProcess), report.settings?.seeds ?? []);
  log(`\nload averages: ${Object.entries(report.loadAverages ?? {}).map(([k, v]) => `${k} ${v.join(', ')}`).join('; ')}`);
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const reportAt = argv.indexOf('--report');
  if (reportAt >= 0) { reportFromFile(resolve(argv[reportAt + 1]!)); return; }
  const started = new Date();
  const command = `npm run bench:time-to-loss${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const gitHead = runCommand('git', ['rev-parse', 'HEAD'], { cwd: repoRoot }).stdout.trim();
  const dirtySrc = runCommand('git', ['status', '--porcelain', '--', 'src'], { cwd: repoRoot }).stdout.split('\n').filter(Boolean);
  const loadAverages: Record<string, number[]> = { start: loads() };
  log(`# time to L* — ${started.toISOString()}`);
  log(`${command}\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}; load ${loads().join(', ')}`);
  log(`git HEAD ${gitHead.slice(0, 10)}${dirtySrc.length ? `; src/ has ${dirtySrc.length} uncommitted change(s) — the build is of the working tree` : '; src/ clean'}`);
  log(`data sets ${options.datasets.join(', ')}; seeds ${options.seeds.join(',')}; L* seeds ${LSTAR_SEEDS.join(',')}`);

  const wantPeers = options.only !== 'nmflow';
  const wantNmflow = options.only !== 'peers';
  const peers = wantPeers || options.process ? ensurePeers(options.lib) : undefined;
  if (wantPeers && peers && (!peers.found.rcppml10 || !peers.found.rcppml037 || !peers.found.sklearn)) throw new Error('a peer is missing (see above)');
  const build = wantNmflow ? buildNmflow(options.build) : { dist: resolve(repoRoot, 'dist'), bin: resolve(repoRoot, 'bin/nmflow.js'), note: 'not used (--only peers)', private: false };
  const nmflowInfo = wantNmflow ? await detectNmflow(build.dist, options.init) : { solvers: [], solverOption: false, init: 'n/a', note: [] };
  if (wantNmflow) log(`nmflow build: ${build.note}; solvers: ${nmflowInfo.solvers.join(', ')}${'defaultSolver' in nmflowInfo && nmflowInfo.defaultSolver ? ` (default ${nmflowInfo.defaultSolver})` : ''}; init: ${nmflowInfo.init}`);
  const helpers = writeHelpers();
  const systems = systemsFor(nmflowInfo.solvers, nmflowInfo.solverOption, options);

  const suffix = options.quick ? '-quick'
    : options.datasets.join(',') !== DEFAULT_DATASETS.join(',') || options.only || options.seeds.join(',') !== LSTAR_SEEDS.join(',')
      ? `-${[...options.datasets, ...(options.only ? [`only-${options.only}`] : [])].join('-')}` : '';
  const out = resolve(options.out ?? join(resultsDir, `time-to-loss-${today()}${suffix}.json`));
  const report: Record<string, unknown> = {
    benchmark: 'time-to-loss', command, started: started.toISOString(), gitHead, srcDirty: dirtySrc.length > 0, srcDirtyFiles: dirtySrc,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, totalMemoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    settings: {
      rank: RANK, seeds: options.seeds, lstarSeeds: LSTAR_SEEDS, lstarIterations: LSTAR_ITERATIONS, caps: CAPS, nmflowCap: NMFLOW_CAP, sklearnCap: SKLEARN_CAP,
      rcppml10Lib: options.lib, only: options.only ?? null, init: options.init ?? null,
      env: 'timed runs: OMP_NUM_THREADS = the thread count, OPENBLAS/MKL_NUM_THREADS = 1; defaults and whole process: none set',
    },
    nmflow: { build: build.note, dist: build.dist, ...nmflowInfo },
    peers: peers?.actions ?? [],
    loadAverages,
    datasets: {} as Record<string, unknown>,
  };
  const datasetsOut = report['datasets'] as Record<string, unknown>;
  const summaries: Record<string, Summary[]> = {};
  const lstars: Record<string, number> = {};
  const defaultsAll: Record<string, DefaultRun[]> = {};
  const save = (): void => { loadAverages['lastWrite'] = loads(); writeJson(out, report); };

  // L* of every data set first (lstar.json is then there for others while the timed runs go on)
  for (const name of options.datasets) {
    const dataset = DATASETS[name]!;
    log(`\n## L* — ${dataset.label} — ${dataset.file}\nload ${loads().join(', ')}`);
    const dataNotes = ensureData(dataset, wantPeers);
    const base = { options, helpers, dist: build.dist, dataset };
    const entry: Record<string, unknown> = { label: dataset.label, file: dataset.file, dataNotes };
    datasetsOut[name] = entry;
    if (wantPeers) {
      log(`L*: RcppML 1.0 default, maxit ${LSTAR_ITERATIONS}, 1 thread, seeds ${LSTAR_SEEDS.join(',')}`);
      const result = computeLstar(base);
      lstars[name] = result.lstar;
      entry['lstar'] = { value: result.lstar, perSeedLosses: result.perSeedLosses, command: result.command, runs: result.runs };
      saveLstar(dataset, result, gitHead);
    } else {
      const saved = readLstarFile()[name];
      const value = num(saved?.['lstar']);
      if (value === undefined) throw new Error(`--only nmflow needs L* of ${name} in ${lstarFile}: run once without --only`);
      lstars[name] = value;
      entry['lstar'] = { value, from: lstarFile, saved };
      log(`L* = ${value} (from ${lstarFile}, ${String(saved?.['date'])})`);
    }
    save();
  }

  for (const name of options.datasets) {
    const dataset = DATASETS[name]!;
    const lstar = lstars[name]!;
    loadAverages[name] = loads();
    log(`\n## ${dataset.label}: L* = ${lstar}\nload ${loads().join(', ')}`);
    const base = { options, helpers, dist: build.dist, dataset };
    const entry = datasetsOut[name] as Record<string, unknown>;
    entry['loadAverageBefore'] = loads();

    // time to L*: per seed, every system in turn (the order rotated per seed)
    const runs: TimeRun[] = [];
    entry['runs'] = runs;
    for (const [s, seed] of options.seeds.entries()) {
      const order = systems.map((_, i) => systems[(i + s) % systems.length]!);
      for (const spec of order) {
        const run = spec.run({ ...base, target: lstar }, seed);
        runs.push(run);
        log(`  seed ${seed} ${spec.label.padEnd(32)} ${run.ok ? (run.reached ? `${secondsText(run.seconds)} s, ${String(run.iterations)} it, loss ${lossText(run.loss)}` : `not reached within ${run.cap}`) : `FAILED ${run.error ?? ''}`}`);
      }
      save();
    }
    summaries[name] = summarise(systems, runs);
    entry['summary'] = summaries[name];

    // the exact loss of nmflow's returned model against its snapshot's relativeLoss (seed 1, 1 thread)
    if (wantNmflow) {
      const checks: Record<string, unknown>[] = [];
      for (const solver of nmflowInfo.solvers) {
        const j = runs.find((r) => r.system === `nmflow-${solver}-1t` && r.reached)?.iterations;
        if (j !== undefined) checks.push(verifyNmflow({ ...base, target: lstar }, solver, nmflowInfo.solverOption, j));
      }
      entry['nmflowLossCheck'] = checks;
      for (const c of checks) log(`  check nmflow ${String(c['solver'])}: loss from W, d, H ${String(c['computed'])} vs snapshot ${String(c['reported'])}`);
    }

    // each library with its own defaults
    if (options.defaults) {
      const defaults: DefaultRun[] = [];
      entry['defaults'] = defaults;
      for (const seed of options.seeds) {
        for (const run of defaultsRuns({ ...base, target: lstar }, seed, wantPeers, wantNmflow)) {
          defaults.push(run);
          log(`  defaults seed ${seed} ${run.system.padEnd(10)} ${run.ok ? `loss ${lossText(run.loss)}, ${String(run.iterations)} it, ${secondsText(run.seconds)} s` : `FAILED ${run.error ?? ''}`}`);
        }
        save();
      }
      defaultsAll[name] = defaults;
    }
    entry['loadAverageAfter'] = loads();
    save();
  }

  if (options.process) {
    log('\n## whole process: nmflow fit movielens --rank 10 --out x.csv vs Rscript readMM + RcppML 1.0 nmf + write.csv');
    report['wholeProcess'] = wholeProcess(options, build.bin, wantPeers, wantNmflow);
  }
  loadAverages['end'] = loads();

  const tables = buildTables(options.datasets, systems, summaries, lstars, defaultsAll, report['wholeProcess']);
  report['tables'] = tables;
  report['finished'] = new Date().toISOString();
  report['wallSeconds'] = (Date.now() - started.getTime()) / 1000;
  save();

  printTables(tables, options.seeds);
  if (build.private) rmSync(buildDir, { recursive: true, force: true });
  log(`\nload averages: ${Object.entries(loadAverages).map(([k, v]) => `${k} ${v.join(', ')}`).join('; ')}`);
  log(`wall time ${((Date.now() - started.getTime()) / 60000).toFixed(1)} min; wrote ${out}`);
}

await main();
