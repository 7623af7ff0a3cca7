/**
 * Every option of a fit: kind, range, default and a one-line doc, validated in one place.
 * Bad options throw an OptionError synchronously, before anything is subscribed.
 */
import { resolveMemoryLimit } from './memory-limit.js';
import { OptionError } from './errors.js';
import type { TracePoint } from './snapshot/snapshot.js';
import { NNLS_CD_WARM } from './kernel/nnls-solve.js';

export type Loss = 'l2' | 'l1';

export interface FitOptions {
  /** Rank k: number of factors. Integer ≥ 1 and ≤ min(features, samples). Required. */
  readonly rank: number;
  /** 'l2' (least squares, default) or 'l1' (weighted L1 by sparse coordinate descent). */
  readonly loss?: Loss;
  /** L1 penalty in [0, 1) on the normalised problem: one number for both factors, or [W, H]. Default 0. l2 only. */
  readonly l1?: number | readonly [number, number];
  /** L2 (ridge) penalty ≥ 0 on the Gram diagonal: one number or [W, H]. Default 0. l2 only. */
  readonly l2?: number | readonly [number, number];
  /** l1 loss: weight λ ≥ 0 of the zero entries (1 = plain L1-NMF, 0 ignores zeros). Default 1. */
  readonly lambda?: number;
  /** Maximum number of iterations (passes), integer ≥ 1. Default 100. */
  readonly maxIterations?: number;
  /** Stop when the convergence measure falls below tol (l2: 1 − Pearson(W_t, W_{t−1}), default 1e-4;
   * l1: F_{t−1} − F_t of the relative objective, default 1e-6). 0 runs exactly maxIterations. */
  readonly tol?: number;
  /** Seed of the random start (xoshiro128** seeded by SplitMix32). Integer. Default 42. */
  readonly seed?: number;
  /**
   * The start. 'random' (default): seeded uniform [0, 1) W (l1: W and H, then the warm-up). 'nndsvd' /
   * 'nndsvda' (Boutsidis & Gallopoulos 2008; 'nndsvda' fills the zeros with the mean of A): W and H from a
   * seeded randomized SVD of A, 6 extra passes before the first iteration (`fit` only); l2 uses W, l1
   * starts exactly at W, H. Or explicit arrays: W m×k row-major; H (l1 only) k×n row-major — with H given,
   * l1 starts exactly there.
   */
  readonly init?: InitMethod | { readonly W?: Float64Array | readonly number[]; readonly H?: Float64Array | readonly number[] };
  /** l1: least-squares iterations run before sCD when no explicit start is given. Integer ≥ 0. Default 10. */
  readonly warmupIterations?: number;
  /** Keep H (k×n) of the fitted samples and return it in the final snapshot. Default false. */
  readonly keepH?: boolean;
  /**
   * Write the full state to `<dir>/checkpoint.nmf` (atomically) every `every` iterations (default 1),
   * and with `chunks` also every that many chunks within a pass (least squares; for passes too long to redo).
   */
  readonly checkpoint?: { readonly dir: string; readonly every?: number; readonly chunks?: number };
  /** Continue a fit from the checkpoint in this directory (same data and options → the same bytes). */
  readonly resumeFrom?: string;
  /** l2: diagonal scaling between updates (RcppML's `diag`): W columns and H rows scaled to unit sums,
   * the scale kept in d. With false, the factors carry the scale (d = 1) and penalties act on them. Default true. */
  readonly diag?: boolean;
  /** Threads (integer ≥ 1; 1 = no workers). Default: the available cores, for problems large
   * enough to gain (nnz ≥ 200 000 in the first chunk or features × rank ≥ 200 000), else 1. l2 only. */
  readonly threads?: number;
  /** Directory for temporary files (the out-of-core l1 fit's feature-major copy). Default: the OS temp dir. */
  readonly tempDir?: string;
  /** Bytes the fit may allocate (W, H, statistics; memory-limit.ts): a shape that needs more is a MEMORY_LIMIT error
   * before anything is allocated. Default: 75 % of the machine's memory (or of the process's cgroup limit). */
  readonly memoryLimit?: number;
  /** Called after every chunk with the pass (iteration being computed) and what this pass has read so far. */
  readonly onChunk?: (progress: ChunkProgress) => void;
  /**
   * 'every' (default): a snapshot per iteration and the final one; 'final': only the final snapshot (its
   * `trace` has every iteration's loss, tol and time). A snapshot owns copies of W and d — with 'final' the
   * iterations make none (copying a fresh m×k array costs ~1 ms per 100 000 entries on this project's machines).
   */
  readonly emit?: 'every' | 'final';
  /** Called after every iteration with its trace point (iteration, loss, tol, seconds): progress without snapshots. */
  readonly onIteration?: (point: TracePoint) => void;
  /** NNLS method: 'active-set' (default; exact, Lawson–Hanson from the warm support) or 'cd'
   * (RcppML's coordinate descent from the clipped unconstrained solution). Same optimum. */
  readonly nnlsMethod?: 'active-set' | 'cd';
  /** NNLS coordinate descent: maximum sweeps per solve (default 100) and mean relative change to stop (default 1e-8). */
  readonly nnlsMaxSweeps?: number;
  readonly nnlsTol?: number;
  /**
   * l2: 'fast' (default) reaches a given loss sooner: a few warm-started coordinate-descent sweeps per
   * subproblem, W extrapolated between iterations (Ang & Gillis 2019; restarted when the loss rises) —
   * deterministic, and at convergence the same fixed points. 'exact': plain alternating least squares, the
   * reference trajectory. fitOnline: 'fast' warm-starts the window's codes and W (no extrapolation), 'exact'
   * solves every subproblem exactly.
   */
  readonly solver?: Solver;
  /** Run the 'fast' solver's one-thread pass in WebAssembly where the runtime has SIMD (the same bytes as the
   * TypeScript path, which `false` selects). Default true. */
  readonly wasm?: boolean;
}

export type Solver = 'exact' | 'fast';

export type InitMethod = 'random' | 'nndsvd' | 'nndsvda';

export interface ChunkProgress {
  /** The iteration this pass computes (1-based). */
  readonly iteration: number;
  /** Samples and nonzeros read in this pass so far. */
  readonly samples: number;
  readonly nnz: number;
}

export interface ResolvedOptions {
  readonly rank: number;
  readonly loss: Loss;
  readonly l1W: number;
  readonly l1H: number;
  readonly l2W: number;
  readonly l2H: number;
  readonly lambda: number;
  readonly maxIterations: number;
  readonly tol: number;
  readonly seed: number;
  readonly initW: Float64Array | undefined;
  readonly initH: Float64Array | undefined;
  /** How the start is made: an InitMethod, or 'explicit' when init.W (and init.H) are given. */
  readonly initMethod: InitMethod | 'explicit';
  readonly warmupIterations: number;
  readonly keepH: boolean;
  readonly nnlsMaxSweeps: number;
  readonly nnlsTol: number;
  /** 0 = active set, 1 = coordinate descent (kernel/nnls-solve.ts constants). */
  readonly nnlsMethod: number;
  readonly checkpoint: { readonly dir: string; readonly every: number; readonly chunks: number | undefined } | undefined;
  readonly resumeFrom: string | undefined;
  readonly onChunk: ((progress: ChunkProgress) => void) | undefined;
  readonly emit: 'every' | 'final';
  readonly onIteration: ((point: TracePoint) => void) | undefined;
  readonly threads: number | undefined;
  readonly tempDir: string | undefined;
  readonly memoryLimit: number;
  readonly diag: boolean;
  readonly solver: Solver;
  readonly wasm: boolean;
}

export function resolveOptions(options: FitOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new OptionError('options', 'an object', options);
  const rank = options.rank;
  if (!Number.isInteger(rank) || rank < 1) throw new OptionError('rank', 'an integer ≥ 1', rank);
  const loss = options.loss ?? 'l2';
  if (loss !== 'l2' && loss !== 'l1') throw new OptionError('loss', "'l2' or 'l1'", loss);
  const [l1W, l1H] = pair('l1', options.l1, (v) => v >= 0 && v < 1, 'a number in [0, 1) or a pair [W, H] of them');
  const [l2W, l2H] = pair('l2', options.l2, (v) => v >= 0 && Number.isFinite(v), 'a finite number ≥ 0 or a pair [W, H] of them');
  if (loss === 'l1' && (l1W !== 0 || l1H !== 0 || l2W !== 0 || l2H !== 0)) {
    throw new OptionError('l1', "no L1/L2 penalty with loss 'l1' (use `lambda`)", [l1W, l1H, l2W, l2H]);
  }
  const lambda = options.lambda ?? 1;
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new OptionError('lambda', 'a finite number ≥ 0', lambda);
  const maxIterations = options.maxIterations ?? 100;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new OptionError('maxIterations', 'an integer ≥ 1', maxIterations);
  const tol = options.tol ?? (loss === 'l1' ? 1e-6 : (options.solver ?? 'fast') === 'fast' ? 1e-5 : 1e-4);
  if (!(tol >= 0) || !Number.isFinite(tol)) throw new OptionError('tol', 'a finite number ≥ 0', tol);
  const seed = options.seed ?? 42;
  if (!Number.isInteger(seed)) throw new OptionError('seed', 'an integer', seed);
  const warmupIterations = options.warmupIterations ?? 10;
  if (!Number.isInteger(warmupIterations) || warmupIterations < 0) throw new OptionError('warmupIterations', 'an integer ≥ 0', warmupIterations);
  const nnlsMaxSweeps = options.nnlsMaxSweeps ?? 100;
  if (!Number.isInteger(nnlsMaxSweeps) || nnlsMaxSweeps < 1) throw new OptionError('nnlsMaxSweeps', 'an integer ≥ 1', nnlsMaxSweeps);
  const nnlsTol = options.nnlsTol ?? 1e-8;
  if (!(nnlsTol >= 0)) throw new OptionError('nnlsTol', 'a number ≥ 0', nnlsTol);
  const method = options.nnlsMethod ?? 'active-set';
  if (method !== 'active-set' && method !== 'cd') throw new OptionError('nnlsMethod', "'active-set' or 'cd'", method);
  const solver = options.solver ?? 'fast';
  if (solver !== 'exact' && solver !== 'fast') throw new OptionError('solver', "'fast' or 'exact'", solver);
  if (options.wasm !== undefined && typeof options.wasm !== 'boolean') throw new OptionError('wasm', 'true or false', options.wasm);
  let checkpoint: ResolvedOptions['checkpoint'];
  if (options.checkpoint !== undefined) {
    const { dir, every = 1, chunks } = options.checkpoint;
    if (typeof dir !== 'string' || dir === '') throw new OptionError('checkpoint.dir', 'a directory path', dir);
    if (!Number.isInteger(every) || every < 1) throw new OptionError('checkpoint.every', 'an integer ≥ 1', every);
    if (chunks !== undefined && !(Number.isInteger(chunks) && chunks >= 1)) throw new OptionError('checkpoint.chunks', 'an integer ≥ 1', chunks);
    checkpoint = { dir, every, chunks };
  }
  if (options.onChunk !== undefined && typeof options.onChunk !== 'function') throw new OptionError('onChunk', 'a function', options.onChunk);
  if (options.onIteration !== undefined && typeof options.onIteration !== 'function') throw new OptionError('onIteration', 'a function', options.onIteration);
  const emit = options.emit ?? 'every';
  if (emit !== 'every' && emit !== 'final') throw new OptionError('emit', "'every' or 'final'", emit);
  if (options.diag !== undefined && typeof options.diag !== 'boolean') throw new OptionError('diag', 'true or false', options.diag);
  const threads = options.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 64)) throw new OptionError('threads', 'an integer in [1, 64]', threads);
  const resumeFrom = options.resumeFrom;
  if (resumeFrom !== undefined && (typeof resumeFrom !== 'string' || resumeFrom === '')) throw new OptionError('resumeFrom', 'a directory path', resumeFrom);
  const init = options.init ?? 'random';
  if (typeof init === 'string' ? !(init === 'random' || init === 'nndsvd' || init === 'nndsvda') : typeof init !== 'object' || init === null) {
    throw new OptionError('init', "'random', 'nndsvd', 'nndsvda' or explicit arrays { W, H }", init);
  }
  const initW = typeof init === 'string' ? undefined : toFloat64('init.W', init.W);
  const initH = typeof init === 'string' ? undefined : toFloat64('init.H', init.H);
  const initMethod = typeof init === 'string' ? init : initW === undefined ? 'random' : 'explicit';
  if (initH !== undefined && loss !== 'l1') throw new OptionError('init.H', "no H start with loss 'l2' (its first step solves H from W)", 'an H array');
  if (initH !== undefined && initW === undefined) throw new OptionError('init.W', 'a W start together with init.H', undefined);
  return {
    rank, loss, l1W, l1H, l2W, l2H, lambda, maxIterations, tol, seed, initW, initH, initMethod,
    warmupIterations, keepH: options.keepH ?? false, nnlsMaxSweeps, nnlsTol,
    nnlsMethod: method === 'cd' ? 1 : 0, checkpoint, resumeFrom, onChunk: options.onChunk, emit, onIteration: options.onIteration, threads, tempDir: options.tempDir, diag: options.diag ?? true,
    memoryLimit: resolveMemoryLimit(options.memoryLimit),
    solver, wasm: options.wasm ?? true,
  };
}

/** CD sweeps per subproblem of the 'fast' solver (measured: 3–5 reach a given loss soonest; bench/README.md). */
export const FAST_SWEEPS = 5;

/**
 * CD sweeps of the online 'fast' solver's W re-solves after the first chunk's warm-up (unless
 * `nnlsMaxSweeps` is given): W moves little from one chunk to the next, and 2 sweeps gave the losses of
 * 5 within 0.2% at 0.7–0.85× the CPU time per step (bench/README.md, bench:online).
 */
export const ONLINE_W_SWEEPS = 2;

/**
 * The NNLS settings of a least-squares fit (batch and online) for its solver: 'fast' solves each
 * subproblem by at most FAST_SWEEPS coordinate-descent sweeps from the warm start (kernel/nnls-solve.ts
 * NNLS_CD_WARM), unless `nnlsMethod` was given. Projection keeps the exact solves (its starts are cold).
 */
export function withSolver(resolved: ResolvedOptions, options: FitOptions): ResolvedOptions {
  if (resolved.loss !== 'l2' || resolved.solver !== 'fast' || options.nnlsMethod !== undefined) return resolved;
  return { ...resolved, nnlsMethod: NNLS_CD_WARM, nnlsMaxSweeps: options.nnlsMaxSweeps ?? FAST_SWEEPS };
}

/** The options that determine a fit's bytes (compared when resuming from a checkpoint). */
export function fingerprintOf(o: ResolvedOptions): Record<string, unknown> {
  return {
    loss: o.loss, rank: o.rank, l1W: o.l1W, l1H: o.l1H, l2W: o.l2W, l2H: o.l2H, lambda: o.lambda, seed: o.seed,
    warmupIterations: o.warmupIterations, nnlsMethod: o.nnlsMethod, nnlsMaxSweeps: o.nnlsMaxSweeps, nnlsTol: o.nnlsTol,
    initW: o.initW !== undefined, initH: o.initH !== undefined, init: o.initMethod, diag: o.diag, solver: o.solver,
  };
}

/** Shape checks that need the data's size: rank ≤ min(m, n), init arrays of the right length. */
export function checkShape(options: ResolvedOptions, m: number, n: number | undefined): void {
  const limit = n === undefined ? m : Math.min(m, n);
  if (options.rank > limit) {
    throw new OptionError('rank', `an integer ≤ min(features, samples) = ${limit}`, options.rank);
  }
  if (options.initW && options.initW.length !== m * options.rank) {
    throw new OptionError('init.W', `${m}×${options.rank} = ${m * options.rank} numbers (features × rank, row-major)`, `${options.initW.length} numbers`);
  }
  if (options.initH && n !== undefined && options.initH.length !== n * options.rank) {
    throw new OptionError('init.H', `${options.rank}×${n} = ${n * options.rank} numbers (rank × samples, row-major)`, `${options.initH.length} numbers`);
  }
}

function pair(name: string, value: unknown, ok: (v: number) => boolean, expected: string): [number, number] {
  if (value === undefined) return [0, 0];
  const both = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(both) || both.length !== 2 || !both.every((v) => typeof v === 'number' && ok(v))) {
    throw new OptionError(name, expected, value);
  }
  return [both[0] as number, both[1] as number];
}

function toFloat64(name: string, value: Float64Array | readonly number[] | undefined): Float64Array | undefined {
  if (value === undefined) return undefined;
  const out = Float64Array.from(value);
  for (let i = 0; i < out.length; i++) {
    const v = out[i]!;
    if (!(v >= 0) || v === Infinity) throw new OptionError(name, 'finite numbers ≥ 0', `${v} at index ${i}`);
  }
  // An all-zero start stays all zero (every update multiplies by it): it would "converge" to nothing.
  if (out.length > 0 && !out.some((v) => v > 0)) throw new OptionError(name, 'finite numbers ≥ 0, not all zero', `${out.length} zeros`);
  return out;
}
