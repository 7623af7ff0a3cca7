/**
 * The options of a fit: their types (FitOptions, as users write them; ResolvedOptions, as the engines read
 * them) and their resolution. Each option's kind, range, default and doc are rows of the options table
 * (table-fit.ts), checked by validate.ts; what is left here are the relations between options, the solver's
 * NNLS settings and the checkpoint fingerprint. Bad options throw an OptionError synchronously, before
 * anything is subscribed.
 */
import { resolveMemoryLimit } from '../memory-limit.js';
import { OptionError } from '../errors.js';
import type { TracePoint } from '../snapshot/snapshot.js';
import { NNLS_CD_WARM } from '../kernel/nnls-solve.js';
import type { Values } from './row.js';
import { validate } from './validate.js';
import { maskFingerprint, resolveMask, type MaskFitOptions, type ResolvedMask } from './resolve-mask.js';
import type { Loss } from './losses.js';

export type { Loss } from './losses.js';

/** The options of a fit; masks and held-out test sets: MaskFitOptions (resolve-mask.ts). */
export interface FitOptions extends MaskFitOptions {
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
  /** Bytes (memory-limit.ts): the option, or the machine's default. */
  readonly memoryLimit: number;
  readonly diag: boolean;
  readonly solver: Solver;
  readonly wasm: boolean;
  /** Masked entries and the held-out test set (resolve-mask.ts); undefined: none. */
  readonly mask: ResolvedMask | undefined;
}

/** FitOptions checked against the options table (validate.ts) and resolved into what the engines read. */
export function resolveOptions(options: FitOptions): ResolvedOptions {
  return resolveFit('fit', options).resolved;
}

/**
 * The options of `fit` / `fitOnline` against the table: `resolved` for the engines, `values` with every row's
 * value (the online rows too). Relations between options are checked here; a single option's kind, range and
 * default come from the table (table-fit.ts).
 */
export function resolveFit(entry: 'fit' | 'fitOnline', options: FitOptions): { resolved: ResolvedOptions; values: Values } {
  // The table guarantees each value's kind (table-fit.ts), so the casts below only restate it.
  const v = validate(entry, options);
  const loss = v.loss as Loss;
  const [l1W, l1H] = pair(v.l1 as PairValue);
  const [l2W, l2H] = pair(v.l2 as PairValue);
  if (loss === 'l1' && (l1W !== 0 || l1H !== 0 || l2W !== 0 || l2H !== 0)) {
    throw new OptionError('l1', "no L1/L2 penalty with loss 'l1' (use `lambda`)", [l1W, l1H, l2W, l2H]);
  }
  const { initW, initH, initMethod } = startOf(v.init as InitMethod | Values, loss);
  const checkpoint = v.checkpoint as ResolvedOptions['checkpoint'];
  const resolved: ResolvedOptions = {
    rank: v.rank as number, loss, l1W, l1H, l2W, l2H, lambda: v.lambda as number, maxIterations: v.maxIterations as number,
    tol: v.tol as number, seed: v.seed as number, initW, initH, initMethod, warmupIterations: v.warmupIterations as number,
    keepH: v.keepH as boolean, nnlsMaxSweeps: v.nnlsMaxSweeps as number, nnlsTol: v.nnlsTol as number,
    nnlsMethod: v.nnlsMethod === 'cd' ? 1 : 0, checkpoint: checkpoint && { dir: checkpoint.dir, every: checkpoint.every, chunks: checkpoint.chunks },
    resumeFrom: v.resumeFrom as string | undefined, onChunk: options.onChunk, emit: v.emit as 'every' | 'final', onIteration: options.onIteration,
    threads: v.threads as number | undefined, tempDir: v.tempDir as string | undefined, diag: v.diag as boolean, solver: v.solver as Solver,
    wasm: v.wasm as boolean, memoryLimit: resolveMemoryLimit(v.memoryLimit), mask: resolveMask(v),
  };
  return { resolved, values: v };
}

type PairValue = number | readonly [number, number];

/** The start: a method, or explicit arrays (init.W, and for l1 init.H). */
function startOf(init: InitMethod | Values, loss: Loss): Pick<ResolvedOptions, 'initW' | 'initH' | 'initMethod'> {
  if (typeof init === 'string') return { initW: undefined, initH: undefined, initMethod: init };
  const initW = toFloat64('init.W', init.W as Float64Array | readonly number[] | undefined);
  const initH = toFloat64('init.H', init.H as Float64Array | readonly number[] | undefined);
  if (initH !== undefined && loss !== 'l1') throw new OptionError('init.H', "no H start with loss 'l2' (its first step solves H from W)", 'an H array');
  if (initH !== undefined && initW === undefined) throw new OptionError('init.W', 'a W start together with init.H', undefined);
  return { initW, initH, initMethod: initW === undefined ? 'random' : 'explicit' };
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
    initW: o.initW !== undefined, initH: o.initH !== undefined, init: o.initMethod, diag: o.diag, solver: o.solver, ...maskFingerprint(o.mask),
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

function pair(value: PairValue): [number, number] {
  return typeof value === 'number' ? [value, value] : [value[0], value[1]];
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
