/**
 * Model state of the least-squares fit (docs/architecture.md, Least squares): the current W (unit column sums) and d,
 * the Gram matrix of the current pass, the sufficient statistics HHᵀ and AHᵀ accumulated during
 * the pass, and H (raw, sample-major n×k) kept for warm starts and for the caller.
 * All numbers live in typed arrays so that worker threads can later share them.
 */
import { makeNnlsWorkspace, type NnlsWorkspace } from '../../kernel/nnls-workspace.js';
import { rankKernels, type RankKernels } from '../../kernel/rank-kernels.js';
import { warmUpL2 } from '../warm-up.js';
import { scaleColumns } from '../../kernel/scale.js';
import type { Random } from '../../kernel/random.js';
import type { Extrapolation } from './extrapolate.js';
import type { WasmPassL2 } from './wasm-pass.js';
import type { ResolvedOptions } from '../../options.js';
import { makeUnitSums, type UnitSums } from './units.js';

export interface L2State {
  readonly m: number;
  readonly k: number;
  /** m×k row-major, unit column sums (after every W-update). */
  readonly W: Float64Array;
  /** W of the previous iteration, for the convergence measure. */
  readonly Wprev: Float64Array;
  /** Diagonal scale, length k. */
  readonly d: Float64Array;
  /** Gram matrix of the H-update, WᵀW + L2_H·I, and 1/its diagonal. */
  readonly G: Float64Array;
  readonly invDiag: Float64Array;
  /** 1 / diagonal of the W-update's Gram matrix Gw. */
  readonly invDiagW: Float64Array;
  /** Sufficient statistics of the pass, for the raw H: B = A Hᵀ (m×k), S = H Hᵀ (k×k), hSum = H·1. */
  readonly B: Float64Array;
  readonly S: Float64Array;
  readonly hSum: Float64Array;
  /** Raw H of the current pass, n×k sample-major (grown as samples appear). */
  H: Float64Array;
  /** Per component: raw H × warmScale = the previous model's d ⊙ h (the warm start of the next pass). */
  readonly warmScale: Float64Array;
  /** Samples (n) seen in the first pass; later passes must agree. */
  samples: number;
  /** The open unit and the rows' pending unit sums of AHᵀ (units.ts: the canonical summation order). */
  units: UnitSums;
  /** Per pass: ‖A‖², nonzeros and samples seen. */
  normA2: number;
  passNnz: number;
  passSamples: number;
  /** Completed iterations. */
  iteration: number;
  /** Start each H solve from the previous pass's h (batch); false for online fitting. */
  warmStart: boolean;
  /** True when G holds WᵀW of the current W (the W-update computed it for the loss). */
  gramFresh: boolean;
  /** solver 'fast' (batch fits): extrapolation of W between passes (model/l2/extrapolate.ts). */
  accel?: Extrapolation;
  /** solver 'fast' on one thread: the pass in WebAssembly (model/l2/wasm-pass.ts); else the TypeScript phases. */
  wasmPass?: WasmPassL2;
  readonly ws: NnlsWorkspace;
  /** Rank-specialised data kernels. */
  readonly kernels: RankKernels;
  /** Scratch: right-hand side (k), inverse scale (k), W-update Gram (k×k). */
  readonly b: Float64Array;
  readonly inv: Float64Array;
  readonly Gw: Float64Array;
}

/** Arrays a caller may provide (worker threads share them); the rest are made here. */
export interface L2Arrays {
  readonly W: Float64Array;
  readonly B: Float64Array;
  readonly G: Float64Array;
  readonly Gw: Float64Array;
  readonly invDiag: Float64Array;
  readonly invDiagW: Float64Array;
  readonly warmScale: Float64Array;
  readonly hSum: Float64Array;
  readonly inv: Float64Array;
  readonly H: Float64Array;
  readonly d?: Float64Array;
  readonly Wprev?: Float64Array;
  /** units.ts's per-row unit sums of AHᵀ (m×k) and their units (m). */
  readonly Bu?: Float64Array;
  readonly last?: Int32Array;
}

/** Start from options.initW when given, else from seeded uniform [0, 1) entries (row-major order). */
/**
 * `setup.kernels` replaces the rank kernels and `setup.fillUniform` the random start's loop (the WebAssembly
 * pass's: same numbers); `setup.warmUp: false` skips the JIT warm-up.
 */
export function makeL2State(
  m: number, options: ResolvedOptions, random: Random, arrays?: L2Arrays,
  setup: { warmUp?: boolean; kernels?: RankKernels; fillUniform?: (words: Uint32Array, out: Float64Array) => void } = {},
): L2State {
  const k = options.rank;
  const W = arrays?.W ?? new Float64Array(m * k);
  if (options.initW) W.set(options.initW);
  else if (setup.fillUniform) setup.fillUniform(random.state(), W); // the same numbers, compiled (the random stays where it was)
  else for (let p = 0; p < m * k; p++) W[p] = random.uniform();
  const d = arrays?.d ?? new Float64Array(k);
  const inv = arrays?.inv ?? new Float64Array(k);
  scaleColumns(W, m, k, d, inv);
  const state: L2State = {
    m, k, W, Wprev: arrays?.Wprev ?? new Float64Array(m * k), d,
    G: arrays?.G ?? new Float64Array(k * k), invDiag: arrays?.invDiag ?? new Float64Array(k),
    invDiagW: arrays?.invDiagW ?? new Float64Array(k),
    B: arrays?.B ?? new Float64Array(m * k), S: new Float64Array(k * k), hSum: arrays?.hSum ?? new Float64Array(k),
    H: arrays?.H ?? new Float64Array(1024 * k), warmScale: arrays?.warmScale ?? new Float64Array(k),
    units: makeUnitSums(m, k, arrays?.Bu && arrays.last ? { Bu: arrays.Bu, last: arrays.last } : undefined),
    samples: 0, normA2: 0, passNnz: 0, passSamples: 0, iteration: 0, warmStart: true, gramFresh: false,
    ws: makeNnlsWorkspace(k), kernels: setup.kernels ?? rankKernels(k), b: new Float64Array(k), inv, Gw: arrays?.Gw ?? new Float64Array(k * k),
  };
  // JIT warm-up after the state's objects exist: warming up first and then making the workspace
  // deoptimised the warmed NNLS functions (a field-type dependency), so pass 1 ran them unoptimised.
  // (Not needed when the pass runs in WebAssembly.)
  if (setup.warmUp !== false) {
    warmUpL2(k, { phases: true });
  }
  return state;
}

/** Grow H geometrically so that it holds `samples` columns (new columns start at 0: a cold start). */
export function ensureHCapacity(state: L2State, samples: number): void {
  const need = samples * state.k;
  if (state.H.length >= need) return;
  const grown = new Float64Array(Math.max(need, state.H.length * 2));
  grown.set(state.H);
  state.H = grown;
}

/** Copies the model and statistics of `from` into `to` (same m and k), e.g. onto shared memory. */
export function copyL2State(to: L2State, from: L2State): void {
  for (const key of ['W', 'Wprev', 'd', 'G', 'invDiag', 'invDiagW', 'B', 'S', 'hSum', 'warmScale', 'Gw', 'inv'] as const) to[key].set(from[key]);
  ensureHCapacity(to, from.H.length / from.k);
  to.H.set(from.H);
  to.units.S.set(from.units.S); to.units.hSum.set(from.units.hSum); to.units.Bu.set(from.units.Bu); to.units.last.set(from.units.last);
  to.units.unit = from.units.unit; to.units.normA2 = from.units.normA2;
  to.samples = from.samples; to.normA2 = from.normA2; to.passNnz = from.passNnz; to.passSamples = from.passSamples;
  to.iteration = from.iteration; to.warmStart = from.warmStart; to.gramFresh = from.gramFresh;
}
