/**
 * Projection benchmark (issue #11, item 6): the codes of every sample of a data set with a fitted l2 model's W
 * fixed — nmflow's projector (model/project.ts: exact NNLS per sample) with its right-hand sides by the
 * JavaScript rank kernel ("js", the code before the WebAssembly kernel) and by the WebAssembly SIMD kernel
 * ("wasm", the default), on one thread (makeProjector) and two (parallel/project-pool.ts), against RcppML
 * 0.3.7's project(A, w = W) and RcppML 1.0's predict(model, A) on the same W and data, one and two threads.
 *
 *   npx tsx bench/project.ts [--datasets synthetic,movielens] [--rounds 3] [--repeat 9] [--no-rcppml] [--out FILE]
 *
 * Model: fitModel(rank 10, seed 42, 10 iterations, tol 0, threads 1) — W (m × 10, unit column sums); every
 * projector gets that W (RcppML: a ≈ W h as nmflow's projection; no penalties). Data: the synthetic
 * 20000 × 5000 @ 1% matrix (bench/data/synthetic-20000x5000-1pct.mtx, made by ../shared/peers/make_synthetic.py
 * when missing) and movielens (3867 × 610), all samples in one chunk.
 * Times: minimum over `rounds` rounds (every system once per round, in turn) of `repeat` runs in one process
 * (nmflow: one warm-up run first; RcppML: one Rscript per round and
 * library, its data read before the clock; proc.time() counts milliseconds, so each timing covers as many
 * calls as make ≥ 0.1 s and is divided by their number); "per 5000
 * samples" scales by 5000 / n. Checks: js and wasm give the same codes, bit for bit, with 1 and 2 threads;
 * the relative loss ‖A − W H‖²/‖A‖² of each system's codes (RcppML's solver is coordinate descent, not exact).
 * Writes bench/results/project-<date>.json (with the command and the load averages).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCscChunk } from '../src/chunk/csc-chunk.js';
import { relativeLoss } from '../src/diagnostics/loss.js';
import { makeProjectPool } from '../src/parallel/project-pool.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromCsc, type CscMatrix } from '../src/source/from-csc.js';
import { readMtx } from '../src/source/read-mtx.js';
import { makeProjector } from '../src/model/project.js';
import { markdownTable } from './lib/markdown.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => { const at = argv.indexOf(`--${name}`); return at >= 0 ? argv[at + 1] ?? fallback : fallback; };
const datasets = flag('datasets', 'synthetic,movielens').split(',');
const repeat = Number(flag('repeat', '9'));
const rounds = Number(flag('rounds', '3'));
const withR = !argv.includes('--no-rcppml');
const RANK = 10;
const SYNTHETIC = join('bench', 'data', 'synthetic-20000x5000-1pct.mtx');
const RCPPML10 = join('bench', 'data', 'rcppml10-lib');
const command = `npx tsx bench/project.ts${argv.length ? ` ${argv.join(' ')}` : ''}`;
const loads: number[][] = [loadavg()];
const same = (a: Float64Array, b: Float64Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

interface Timing { system: string; threads: number; seconds: number[]; cpuSeconds?: number[]; loss?: number; sameAsJs?: boolean; error?: string }

async function nmflowTimings(A: CscMatrix, W: Float64Array, d: Float64Array): Promise<Timing[]> {
  const model = { loss: 'l2' as const, rank: RANK, features: A.m, W, d };
  const chunk = makeCscChunk({ ...A, colStart: 0 });
  const out: Timing[] = [];
  let reference: Float64Array | undefined;
  for (const threads of [1, 2]) {
    for (const wasm of [false, true]) {
      const pool = threads > 1 ? makeProjectPool(model, { wasm }, threads) : undefined;
      await pool?.ready;
      const solve = pool ? (c: typeof chunk) => pool.project(c) : makeProjector(model, { wasm });
      let H = solve(chunk); // warm-up (JIT; the pool's first shares)
      const seconds: number[] = [], cpuSeconds: number[] = [];
      for (let r = 0; r < repeat; r++) {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        H = solve(chunk);
        seconds.push((performance.now() - t0) / 1000);
        const cpu = process.cpuUsage(cpu0);
        cpuSeconds.push((cpu.user + cpu.system) / 1e6);
      }
      pool?.close();
      reference ??= H;
      out.push({
        system: `nmflow ${wasm ? 'wasm' : 'js'} rhs`, threads, seconds, cpuSeconds, sameAsJs: same(H, reference),
        loss: relativeLoss(A, { W, d: new Float64Array(RANK).fill(1), H, rank: RANK }),
      });
    }
  }
  return out;
}

/** RcppML 0.3.7 project() or 1.0 predict() in one Rscript: W from a binary file, codes written back for the loss. */
function rTimings(mtx: string, A: CscMatrix, W: Float64Array, lib: '0.3.7' | '1.0'): Timing[] {
  const dir = mkdtempSync(join(tmpdir(), 'nmflow-project-'));
  try {
    writeFileSync(join(dir, 'W.bin'), Buffer.from(W.buffer, W.byteOffset, W.byteLength));
    const rds = `${mtx}.rds`;
    const script = `
      suppressMessages({ library(Matrix); ${lib === '1.0' ? `library(RcppML, lib.loc = '${RCPPML10}')` : 'library(RcppML)'} })
      A <- if (file.exists('${rds}')) readRDS('${rds}') else as(as(as(readMM('${mtx}'), 'CsparseMatrix'), 'generalMatrix'), 'dMatrix')
      m <- ${A.m}; k <- ${RANK}
      W <- matrix(readBin('${join(dir, 'W.bin')}', 'double', m * k), nrow = m, ncol = k, byrow = TRUE)
      res <- list()
      for (threads in c(1L, 2L)) {
        ${lib === '1.0'
          ? 'model <- new("nmf", w = W, d = rep(1, k), h = matrix(0, k, 1), misc = list()); run <- function() predict(model, A, threads = threads)@h'
          : 'setRcppMLthreads(threads); run <- function() project(A, w = W)'}
        t0 <- proc.time()[['elapsed']]; H <- run(); first <- proc.time()[['elapsed']] - t0
        inner <- max(1L, as.integer(ceiling(0.1 / max(first, 0.001)))) # proc.time counts milliseconds: calls per timing ≥ 0.1 s
        times <- numeric(0)
        for (r in seq_len(${repeat})) { t0 <- proc.time()[['elapsed']]; for (i in seq_len(inner)) H <- run(); times <- c(times, (proc.time()[['elapsed']] - t0) / inner) }
        writeBin(as.vector(H), file.path('${dir}', paste0('H', threads, '.bin')))
        res[[length(res) + 1]] <- sprintf('{"threads":%d,"seconds":[%s]}', threads, paste(sprintf('%.6f', times), collapse = ','))
      }
      cat(paste(res, collapse = '\\n'), '\\n')`;
    const run = spawnSync('Rscript', ['-e', script], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2' }, timeout: 1200_000 });
    if (run.status !== 0) return [{ system: `RcppML ${lib}`, threads: 1, seconds: [], error: (run.stderr || run.stdout).trim().split('\n').slice(-3).join(' | ') }];
    return run.stdout.trim().split('\n').filter((line) => line.startsWith('{')).map((line) => {
      const { threads, seconds } = JSON.parse(line) as { threads: number; seconds: number[] };
      // H is k × n column-major in R = sample-major: h_j contiguous; nmflow's layout is rank × n row-major
      const Hs = new Float64Array(readFileSync(join(dir, `H${threads}.bin`)).buffer.slice(0));
      const H = new Float64Array(RANK * A.n);
      for (let j = 0; j < A.n; j++) for (let a = 0; a < RANK; a++) H[a * A.n + j] = Hs[j * RANK + a]!;
      return { system: `RcppML ${lib} ${lib === '1.0' ? 'predict' : 'project'}`, threads, seconds, loss: relativeLoss(A, { W, d: new Float64Array(RANK).fill(1), H, rank: RANK }) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: string[][] = [];
const results: Record<string, unknown> = {};
console.log(`# ${command}\n# load ${loadavg().map((x) => x.toFixed(2)).join(' ')}; ${cpus().length} × ${cpus()[0]?.model ?? '?'}; Node ${process.version}`);
for (const name of datasets) {
  const file = name === 'synthetic' ? SYNTHETIC : join('..', 'shared', 'data', `${name}.mtx`);
  if (name === 'synthetic' && !existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    execFileSync('/usr/bin/python3', [join('..', 'shared', 'peers', 'make_synthetic.py'), file], { stdio: 'inherit' });
  }
  const A = await readMtx(file);
  const model = await fitModel(fromCsc(A), { rank: RANK, seed: 42, maxIterations: 10, tol: 0, threads: 1 });
  const timings: Timing[] = [];
  const merge = (more: Timing[]): void => {
    for (const t of more) {
      const known = timings.find((x) => x.system === t.system && x.threads === t.threads);
      if (known === undefined) { timings.push(t); continue; }
      known.seconds.push(...t.seconds);
      if (t.cpuSeconds) known.cpuSeconds?.push(...t.cpuSeconds);
      if (t.sameAsJs === false) known.sameAsJs = false;
      if (t.error !== undefined) known.error = t.error;
    }
  };
  for (let round = 0; round < rounds; round++) {
    merge(await nmflowTimings(A, model.W, model.d));
    loads.push(loadavg());
    if (withR) for (const lib of ['0.3.7', '1.0'] as const) { merge(rTimings(file, A, model.W, lib)); loads.push(loadavg()); }
  }
  const base = timings.find((t) => t.system === 'nmflow js rhs' && t.threads === 1);
  const best = (t: Timing): number => Math.min(...t.seconds);
  for (const t of timings) {
    const s = t.seconds.length ? best(t) : NaN;
    if (t.seconds.length === 0 && t.error === undefined) t.error = 'no timing';
    rows.push([
      name, t.system, String(t.threads), t.error ?? (s * 1000).toFixed(2), (s * 5000 / A.n * 1000).toFixed(2),
      t.cpuSeconds ? (Math.min(...t.cpuSeconds) * 1000).toFixed(2) : '', base ? (best(base) / s).toFixed(2) : '',
      t.loss === undefined ? '' : t.loss.toFixed(6), t.sameAsJs === undefined ? '' : t.sameAsJs ? 'yes' : 'NO',
    ]);
  }
  results[name] = { m: A.m, n: A.n, nnz: A.values.length, timings };
}
loads.push(loadavg());
console.log(markdownTable(['data', 'system', 'threads', 'ms (min)', 'ms per 5000 samples', 'CPU ms (min)', 'speed vs js 1t', 'relative loss', 'same codes as js'],
  rows, [false, false, true, true, true, true, true, true, false]));
console.log(`# minimum over ${rounds} rounds × ${repeat} runs; load averages (1, 5, 15 min) at start, after each system group, at end: ${loads.map((l) => l.map((x) => x.toFixed(2)).join('/')).join('; ')}`);
const out = flag('out', join('bench', 'results', `project-${new Date().toISOString().slice(0, 10)}.json`));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ command, date: new Date().toISOString(), loadAverages: loads, rank: RANK, rounds, repeat, rows, results }, null, 1)}\n`);
console.log(`wrote ${out}`);
