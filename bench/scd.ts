/**
 * Benchmark of weighted L1-NMF by sparse coordinate descent (sCD), one core.
 *
 *   npx tsx bench/scd.ts [--iterations 8] [--rank 10] [--lambdas 1,0.1,0.01,0]
 *                        [--skip-l2] [--skip-dense] [--only-synthetic | --only-movielens]
 *
 * Data: the synthetic 20000×5000 matrix at 1% density (rank-10 nonnegative model W0 = U², H0 = U²
 * at uniformly random positions, ×exp(0.1·N(0,1)) — the recipe of ../shared/peers/make_synthetic.py,
 * generated here from the seeded generator) and ../shared/data/movielens.mtx.
 * Start: the paper's recipe (src/model/l1/start.ts) and 10 crude multiplicative-update
 * least-squares iterations (private to this file), so sCD does not start from all-zero.
 * Reports breakpoint-updates per second (2·k·nnz per iteration / seconds), the fraction of W and H
 * entries at zero, time per l2 iteration (the library's fit, when it loads), and the gain of sCD
 * over a dense CD (the same kernels on every m·n entry, stored zeros included: that is the dense
 * algorithm at λ = 1) on the first iteration from the warm start, timed on a 4000×1000 matrix of
 * the same kind and scaled by m·n (movielens: on itself), next to the paper's
 * σ = mn·log(mn) / (nnz·log nnz). Prints a table and one JSON line.
 * Times are CPU seconds of this process (process.cpuUsage), wall seconds in the JSON too: the
 * machine this was written on is shared, and wall time there measures the neighbours.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { makeRandom, type Random } from '../src/kernel/random.js';
import { makeScdWorkspace } from '../src/kernel/scd-workspace.js';
import { scdUpdateLine } from '../src/kernel/scd-update.js';
import type { CscMatrix } from '../src/source/from-csc.js';
import { makeL1Problem, type L1Problem } from '../src/model/l1/problem.js';
import { l1Objective, scdIteration } from '../src/model/l1/iteration.js';
import { l1Diagnostics } from '../src/model/l1/diagnostics.js';
import { l1Start } from '../src/model/l1/start.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const ITERATIONS = flag('iterations', 8);
const at = args.indexOf('--lambdas');
const LAMBDAS = at >= 0 ? args[at + 1]!.split(',').map(Number) : [1, 0.1, 0.01, 0];
const SKIP_DENSE = args.includes('--skip-dense');
const ONLY = args.includes('--only-synthetic') ? 'synthetic' : args.includes('--only-movielens') ? 'movielens' : '';
const K = flag('rank', 10);
const WARMUP = 10;
const MOVIELENS = new URL('../../shared/data/movielens.mtx', import.meta.url).pathname;

// ---------------------------------------------------------------- data

function synthetic(m: number, n: number, density: number, r: number, seed: number): CscMatrix {
  const rng = makeRandom(seed);
  const nnz = Math.round(m * n * density);
  const seen = new Uint32Array(Math.ceil((m * n) / 32));
  const rows = new Int32Array(nnz), cols = new Int32Array(nnz);
  for (let q = 0; q < nnz;) {
    const i = Math.floor(rng.uniform() * m), j = Math.floor(rng.uniform() * n);
    const bit = j * m + i;
    if (seen[bit >>> 5]! & (1 << (bit & 31))) continue;
    seen[bit >>> 5] = seen[bit >>> 5]! | (1 << (bit & 31));
    rows[q] = i; cols[q] = j; q++;
  }
  const W0 = Float64Array.from({ length: m * r }, () => rng.uniform() ** 2);
  const H0 = Float64Array.from({ length: n * r }, () => rng.uniform() ** 2);
  // bucket by column, rows ascending inside a column (the bitset walked in order does both)
  const colPtr = new Int32Array(n + 1);
  for (let q = 0; q < nnz; q++) colPtr[cols[q]! + 1]!++;
  for (let j = 0; j < n; j++) colPtr[j + 1] = colPtr[j + 1]! + colPtr[j]!;
  const rowIdx = new Int32Array(nnz), values = new Float64Array(nnz);
  let p = 0;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      const bit = j * m + i;
      if (!(seen[bit >>> 5]! & (1 << (bit & 31)))) continue;
      let v = 0;
      for (let l = 0; l < r; l++) v += W0[i * r + l]! * H0[j * r + l]!;
      rowIdx[p] = i; values[p] = v * Math.exp(0.1 * gaussian(rng)); p++;
    }
  }
  return { m, n, colPtr, rowIdx, values };
}

function gaussian(rng: Random): number {
  const u = 1 - rng.uniform(), v = rng.uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

async function loadMtx(path: string): Promise<CscMatrix> {
  try {
    const specifier = '../src/source/read-mtx.js';
    const mod = (await import(specifier)) as { readMtx?: (p: string) => Promise<CscMatrix> };
    if (typeof mod.readMtx === 'function') return await mod.readMtx(path);
  } catch { /* fall through to the private parser */ }
  return parseMtx(readFileSync(path, 'utf8'));
}

/** Tiny Matrix Market coordinate reader (real/integer, general, sorted or not). */
function parseMtx(text: string): CscMatrix {
  const lines = text.split('\n');
  let at = 0;
  while (lines[at]!.startsWith('%')) at++;
  const [m, n, nnz] = lines[at++]!.trim().split(/\s+/).map(Number) as [number, number, number];
  const rows = new Int32Array(nnz), cols = new Int32Array(nnz), vals = new Float64Array(nnz);
  let q = 0;
  for (; at < lines.length && q < nnz; at++) {
    const line = lines[at]!.trim();
    if (line === '' || line.startsWith('%')) continue;
    const [i, j, v] = line.split(/\s+/).map(Number) as [number, number, number];
    rows[q] = i - 1; cols[q] = j - 1; vals[q] = v; q++;
  }
  const colPtr = new Int32Array(n + 1);
  for (let e = 0; e < q; e++) colPtr[cols[e]! + 1]!++;
  for (let j = 0; j < n; j++) colPtr[j + 1] = colPtr[j + 1]! + colPtr[j]!;
  const next = colPtr.slice(0, n), rowIdx = new Int32Array(q), values = new Float64Array(q);
  for (let e = 0; e < q; e++) { const d = next[cols[e]!]!++; rowIdx[d] = rows[e]!; values[d] = vals[e]!; }
  return { m, n, colPtr, rowIdx, values }; // makeL1Problem sorts rows inside a column if needed
}

// ---------------------------------------------------------------- start

/** l1Start, then crude Lee–Seung multiplicative least-squares updates (H then W), sparse. */
function warmStart(problem: L1Problem, k: number, iterations: number): { W: Float64Array; H: Float64Array } {
  const { m, n, colPtr, rowIdx, values } = problem;
  const { W, H } = l1Start(problem, k, makeRandom(42));
  const B = new Float64Array(Math.max(m, n) * k), G = new Float64Array(k * k);
  const gram = (F: Float64Array, rows: number): void => {
    G.fill(0);
    for (let r = 0; r < rows; r++) for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) G[a * k + b]! += F[r * k + a]! * F[r * k + b]!;
  };
  const multiply = (F: Float64Array, rows: number): void => { // F ← F ∘ B / (F G)
    for (let r = 0; r < rows; r++) {
      for (let a = 0; a < k; a++) {
        let den = 1e-16;
        for (let b = 0; b < k; b++) den += F[r * k + b]! * G[b * k + a]!;
        F[r * k + a] = F[r * k + a]! * (B[r * k + a]! / den);
      }
    }
  };
  for (let t = 0; t < iterations; t++) {
    B.fill(0); gram(W, m); // (WᵀA)ᵀ: n×k
    for (let j = 0; j < n; j++) for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) {
      const i = rowIdx[p]!, v = values[p]!;
      for (let l = 0; l < k; l++) B[j * k + l]! += v * W[i * k + l]!;
    }
    multiply(H, n);
    B.fill(0); gram(H, n); // A Hᵀ: m×k
    for (let j = 0; j < n; j++) for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) {
      const i = rowIdx[p]!, v = values[p]!;
      for (let l = 0; l < k; l++) B[i * k + l]! += v * H[j * k + l]!;
    }
    multiply(W, m);
  }
  return { W, H };
}

// ---------------------------------------------------------------- runs

interface ScdRun { secondsPerIteration: number; firstIterationSeconds: number; wallSecondsPerIteration: number; rate: number; f0: number; f: number[]; zeroFraction: number; zerosW: number; zerosH: number; dead: number }

function runScd(problem: L1Problem, k: number, iterations: number): ScdRun {
  const { W, H } = warmStart(problem, k, WARMUP);
  const ws = makeScdWorkspace(k, problem.maxLine);
  const f0 = l1Objective(problem, W, H, k, ws) / problem.sumA;
  scdIteration(problem, W.slice(), H.slice(), k, ws); // warm the JIT on a copy
  const f: number[] = [];
  let first = 0;
  const started = performance.now(), cpu0 = process.cpuUsage();
  for (let t = 0; t < iterations; t++) {
    f.push(scdIteration(problem, W, H, k, ws) / problem.sumA);
    if (t === 0) { const c = process.cpuUsage(cpu0); first = (c.user + c.system) / 1e6; }
  }
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - started) / 1000 / iterations;
  const seconds = (cpu.user + cpu.system) / 1e6 / iterations; // CPU time: the machine is shared
  const d = l1Diagnostics(W, H, problem.m, problem.n, k);
  return {
    secondsPerIteration: seconds, firstIterationSeconds: first, wallSecondsPerIteration: wall,
    rate: (2 * k * problem.nnz) / seconds, f0, f,
    zeroFraction: (d.zerosW + d.zerosH) / ((problem.m + problem.n) * k), zerosW: d.zerosW, zerosH: d.zerosH, dead: d.deadComponents,
  };
}

/**
 * The first CD iteration from the warm start at λ = 1, dense — every m·n entry a breakpoint
 * (stored zeros included), through the same kernels — and sparse (sCD), CPU seconds, best of 2,
 * and the gap between their objectives afterwards (they are the same algorithm at λ = 1).
 */
function runDense(sparse: L1Problem, k: number): { seconds: number; sparseSeconds: number; gap: number } {
  const { m, n } = sparse;
  const dense = new Float64Array(m * n); // row-major
  for (let j = 0; j < n; j++) for (let p = sparse.colPtr[j]!; p < sparse.colPtr[j + 1]!; p++) dense[sparse.rowIdx[p]! * n + j] = sparse.values[p]!;
  const colPtr = Int32Array.from({ length: n + 1 }, (_, j) => j * m);
  const rowIdx = Int32Array.from({ length: m * n }, (_, p) => p % m);
  const values = Float64Array.from({ length: m * n }, (_, p) => dense[(p % m) * n + Math.floor(p / m)]!);
  const rowPtr = Int32Array.from({ length: m + 1 }, (_, i) => i * n);
  const colIdx = Int32Array.from({ length: m * n }, (_, q) => q % n);
  const start = warmStart(sparse, k, WARMUP);
  const ws = makeScdWorkspace(k, Math.max(m, n));
  let best = Infinity, fDense = 0;
  for (let rep = 0; rep < 2; rep++) {
    const W = start.W.slice(), H = start.H.slice();
    const c0 = process.cpuUsage();
    ws.allSums.fill(0); // every entry is "nonzero": the aggregated zero breakpoint has weight 0
    for (let i = 0; i < m; i++) scdUpdateLine(colIdx, dense, rowPtr[i]!, rowPtr[i + 1]!, W, i * k, H, k, 1, ws);
    for (let j = 0; j < n; j++) scdUpdateLine(rowIdx, values, colPtr[j]!, colPtr[j + 1]!, H, j * k, W, k, 1, ws);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
    fDense = l1Objective(sparse, W, H, k);
  }
  const first = firstSparseIteration(sparse, k, start);
  return { seconds: best, sparseSeconds: first.seconds, gap: Math.abs(fDense - first.f) / first.f };
}

/** CPU seconds of the first sCD iteration from the warm start (best of 3 after one for the JIT). */
function firstSparseIteration(problem: L1Problem, k: number, start = warmStart(problem, k, WARMUP)): { seconds: number; f: number } {
  const ws = makeScdWorkspace(k, problem.maxLine);
  let best = Infinity, f = 0;
  for (let rep = 0; rep < 4; rep++) {
    const W = start.W.slice(), H = start.H.slice();
    const c0 = process.cpuUsage();
    f = scdIteration(problem, W, H, k, ws);
    const c = process.cpuUsage(c0);
    if (rep > 0) best = Math.min(best, (c.user + c.system) / 1e6);
  }
  return { seconds: best, f };
}

/**
 * CPU seconds per l2 iteration with the library's fit (null when it does not load): a fit of 6
 * iterations minus a fit of 2, over 4, so the start and the first solves are not counted.
 */
async function timeL2(matrix: CscMatrix, k: number): Promise<number | null> {
  if (args.includes('--skip-l2')) return null;
  try {
    const fitPath = '../src/pipeline/fit.js', srcPath = '../src/source/from-csc.js';
    const { fitModel } = (await import(fitPath)) as { fitModel: (s: unknown, o: unknown) => Promise<unknown> };
    const { fromCsc } = (await import(srcPath)) as { fromCsc: (m: CscMatrix) => unknown };
    const cpuOf = async (iterations: number): Promise<number> => {
      const c0 = process.cpuUsage();
      await fitModel(fromCsc(matrix), { rank: k, loss: 'l2', maxIterations: iterations, tol: 0 });
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / 1e6;
    };
    await cpuOf(2); // JIT
    return ((await cpuOf(6)) - (await cpuOf(2))) / 4;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- main

const sigma = (m: number, n: number, nnz: number): number => (m * n * Math.log(m * n)) / (nnz * Math.log(nnz));
const fmt = (x: number, digits = 3): string => (x === null || !Number.isFinite(x) ? 'n/a' : x.toPrecision(digits));

const rows: Array<Record<string, unknown>> = [];
const table: string[][] = [];

async function bench(name: string, matrix: CscMatrix, small: CscMatrix | null): Promise<void> {
  const l2 = await timeL2(matrix, K);
  for (const lambda of LAMBDAS) {
    const problem = makeL1Problem(matrix, lambda);
    const run = runScd(problem, K, ITERATIONS);
    let gain: number | null = null, gainSmall: number | null = null, gap: number | null = null, denseSeconds: number | null = null;
    if (lambda === 1 && !SKIP_DENSE) {
      const probe = makeL1Problem(small ?? matrix, 1);
      const dense = runDense(probe, K);
      gainSmall = dense.seconds / dense.sparseSeconds;
      gap = dense.gap;
      const scaled = dense.seconds * ((problem.m * problem.n) / (probe.m * probe.n));
      gain = small === null ? gainSmall : scaled / firstSparseIteration(problem, K).seconds;
      denseSeconds = dense.seconds;
    }
    const row = {
      data: name, m: problem.m, n: problem.n, nnz: problem.nnz, k: K, lambda,
      secondsPerIteration: run.secondsPerIteration, firstIterationSeconds: run.firstIterationSeconds,
      wallSecondsPerIteration: run.wallSecondsPerIteration,
      breakpointUpdatesPerSecond: run.rate, loadAverage: loadavg()[0],
      objectiveStart: run.f0, objectiveEnd: run.f[run.f.length - 1], zeroFraction: run.zeroFraction,
      zerosW: run.zerosW, zerosH: run.zerosH, deadComponents: run.dead,
      l2SecondsPerIteration: l2, scdOverL2: l2 === null ? null : run.secondsPerIteration / l2,
      sigma: sigma(problem.m, problem.n, problem.nnz), denseGain: gain, denseGainSmall: gainSmall, denseSecondsSmall: denseSeconds,
      denseSmallShape: small ? `${small.m}x${small.n}` : `${matrix.m}x${matrix.n}`, denseVsSparseObjectiveGap: gap,
    };
    rows.push(row);
    table.push([name, String(lambda), fmt(run.firstIterationSeconds), fmt(run.secondsPerIteration), fmt(run.rate / 1e6),
      fmt(run.zeroFraction), `${fmt(run.f0, 4)}→${fmt(row.objectiveEnd ?? NaN, 4)}`,
      l2 === null ? 'n/a' : fmt(run.secondsPerIteration / l2), fmt(row.sigma),
      gain === null ? '' : `${fmt(gain)} (${fmt(gainSmall ?? NaN)} on ${row.denseSmallShape})`]);
  }
}

if (ONLY !== 'movielens') await bench('synthetic', synthetic(20000, 5000, 0.01, 10, 42), synthetic(4000, 1000, 0.01, 10, 43));
if (ONLY !== 'synthetic') await bench('movielens', await loadMtx(MOVIELENS), null);

const header = ['data', 'λ', '1st iter s', 's/iter', 'M bp-upd/s', 'zero frac', 'objective (rel)', 'sCD/l2', 'σ (paper)', 'dense CD / sCD, 1st iter'];
const widths = header.map((h, c) => Math.max(h.length, ...table.map((r) => r[c]!.length)));
const line = (r: string[]): string => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ');
console.log(`CPU seconds, ${ITERATIONS} sCD iterations after ${WARMUP} multiplicative LS iterations; load average ${loadavg()[0]!.toFixed(1)}`);
console.log(line(header));
for (const r of table) console.log(line(r));
console.log(JSON.stringify({ bench: 'scd', iterations: ITERATIONS, rank: K, warmup: WARMUP, node: process.version, results: rows }));
