/**
 * Online fitting benchmark (issue 5, item 6): one online least-squares pass (ρ = 1) against the batch
 * fit of the same data, its throughput on one thread, scikit-learn's MiniBatchNMF side by side, and a
 * breakdown of where the online step spends its time, with prototypes of changes to it.
 *
 *   npm run bench:online [-- --datasets hawaiibirds,movielens,synthetic] [--chunk-sizes 64,256,1024,4096]
 *                           [--rounds 2] [--seed 42] [--no-sklearn] [--no-variants] [--lib src] [--out FILE]
 *
 * Data: ../shared/data/{hawaiibirds,movielens}.mtx and the synthetic 20000 × 5000 @ 1% matrix
 * (bench/data/synthetic-20000x5000-1pct.mtx, made by ../shared/peers/make_synthetic.py when missing),
 * read once into memory; a chunk is `chunkSize` consecutive samples (columns). Two orders of the
 * samples: the file's ("sorted", the goal figure) and a seeded shuffle of the columns ("shuffled",
 * written to bench/data/online/<name>-shuffled-s<seed>.mtx for scikit-learn).
 *
 * Library: the committed sources of HEAD compiled into bench/data/online/build-<sha>/dist
 * (bench/lib/build-snapshot.ts), so that the figures describe one commit whatever is being edited in
 * src/ meanwhile; `--lib src` measures the working tree instead.
 *
 * Per data set, k = 10, seed 42, one thread, every figure the minimum over `rounds` interleaved rounds:
 * 1. batch: fitModel(tol 1e-4, at most 100 iterations, threads 1): its reported loss, its loss with H
 *    re-projected on its final W, the iterations the batch fit needed to come within 2% of its own final
 *    loss, and its time.
 * 2. online: fitOnline(fromCsc(matrix, { chunkSize }), { forgetting: 1 }) for every chunk size and
 *    order; timed from subscription to the final snapshot (only that one is emitted). Reported: the
 *    snapshot's own `relativeLoss` ("running": on the running statistics, each sample's h as solved when
 *    it arrived) and the TRUE loss of the final model on the whole matrix, ‖A − W diag(d) H‖²/‖A‖² with
 *    H re-projected with the final W by the fit's own exact NNLS (diagnostics solveH + relativeLoss);
 *    true / batch (re-projected); samples/s and nonzeros/s of the pass.
 * 3. phases and prototypes (update/online-l2.ts's step split into its H half — Gram of W, H of the chunk
 *    and the fold into the statistics — and its W half — the W re-solve from the statistics —, checked
 *    to give the same bytes as onlineStepL2): time of each half, and variants of the step that src/
 *    does not have: a warm-up of w ALS iterations on the first chunk alone, r inner iterations per chunk
 *    (the chunk's h re-solved with the new W, its statistics replaced, W re-solved), W re-solved only
 *    every c chunks, W re-solved by s plain CD sweeps from the warm start (no support step), and a window
 *    of the last L chunks whose h are re-solved at every step (their statistics replaced).
 * 4. scikit-learn (../shared/peers/sklearn_nmf.py, /usr/bin/python3, OMP_NUM_THREADS=1):
 *    MiniBatchNMF with max_iter 1 (= one pass over the samples: n_steps = ceil(n / batch_size)), tol 0,
 *    no early stopping, forget_factor 1 (its ρ = 1) and batch size = chunk size, init NNDSVDa (its
 *    default; computed from the whole matrix) and random; and its batch NMF (solver cd, its defaults).
 *    Its loss is computed from its own codes of the pass (fit_transform), like nmflow's running loss.
 * Writes bench/results/online-<date>.json and prints the tables and the command.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom } from 'rxjs';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import type { CscMatrix } from '../src/source/from-csc.js';
import type { ResolvedOptions } from '../src/options.js';
import type { L2State } from '../src/update/l2-state.js';
import { buildSnapshot, importLibrary } from './lib/build-snapshot.js';
import { lossText, markdownTable, ms, NA, ratio, ratioText, secondsText } from './lib/markdown.js';
import { jsonLines, runCommand, tail } from './lib/run-command.js';

// ---------------------------------------------------------------- options

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(repoRoot);
const sharedDir = resolve(repoRoot, '../shared');
const DATA_DIR = join('bench', 'data', 'online');
const SYNTHETIC = join('bench', 'data', 'synthetic-20000x5000-1pct.mtx');
const RANK = 10;
const GOAL_LOSS = 1.02;
const GOAL_NNZ_PER_SECOND = 2e6;

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const list = (name: string, fallback: string): string[] => (flag(name) ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
const datasets = list('datasets', 'hawaiibirds,movielens,synthetic');
const chunkSizes = list('chunk-sizes', '64,256,1024,4096').map(Number);
const rounds = Number(flag('rounds') ?? 2);
const seed = Number(flag('seed') ?? 42);
const withSklearn = !argv.includes('--no-sklearn');
const withVariants = !argv.includes('--no-variants');
const libRoot = flag('lib');
/** The chunk size of the headline figures (the smallest of the sweep with ≥ 2 M nnz/s on the synthetic matrix; see README). */
const DEFAULT_CHUNK = 1024;
/** Chunk sizes of the prototype variants: small sets pass few chunks, the synthetic one is slow below 256. */
const variantChunks = (name: string): number[] => (name === 'synthetic' ? [256, 1024] : [64, 256, 1024]);

const log = (line = ''): void => { console.log(line); };
const uptime = (): string => {
  const r = runCommand('uptime', []);
  return r.ok ? r.stdout.trim() : `load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}`;
};
const cpuSeconds = (since: NodeJS.CpuUsage): number => { const u = process.cpuUsage(since); return (u.user + u.system) / 1e6; };
const min = (xs: readonly number[]): number | undefined => (xs.length ? Math.min(...xs) : undefined);
const rate = (count: number, seconds: number | undefined): number | undefined => (seconds !== undefined && seconds > 0 ? count / seconds : undefined);
const millions = (x: number | undefined): string => (x === undefined ? NA : (x / 1e6).toFixed(2));
const thousands = (x: number | undefined): string => (x === undefined ? NA : (x / 1e3).toFixed(1));
const yesNo = (ok: boolean | undefined): string => (ok === undefined ? NA : ok ? 'yes' : 'no');

// ---------------------------------------------------------------- the library under test

interface Library {
  fitOnline: typeof import('../src/pipeline/fit-online.js').fitOnline;
  fitModel: typeof import('../src/pipeline/fit.js').fitModel;
  fromCsc: typeof import('../src/source/from-csc.js').fromCsc;
  splitColumns: typeof import('../src/source/from-csc.js').splitColumns;
  readMtx: typeof import('../src/source/read-mtx.js').readMtx;
  writeMtx: typeof import('../src/source/write-mtx.js').writeMtx;
  makeCscChunk: typeof import('../src/chunk/csc-chunk.js').makeCscChunk;
  solveH: typeof import('../src/diagnostics/solve-h.js').solveH;
  relativeLoss: typeof import('../src/diagnostics/loss.js').relativeLoss;
  makeRandom: typeof import('../src/kernel/random.js').makeRandom;
  resolveOptions: typeof import('../src/options.js').resolveOptions;
  online: typeof import('../src/update/online-l2.js');
  stepL2: typeof import('../src/update/step-l2.js').stepL2;
  updateWFromStats: typeof import('../src/update/end-pass-l2.js').updateWFromStats;
  gram: typeof import('../src/kernel/gram.js');
  nnls: typeof import('../src/kernel/nnls-solve.js');
  clearFactorCache: typeof import('../src/kernel/nnls-support.js').clearFactorCache;
  nnlsCd: typeof import('../src/kernel/nnls-cd.js').nnlsCd;
  scaleColumns: typeof import('../src/kernel/scale.js').scaleColumns;
  gramLoss: typeof import('../src/kernel/gram-loss.js').gramLoss;
  pearsonTol: typeof import('../src/kernel/pearson.js').pearsonTol;
}

async function loadLibrary(root: string): Promise<Library> {
  const load = <T>(path: string): Promise<T> => importLibrary<T>(root, path);
  const [fitOnlineM, fitM, cscM, readM, writeM, chunkM, solveHM, lossM, randomM, optionsM, online, stepM, endM, gram, nnls, supportM, cdM, scaleM, gramLossM, pearsonM] = await Promise.all([
    load<typeof import('../src/pipeline/fit-online.js')>('pipeline/fit-online.js'),
    load<typeof import('../src/pipeline/fit.js')>('pipeline/fit.js'),
    load<typeof import('../src/source/from-csc.js')>('source/from-csc.js'),
    load<typeof import('../src/source/read-mtx.js')>('source/read-mtx.js'),
    load<typeof import('../src/source/write-mtx.js')>('source/write-mtx.js'),
    load<typeof import('../src/chunk/csc-chunk.js')>('chunk/csc-chunk.js'),
    load<typeof import('../src/diagnostics/solve-h.js')>('diagnostics/solve-h.js'),
    load<typeof import('../src/diagnostics/loss.js')>('diagnostics/loss.js'),
    load<typeof import('../src/kernel/random.js')>('kernel/random.js'),
    load<typeof import('../src/options.js')>('options.js'),
    load<typeof import('../src/update/online-l2.js')>('update/online-l2.js'),
    load<typeof import('../src/update/step-l2.js')>('update/step-l2.js'),
    load<typeof import('../src/update/end-pass-l2.js')>('update/end-pass-l2.js'),
    load<typeof import('../src/kernel/gram.js')>('kernel/gram.js'),
    load<typeof import('../src/kernel/nnls-solve.js')>('kernel/nnls-solve.js'),
    load<typeof import('../src/kernel/nnls-support.js')>('kernel/nnls-support.js'),
    load<typeof import('../src/kernel/nnls-cd.js')>('kernel/nnls-cd.js'),
    load<typeof import('../src/kernel/scale.js')>('kernel/scale.js'),
    load<typeof import('../src/kernel/gram-loss.js')>('kernel/gram-loss.js'),
    load<typeof import('../src/kernel/pearson.js')>('kernel/pearson.js'),
  ]);
  return {
    fitOnline: fitOnlineM.fitOnline, fitModel: fitM.fitModel, fromCsc: cscM.fromCsc, splitColumns: cscM.splitColumns,
    readMtx: readM.readMtx, writeMtx: writeM.writeMtx, makeCscChunk: chunkM.makeCscChunk, solveH: solveHM.solveH,
    relativeLoss: lossM.relativeLoss, makeRandom: randomM.makeRandom, resolveOptions: optionsM.resolveOptions, online,
    stepL2: stepM.stepL2, updateWFromStats: endM.updateWFromStats, gram, nnls, clearFactorCache: supportM.clearFactorCache,
    nnlsCd: cdM.nnlsCd, scaleColumns: scaleM.scaleColumns, gramLoss: gramLossM.gramLoss, pearsonTol: pearsonM.pearsonTol,
  };
}

/** ‖A − W diag(d) H‖²/‖A‖² with H re-projected on (W, d): the exact NNLS of the fit, W fixed. */
function trueLoss(lib: Library, A: CscMatrix, W: Float64Array, d: Float64Array): number {
  const H = lib.solveH(A, { rank: RANK, features: A.m, W, d });
  return lib.relativeLoss(A, { W, d, H, rank: RANK });
}

/** The columns of A in a seeded random order (Fisher–Yates with the library's generator). */
function shuffleColumns(lib: Library, A: CscMatrix, shuffleSeed: number): CscMatrix {
  const random = lib.makeRandom(shuffleSeed);
  const order = Int32Array.from({ length: A.n }, (_, j) => j);
  for (let j = A.n - 1; j > 0; j--) {
    const q = Math.floor(random.uniform() * (j + 1));
    const t = order[j]!; order[j] = order[q]!; order[q] = t;
  }
  const colPtr = new Int32Array(A.n + 1);
  const rowIdx = new Int32Array(A.values.length);
  const values = new Float64Array(A.values.length);
  let p = 0;
  for (let j = 0; j < A.n; j++) {
    const s = order[j]!;
    for (let t = A.colPtr[s]!; t < A.colPtr[s + 1]!; t++) { rowIdx[p] = A.rowIdx[t]!; values[p] = A.values[t]!; p++; }
    colPtr[j + 1] = p;
  }
  return { m: A.m, n: A.n, colPtr, rowIdx, values };
}

// ---------------------------------------------------------------- 1. batch and 2. online (the product)

interface BatchResult {
  iterations: number;
  reportedLoss: number;
  trueLoss: number;
  iterationsWithin2Percent: number | undefined;
  seconds: number[];
  cpuSeconds: number[];
}

async function runBatch(lib: Library, A: CscMatrix, previous: BatchResult | undefined): Promise<BatchResult> {
  const source = lib.fromCsc(A);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const model = await lib.fitModel(source, { rank: RANK, seed, tol: 1e-4, maxIterations: 100, threads: 1 });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(cpu0);
  if (previous) { previous.seconds.push(seconds); previous.cpuSeconds.push(cpu); return previous; }
  const within = model.trace.find((point) => point.relativeLoss <= GOAL_LOSS * model.relativeLoss)?.iteration;
  return {
    iterations: model.iteration, reportedLoss: model.relativeLoss, trueLoss: trueLoss(lib, A, model.W, model.d),
    iterationsWithin2Percent: within, seconds: [seconds], cpuSeconds: [cpu],
  };
}

interface OnlineResult {
  order: Order;
  chunkSize: number;
  chunks: number;
  samples: number;
  nnz: number;
  runningLoss: number;
  trueLoss: number;
  seconds: number[];
  cpuSeconds: number[];
  /** Every round gave the same final W (the fit is deterministic; a difference would void the comparison). */
  sameBytes: boolean;
  W?: Float64Array;
}

type Order = 'sorted' | 'shuffled';

async function runOnline(lib: Library, A: CscMatrix, order: Order, chunkSize: number, previous: OnlineResult | undefined): Promise<OnlineResult> {
  const source = lib.fromCsc(A, { chunkSize });
  const chunks = Math.ceil(A.n / chunkSize);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const last = await lastValueFrom(lib.fitOnline(source, { rank: RANK, seed, forgetting: 1, emitEvery: chunks + 1, threads: 1 }));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(cpu0);
  if (previous) {
    previous.seconds.push(seconds);
    previous.cpuSeconds.push(cpu);
    previous.sameBytes &&= previous.W !== undefined && Buffer.from(previous.W.buffer).equals(Buffer.from(last.W.buffer));
    return previous;
  }
  return {
    order, chunkSize, chunks: last.iteration, samples: last.samplesSeen, nnz: last.nnzSeen, runningLoss: last.relativeLoss,
    trueLoss: trueLoss(lib, A, last.W, last.d), seconds: [seconds], cpuSeconds: [cpu], sameBytes: true, W: last.W,
  };
}

// ---------------------------------------------------------------- 3. phases and prototypes of the online step

interface Variant {
  name: string;
  /** ALS iterations on the first chunk alone before it is folded in (its statistics dropped after each). */
  warmup?: number;
  /** Iterations per chunk: r − 1 times (h of the chunk, W re-solve, the chunk's statistics removed), then the step. */
  inner?: number;
  /** W re-solved only every c chunks (and after the last). */
  wEvery?: number;
  /** W re-solved by this many plain CD sweeps from the warm start instead of the exact solve. */
  wCdSweeps?: number;
  /**
   * The last `window` chunks are kept: at every step the h of each of them is re-solved with the current W
   * and their statistics replace the ones they had; a chunk leaving the window is folded in with the W
   * of that moment and frozen (the window of the l1 online mode, for l2). With `inner`, r such rounds.
   */
  window?: number;
}

const VARIANTS: readonly Variant[] = [
  { name: 'base' },
  { name: 'warm-up 5', warmup: 5 },
  { name: 'warm-up 20', warmup: 20 },
  { name: 'inner 2', inner: 2 },
  { name: 'inner 3', inner: 3 },
  { name: 'warm-up 20 + inner 2', warmup: 20, inner: 2 },
  { name: 'W every 4 chunks', wEvery: 4 },
  { name: 'W by 1 CD sweep', wCdSweeps: 1 },
  { name: 'W by 3 CD sweeps', wCdSweeps: 3 },
  { name: 'window 4', window: 4 },
  { name: 'window 4 + inner 3', window: 4, inner: 3 },
];

interface PhaseRun {
  W: Float64Array;
  d: Float64Array;
  runningLoss: number;
  seconds: number;
  hSeconds: number;
  wSeconds: number;
  wSolves: number;
  chunks: number;
}

/**
 * The W half of a prototype step: like updateWFromStats, but every row of W gets `sweeps` cyclic CD
 * sweeps from its warm start (w_i ⊙ hSum, the previous W in the new problem's scale) — no support
 * step, no convergence test (DESIGN.md §2.3: "a few warm-started CD sweeps"). No L1/L2 on W (this
 * benchmark uses none). Statistics, scaling, loss and tol as in end-pass-l2.ts.
 */
function updateWByCd(lib: Library, state: L2State, Sn: Float64Array, Bn: Float64Array, sweeps: number, r: Float64Array): { relativeLoss: number; tol: number } {
  const { m, k, W, Wprev, d, S, B, hSum, Gw, inv, invDiagW } = state;
  for (let a = 0; a < k; a++) inv[a] = hSum[a]! > 0 ? 1 / hSum[a]! : 0;
  for (let a = 0; a < k; a++) {
    for (let c = a; c < k; c++) {
      const v = S[a * k + c]! * inv[a]! * inv[c]!;
      Sn[a * k + c] = v;
      Sn[c * k + a] = v;
    }
  }
  Gw.set(Sn);
  lib.nnls.invertDiagonal(Gw, k, invDiagW);
  Wprev.set(W);
  for (let i = 0; i < m; i++) {
    const o = i * k;
    for (let a = 0; a < k; a++) { Bn[o + a] = B[o + a]! * inv[a]!; W[o + a] = W[o + a]! * hSum[a]!; }
    for (let a = 0; a < k; a++) {
      let s = Bn[o + a]!;
      for (let c = 0; c < k; c++) s -= Gw[a * k + c]! * W[o + c]!;
      r[a] = s;
    }
    lib.nnlsCd(Gw, invDiagW, k, r, 0, W, o, sweeps, 0);
  }
  lib.scaleColumns(W, m, k, d, inv);
  lib.gram.gram(W, m, k, state.G);
  const loss = lib.gramLoss(state.normA2, W, m, k, d, Bn, Sn, state.G);
  return { relativeLoss: state.normA2 > 0 ? loss / state.normA2 : 0, tol: lib.pearsonTol(W, Wprev, m * k) };
}

/**
 * One online pass with the step of update/online-l2.ts cut in two timed halves (ρ = 1):
 *   H half: Gram of W (+ L2_H, 1/diagonal, factor cache cleared), then stepL2 on the chunk rebased
 *           to column 0 (h of every sample, folded into S, B, hSum, ‖A‖²);
 *   W half: updateWFromStats (W re-solved from the statistics, scaled, loss and tol).
 * With the base variant this is onlineStepL2 exactly (checked byte for byte by checkSplit).
 */
function runPhases(lib: Library, options: ResolvedOptions, A: CscMatrix, chunkSize: number, variant: Variant): PhaseRun {
  const online = lib.online.makeOnlineL2(A.m, options);
  const state = online.state;
  const k = state.k;
  const chunks = lib.splitColumns(A, chunkSize);
  const r = new Float64Array(k);
  let hSeconds = 0, wSeconds = 0, wSolves = 0;
  const hHalf = (chunk: CscChunk): void => {
    const t0 = performance.now();
    lib.gram.gram(state.W, state.m, k, state.G);
    lib.gram.addDiagonal(state.G, k, options.l2H);
    lib.nnls.invertDiagonal(state.G, k, state.invDiag);
    lib.clearFactorCache(state.ws.cache);
    lib.stepL2(state, lib.makeCscChunk({ ...chunk, colStart: 0 }), options, 'bench');
    hSeconds += (performance.now() - t0) / 1000;
  };
  const wHalf = (): { relativeLoss: number; tol: number } => {
    const t0 = performance.now();
    const result = variant.wCdSweeps === undefined
      ? lib.updateWFromStats(state, options, online.Sn, online.Bn)
      : updateWByCd(lib, state, online.Sn, online.Bn, variant.wCdSweeps, r);
    state.iteration += 1;
    wSolves++;
    wSeconds += (performance.now() - t0) / 1000;
    return result;
  };
  // Statistics saved before a trial step and put back after it: the chunk's contribution is dropped.
  const save = (): { S: Float64Array; B: Float64Array; hSum: Float64Array; normA2: number } =>
    ({ S: state.S.slice(), B: state.B.slice(), hSum: state.hSum.slice(), normA2: state.normA2 });
  const restore = (s: ReturnType<typeof save>): void => { state.S.set(s.S); state.B.set(s.B); state.hSum.set(s.hSum); state.normA2 = s.normA2; };
  let runningLoss = NaN;
  let frozen = save();
  const t0 = performance.now();
  chunks.forEach((chunk, t) => {
    state.ws.counts.fill(0);
    if (variant.window !== undefined) {
      const L = variant.window;
      if (t >= L) { restore(frozen); hHalf(chunks[t - L]!); frozen = save(); }
      const repeats = (t === 0 ? variant.warmup ?? 0 : 0) + (variant.inner ?? 1);
      for (let q = 0; q < repeats; q++) {
        restore(frozen);
        for (let c = Math.max(0, t - L + 1); c <= t; c++) hHalf(chunks[c]!);
        runningLoss = wHalf().relativeLoss;
      }
      return;
    }
    const trials = (t === 0 ? variant.warmup ?? 0 : 0) + (variant.inner ?? 1) - 1;
    for (let q = 0; q < trials; q++) {
      const saved = save();
      hHalf(chunk);
      wHalf();
      restore(saved);
    }
    hHalf(chunk);
    if (variant.wEvery === undefined || (t + 1) % variant.wEvery === 0 || t === chunks.length - 1) runningLoss = wHalf().relativeLoss;
  });
  return { W: state.W, d: state.d, runningLoss, seconds: (performance.now() - t0) / 1000, hSeconds, wSeconds, wSolves, chunks: chunks.length };
}

/** The split step (base variant) against onlineStepL2 itself: the same W, byte for byte. */
function checkSplit(lib: Library, options: ResolvedOptions, A: CscMatrix, chunkSize: number): boolean {
  const online = lib.online.makeOnlineL2(A.m, options);
  for (const chunk of lib.splitColumns(A, chunkSize)) {
    online.state.ws.counts.fill(0);
    lib.online.onlineStepL2(online, chunk, options, 1, 'bench');
  }
  const split = runPhases(lib, options, A, chunkSize, { name: 'base' });
  return Buffer.from(split.W.buffer).equals(Buffer.from(online.state.W.buffer));
}

interface VariantResult {
  order: Order;
  chunkSize: number;
  variant: string;
  chunks: number;
  wSolves: number;
  runningLoss: number;
  trueLoss: number;
  seconds: number[];
  hSeconds: number[];
  wSeconds: number[];
}

function runVariant(lib: Library, options: ResolvedOptions, A: CscMatrix, order: Order, chunkSize: number, variant: Variant, previous: VariantResult | undefined): VariantResult {
  const run = runPhases(lib, options, A, chunkSize, variant);
  if (previous) {
    previous.seconds.push(run.seconds); previous.hSeconds.push(run.hSeconds); previous.wSeconds.push(run.wSeconds);
    return previous;
  }
  return {
    order, chunkSize, variant: variant.name, chunks: run.chunks, wSolves: run.wSolves, runningLoss: run.runningLoss,
    trueLoss: trueLoss(lib, A, run.W, run.d), seconds: [run.seconds], hSeconds: [run.hSeconds], wSeconds: [run.wSeconds],
  };
}

// ---------------------------------------------------------------- 4. scikit-learn

interface SklearnRequest { key: string; model: 'minibatch' | 'nmf-cd'; order: Order; batchSize?: number; init?: string; forget?: number }

interface SklearnResult extends SklearnRequest {
  ok: boolean;
  error?: string;
  relativeLoss?: number;
  iterations?: number;
  steps?: number;
  version?: string;
  seconds: number[];
  cpuSeconds: number[];
}

function sklearnRequests(): SklearnRequest[] {
  const out: SklearnRequest[] = [{ key: 'batch NMF (cd)', model: 'nmf-cd', order: 'sorted' }];
  for (const order of ['sorted', 'shuffled'] as const) {
    for (const batchSize of chunkSizes.filter((c) => c >= 256)) {
      out.push({ key: `${order} b${batchSize} nndsvda ff1`, model: 'minibatch', order, batchSize, init: 'default', forget: 1 });
    }
    out.push({ key: `${order} b${DEFAULT_CHUNK} random ff1`, model: 'minibatch', order, batchSize: DEFAULT_CHUNK, init: 'random', forget: 1 });
    out.push({ key: `${order} b${DEFAULT_CHUNK} nndsvda ff0.7`, model: 'minibatch', order, batchSize: DEFAULT_CHUNK, init: 'default', forget: 0.7 });
  }
  return out;
}

const sklearnEnv = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

function runSklearn(file: string, request: SklearnRequest, previous: SklearnResult | undefined): SklearnResult {
  const script = join(sharedDir, 'peers', 'sklearn_nmf.py');
  // sklearn_nmf.py <file> <k> <maxit> <tol> <L1> <L2> <seed>: max_iter 1 is one pass for MiniBatchNMF; its batch NMF keeps its defaults.
  const args = request.model === 'minibatch'
    ? [script, file, String(RANK), '1', '0', '0', '0', String(seed), '--model', 'minibatch', '--batch-size', String(request.batchSize),
      '--forget-factor', String(request.forget), '--max-no-improvement', 'none', '--init', request.init ?? 'default', '--threads', '1']
    : [script, file, String(RANK), '200', '1e-4', '0', '0', String(seed), '--threads', '1'];
  const result = previous ?? { ...request, ok: true, seconds: [], cpuSeconds: [] };
  const r = runCommand('/usr/bin/python3', args, { env: sklearnEnv, timeoutSeconds: 600 });
  const out = jsonLines(r.stdout)[0];
  if (!r.ok || out === undefined) return { ...result, ok: false, error: `${r.error ?? 'no JSON line'}\n${tail(r.stderr, 10)}` };
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  result.seconds.push(...(out['fit_seconds_all'] as number[]));
  result.cpuSeconds.push(...(out['cpu_seconds_all'] as number[]));
  const loss = num(out['rel_loss']);
  const iterations = num(out['iterations']);
  const steps = num(out['n_steps']);
  if (loss !== undefined) result.relativeLoss = loss;
  if (iterations !== undefined) result.iterations = iterations;
  if (steps !== undefined) result.steps = steps;
  if (typeof out['version'] === 'string') result.version = out['version'];
  return result;
}

// ---------------------------------------------------------------- data sets

function ensureSynthetic(): void {
  if (existsSync(SYNTHETIC)) return;
  mkdirSync(dirname(SYNTHETIC), { recursive: true });
  log(`generating ${SYNTHETIC} (make_synthetic.py, 20000 × 5000, density 0.01, rank 10, seed 42) …`);
  const partial = `${SYNTHETIC}.partial`;
  const r = runCommand('/usr/bin/python3', [join(sharedDir, 'peers', 'make_synthetic.py'), partial], { timeoutSeconds: 600 });
  if (!r.ok) throw new Error(`make_synthetic.py failed: ${r.error ?? ''}\n${tail(r.stderr)}`);
  renameSync(partial, SYNTHETIC);
}

interface Dataset {
  name: string;
  file: string;
  shuffledFile: string;
  matrices: Record<Order, CscMatrix>;
}

async function loadDataset(lib: Library, name: string): Promise<Dataset> {
  if (name === 'synthetic') ensureSynthetic();
  const file = name === 'synthetic' ? SYNTHETIC : join(sharedDir, 'data', `${name}.mtx`);
  const sorted = await lib.readMtx(file);
  const shuffled = shuffleColumns(lib, sorted, seed);
  const shuffledFile = join(DATA_DIR, `${name}-shuffled-s${seed}.mtx`);
  if (!existsSync(shuffledFile)) {
    mkdirSync(DATA_DIR, { recursive: true });
    await lib.writeMtx(`${shuffledFile}.partial`, shuffled);
    renameSync(`${shuffledFile}.partial`, shuffledFile);
  }
  return { name, file, shuffledFile, matrices: { sorted, shuffled } };
}

// ---------------------------------------------------------------- tables

interface DatasetResult {
  name: string;
  m: number;
  n: number;
  nnz: number;
  batch: BatchResult;
  online: OnlineResult[];
  splitMatchesOnlineStep?: boolean;
  variants: VariantResult[];
  sklearn: SklearnResult[];
  loadAverage1m: number[];
}

function batchTable(results: readonly DatasetResult[]): string {
  const rows = results.map((r) => {
    const sk = r.sklearn.find((s) => s.model === 'nmf-cd');
    return [
      r.name, `${r.m} × ${r.n}, ${r.nnz} nnz`, String(r.batch.iterations), lossText(r.batch.reportedLoss), lossText(r.batch.trueLoss),
      r.batch.iterationsWithin2Percent === undefined ? NA : String(r.batch.iterationsWithin2Percent), secondsText(min(r.batch.seconds)),
      sk?.ok ? lossText(sk.relativeLoss) : NA, sk?.ok ? `${secondsText(min(sk.seconds))} (${String(sk.iterations)} it)` : NA,
    ];
  });
  return markdownTable(
    ['data set', 'size', 'batch it.', 'batch loss', 'batch loss, H re-projected', 'it. to within 2%', 'batch s', 'sklearn NMF loss', 'sklearn NMF s'],
    rows, [false, false, true, true, true, true, true, true, true]);
}

function onlineTable(results: readonly DatasetResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    for (const o of r.online) {
      const s = min(o.seconds);
      const trueRatio = ratio(o.trueLoss, r.batch.trueLoss);
      rows.push([
        r.name, o.order, `${o.chunkSize}${o.chunkSize === DEFAULT_CHUNK ? ' *' : ''}`, String(o.chunks), lossText(o.runningLoss), lossText(o.trueLoss),
        ratioText(trueRatio, 4), yesNo(trueRatio === undefined ? undefined : trueRatio <= GOAL_LOSS), ms(s), ms(min(o.cpuSeconds)),
        thousands(rate(o.samples, s)), millions(rate(o.nnz, s)), yesNo(s === undefined ? undefined : o.nnz / s >= GOAL_NNZ_PER_SECOND),
      ]);
    }
  }
  return markdownTable(
    ['data set', 'order', 'chunk', 'chunks', 'running loss', 'true loss', 'true / batch', '≤ 1.02?', 'ms', 'CPU ms', 'k samples/s', 'M nnz/s', '≥ 2 M?'],
    rows, [false, false, true, true, true, true, true, false, true, true, true, true, false]);
}

function sklearnTable(results: readonly DatasetResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    const batch = r.sklearn.find((s) => s.model === 'nmf-cd');
    for (const s of r.sklearn.filter((x) => x.model === 'minibatch')) {
      const t = min(s.seconds);
      rows.push([
        r.name, s.order, String(s.batchSize), s.init === 'default' ? 'nndsvda' : String(s.init), String(s.forget),
        s.ok ? `${String(s.steps)}` : NA, s.ok ? lossText(s.relativeLoss) : `failed: ${(s.error ?? '').split('\n')[0] ?? ''}`,
        ratioText(ratio(s.relativeLoss, batch?.ok ? batch.relativeLoss : undefined), 4), ratioText(ratio(s.relativeLoss, r.batch.trueLoss), 4),
        ms(t), millions(rate(r.nnz, t)),
      ]);
    }
  }
  return markdownTable(
    ['data set', 'order', 'batch size', 'init', 'forget', 'steps', 'loss (its codes)', 'loss / sklearn NMF', 'loss / nmflow batch', 'ms', 'M nnz/s'],
    rows, [false, false, true, false, true, true, true, true, true, true, true]);
}

function phaseTable(results: readonly DatasetResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    for (const v of r.variants.filter((x) => x.variant === 'base')) {
      const h = min(v.hSeconds), w = min(v.wSeconds);
      const perSolve = w === undefined ? undefined : w / v.wSolves;
      rows.push([
        r.name, v.order, String(v.chunkSize), String(v.chunks), ms(min(v.seconds)), ms(h), ms(w),
        ratioText(ratio(w, (h ?? 0) + (w ?? 0)), 2), ms(perSolve), perSolve === undefined ? NA : (perSolve / r.m * 1e6).toFixed(2),
        h === undefined ? NA : (h / r.n * 1e6).toFixed(2),
      ]);
    }
  }
  return markdownTable(
    ['data set', 'order', 'chunk', 'chunks', 'step ms', 'H half ms', 'W half ms', 'W share', 'ms per W re-solve', 'µs per W row', 'µs per sample (H)'],
    rows, [false, false, true, true, true, true, true, true, true, true, true]);
}

function variantTable(results: readonly DatasetResult[]): string {
  const rows: string[][] = [];
  for (const r of results) {
    for (const v of r.variants) {
      const s = min(v.seconds);
      rows.push([
        r.name, v.order, String(v.chunkSize), v.variant, String(v.wSolves), lossText(v.runningLoss), lossText(v.trueLoss),
        ratioText(ratio(v.trueLoss, r.batch.trueLoss), 4), ms(s), ms(min(v.hSeconds)), ms(min(v.wSeconds)), millions(rate(r.nnz, s)),
      ]);
    }
  }
  return markdownTable(
    ['data set', 'order', 'chunk', 'variant', 'W solves', 'running loss', 'true loss', 'true / batch', 'ms', 'H ms', 'W ms', 'M nnz/s'],
    rows, [false, false, true, false, true, true, true, true, true, true, true, true]);
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const command = `npm run bench:online${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
  const started = new Date();
  const uptimes = [uptime()];
  log(`# ${command}`);
  log(`# ${uptimes[0]} (${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version})`);
  const sha = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  const build = libRoot === undefined ? buildSnapshot(sha, DATA_DIR) : undefined;
  const lib = await loadLibrary(libRoot ?? build!.dist);
  log(libRoot === undefined
    ? `# library: HEAD ${sha.slice(0, 10)} compiled into ${build!.dist}${build!.seconds === undefined ? ' (existing build)' : ` in ${build!.seconds.toFixed(1)} s`}; not measured: ${dirty.length} uncommitted change(s) in src/`
    : `# library: ${libRoot} (working tree, ${dirty.length} uncommitted change(s) in src/ at HEAD ${sha.slice(0, 10)})`);
  log(`# k ${RANK}, seed ${seed}, ρ = 1, one thread; chunk sizes ${chunkSizes.join(', ')} (headline ${DEFAULT_CHUNK}); ${rounds} rounds, minimum; `
    + `sklearn ${withSklearn ? 'on' : 'off'}, prototypes ${withVariants ? 'on' : 'off'}`);
  const options = lib.resolveOptions({ rank: RANK, seed });
  const sklearnOk = withSklearn && runCommand('/usr/bin/python3', ['-c', 'import sklearn, scipy, threadpoolctl']).ok;
  if (withSklearn && !sklearnOk) log('# scikit-learn missing (apt-get update && apt-get install -y python3-sklearn): its rows show n/a');

  // JIT warm-up of the step's code paths (not recorded): a small online and batch fit.
  {
    const warm = await loadDataset(lib, 'hawaiibirds');
    await runOnline(lib, warm.matrices.sorted, 'sorted', 256, undefined);
    runPhases(lib, options, warm.matrices.sorted, 256, { name: 'base' });
  }

  const results: DatasetResult[] = [];
  for (const name of datasets) {
    const data = await loadDataset(lib, name);
    const A = data.matrices.sorted;
    log(`\n## ${name}: ${A.m} × ${A.n}, ${A.values.length} nnz — ${uptime()}`);
    const result: DatasetResult = {
      name, m: A.m, n: A.n, nnz: A.values.length, batch: undefined as unknown as BatchResult, online: [], variants: [], sklearn: [], loadAverage1m: [],
    };
    const orders: Order[] = ['sorted', 'shuffled'];
    if (withVariants) result.splitMatchesOnlineStep = checkSplit(lib, options, A, 256);
    const requests = sklearnOk ? sklearnRequests() : [];
    for (let round = 0; round < rounds; round++) {
      result.loadAverage1m.push(loadavg()[0] ?? NaN);
      // The parts in a rotated order per round, so that a burst of load hits them all.
      const parts: (() => Promise<void>)[] = [
        async () => { result.batch = await runBatch(lib, A, round === 0 ? undefined : result.batch); },
        async () => {
          for (const order of orders) {
            for (const chunkSize of chunkSizes) {
              const at = result.online.findIndex((o) => o.order === order && o.chunkSize === chunkSize);
              const o = await runOnline(lib, data.matrices[order], order, chunkSize, result.online[at]);
              if (at < 0) result.online.push(o);
            }
          }
        },
        async () => {
          if (!withVariants) return;
          for (const order of orders) {
            for (const chunkSize of variantChunks(name)) {
              for (const variant of VARIANTS) {
                const at = result.variants.findIndex((v) => v.order === order && v.chunkSize === chunkSize && v.variant === variant.name);
                const v = runVariant(lib, options, data.matrices[order], order, chunkSize, variant, result.variants[at]);
                if (at < 0) result.variants.push(v);
              }
            }
          }
        },
        async () => {
          for (const request of requests) {
            const at = result.sklearn.findIndex((s) => s.key === request.key);
            const s = runSklearn(request.order === 'sorted' ? data.file : data.shuffledFile, request, result.sklearn[at]);
            if (at < 0) result.sklearn.push(s); else result.sklearn[at] = s;
          }
        },
      ];
      for (let p = 0; p < parts.length; p++) await parts[(p + round) % parts.length]!();
      log(`  round ${round + 1}: batch ${secondsText(result.batch.seconds.at(-1))} s; online ${result.online.map((o) => `${o.order[0]}${o.chunkSize} ${ms(o.seconds.at(-1))} ms`).join(', ')}`);
    }
    for (const o of result.online) { if (!o.sameBytes) log(`  WARNING: ${o.order} ${o.chunkSize}: the final W differed between rounds`); delete o.W; }
    if (result.splitMatchesOnlineStep === false) log('  WARNING: the split step does not reproduce onlineStepL2 byte for byte: the phase figures describe another step');
    results.push(result);
  }
  uptimes.push(uptime());

  const tables = {
    batch: batchTable(results), online: onlineTable(results), sklearn: sklearnTable(results), phases: phaseTable(results), variants: variantTable(results),
  };
  log('\n### Batch fits (nmflow tol 1e-4, ≤ 100 iterations; scikit-learn NMF cd, its defaults), one thread');
  log(tables.batch);
  log(`\n### One online pass, ρ = 1: true loss (H re-projected on the final W) against the batch fit's (re-projected), time of the pass (min over ${rounds} rounds); * = headline chunk size`);
  log(tables.online);
  if (sklearnOk) { log('\n### scikit-learn MiniBatchNMF, max_iter 1 (one pass), tol 0, no early stopping, one thread'); log(tables.sklearn); }
  if (withVariants) {
    log('\n### Where the online step goes (base step split in its H half and its W half; min over rounds)');
    log(tables.phases);
    log('\n### Prototypes of the online step (not in src/): loss of one pass and its time');
    log(tables.variants);
  }
  log(`\nload at start: ${uptimes[0]}\nload at end:   ${uptimes[1]}\ncommand: ${command}`);

  const date = started.toISOString().slice(0, 10);
  const out = flag('out') ?? join('bench', 'results', `online-${date}.json`);
  const report = {
    benchmark: 'online', date, started: started.toISOString(), finished: new Date().toISOString(), command,
    settings: {
      rank: RANK, seed, forgetting: 1, threads: 1, chunkSizes, headlineChunkSize: DEFAULT_CHUNK, rounds, goals: { lossRatio: GOAL_LOSS, nnzPerSecond: GOAL_NNZ_PER_SECOND },
      batch: { tol: 1e-4, maxIterations: 100 }, shuffle: `columns permuted by Fisher–Yates with makeRandom(${seed})`,
      timing: 'wall seconds from subscription to the final snapshot (data in memory, true-loss evaluation excluded), minimum over rounds; CPU seconds of the process alongside',
      trueLoss: 'solveH (exact NNLS, W·diag(d) fixed) on the whole matrix, then relativeLoss (Gram identity)',
      sklearn: { script: '../shared/peers/sklearn_nmf.py', minibatch: 'max_iter 1, tol 0, --max-no-improvement none', batch: 'nmf-cd, max_iter 200, tol 1e-4', env: 'OMP_NUM_THREADS=1' },
    },
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, totalMemoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, uptimeStart: uptimes[0], uptimeEnd: uptimes[1] },
    nmflow: { gitHead: sha, library: libRoot ?? build!.dist, uncommittedSrcChanges: dirty.length, ...(build?.warnings ? { buildWarnings: build.warnings } : {}) },
    datasets: results,
    tables,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(`${out}.tmp`, `${JSON.stringify(report, null, 1)}\n`);
  renameSync(`${out}.tmp`, out);
  log(`wrote ${out}`);
}

await main();
