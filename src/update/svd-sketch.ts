/**
 * The leading k singular triplets of A (m×n) by a seeded randomized SVD whose every product with A
 * or Aᵀ is one pass over the chunks (Halko, Martinsson & Tropp 2011, Algorithms 4.4 and 5.1):
 *   pass 0            Y = A Ω            Ω n×l Gaussian, row j drawn when sample j is read
 *                     Q = orth(Y)
 *   passes 1 … 2q     Z = AᵀQ, Ẑ = orth(Z); Y = A Ẑ, Q = orth(Y)     (q power iterations)
 *   pass 2q + 1       Z = AᵀQ = Bᵀ with B = QᵀA (l×n)
 *   then              B Bᵀ = ZᵀZ = U_B diag(σ²) U_Bᵀ (l×l, Jacobi), U = Q U_B, V = Z U_B diag(1/σ)
 * with l = min(k + oversample, m). Memory: Y (m×l), Z (n×l), a max(m, n)×l scratch for the
 * orthonormalisation and the k leading columns of U and V.
 * Every pass sums per column in column order, so any chunking gives the same bytes. Pass 0 also
 * counts n and sums A (for NNDSVDa's mean). Nothing here reads chunks: the driver
 * (pipeline/nndsvd-start.ts) subscribes once per pass and calls `stepSvdSketch` for every chunk.
 */
import type { CscChunk } from '../chunk/csc-chunk.js';
import { DataError } from '../errors.js';
import { cscTimesDense, cscTransposeTimesDense } from '../kernel/csc-times-dense.js';
import { gram } from '../kernel/gram.js';
import { orthonormalize } from '../kernel/orthonormalize.js';
import { makeRandom, type Random } from '../kernel/random.js';
import { symmetricEigen } from '../kernel/symmetric-eigen.js';

/** HMT's recommended oversampling p and power iterations q for a slowly decaying spectrum. */
export const DEFAULT_OVERSAMPLE = 10;
export const DEFAULT_POWER_ITERATIONS = 2;

export interface SvdSketch {
  readonly k: number;
  readonly oversample: number;
  readonly powerIterations: number;
  readonly random: Random;
  /** Features (set by the first chunk), samples (set by pass 0) and l = min(k + oversample, m). */
  m: number;
  n: number;
  l: number;
  /** The pass being read (0-based) and the total, 2q + 2. */
  pass: number;
  readonly passes: number;
  /** m×l row-major: A Ω or A Ẑ during a forward pass, Q after its end. */
  Y: Float64Array;
  /** n×l row-major: Ω during pass 0, then AᵀQ (orthonormalised at the end of each power iteration). */
  Z: Float64Array;
  /** Rows of Ω drawn so far (pass 0). */
  drawn: number;
  /** Σ A_ij and the nonzeros, from pass 0. */
  sumA: number;
  nnz: number;
  /** Scratch of the orthonormalisation: max(m, n)·l and k + oversample. */
  T: Float64Array;
  readonly r: Float64Array;
}

export interface SvdResult {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** Leading singular values, decreasing (length k). */
  readonly sigma: Float64Array;
  /** Left singular vectors, m×k row-major; right singular vectors, n×k row-major. */
  readonly U: Float64Array;
  readonly V: Float64Array;
  /** Σ A_ij over all entries and the nonzeros. */
  readonly sumA: number;
  readonly nnz: number;
  /** Passes over A. */
  readonly passes: number;
}

export function makeSvdSketch(k: number, seed: number, samples: number | undefined,
  oversample = DEFAULT_OVERSAMPLE, powerIterations = DEFAULT_POWER_ITERATIONS): SvdSketch {
  return {
    k, oversample, powerIterations, random: makeRandom(seed), m: 0, n: 0, l: 0, pass: 0, passes: 2 * powerIterations + 2,
    Y: new Float64Array(0), Z: new Float64Array((samples ?? 1024) * (k + oversample)), drawn: 0, sumA: 0, nnz: 0,
    T: new Float64Array(0), r: new Float64Array(k + oversample),
  };
}

/** Start of a pass: a forward pass (0, 2, 4, …) accumulates into Y from zero. */
export function beginSvdPass(state: SvdSketch): void {
  if (state.pass % 2 === 0) state.Y.fill(0);
}

export function stepSvdSketch(state: SvdSketch, chunk: CscChunk, sourceName: string): void {
  const { colPtr, rowIdx, values, colStart, n } = chunk;
  if (state.m === 0) {
    state.m = chunk.m;
    state.l = Math.min(state.k + state.oversample, chunk.m);
    state.Y = new Float64Array(chunk.m * state.l);
  }
  if (chunk.m !== state.m) {
    throw new DataError('SHAPE_MISMATCH', `chunk has ${chunk.m} features but the first chunk had ${state.m}`, { source: sourceName, batch: chunk.position });
  }
  const l = state.l, end = colStart + n;
  if (state.pass === 0) {
    growZ(state, end);
    // Ω's row j is the j-th run of l normal draws, whatever the chunking (a skipped sample gets its row too)
    for (; state.drawn < end; state.drawn++) drawNormalRow(state.random, state.Z, state.drawn * l, l);
    state.n = Math.max(state.n, end);
    state.nnz += colPtr[n]!;
    for (let p = 0; p < colPtr[n]!; p++) state.sumA += values[p]!;
  } else if (end > state.n) {
    throw new DataError('SHAPE_MISMATCH', `sample ${end - 1} is past the ${state.n} samples of the first pass`, { source: sourceName, batch: chunk.position });
  }
  if (state.pass % 2 === 0) cscTimesDense(colPtr, rowIdx, values, n, colStart, state.Z, l, state.Y);
  else cscTransposeTimesDense(colPtr, rowIdx, values, n, colStart, state.Y, l, state.Z);
}

/** End of a pass: re-orthonormalise what it produced. True when the last pass is done (then call svdOfSketch). */
export function endSvdPass(state: SvdSketch, sourceName: string): boolean {
  if (state.m === 0 || state.n === 0) throw new DataError('EMPTY_INPUT', 'the source produced no chunks', { source: sourceName });
  const last = state.pass === state.passes - 1;
  if (state.T.length < Math.max(state.m, state.n) * state.l) state.T = new Float64Array(Math.max(state.m, state.n) * state.l);
  if (state.pass % 2 === 0) orthonormalize(state.Y, state.m, state.l, state.T, state.r);
  else if (!last) orthonormalize(state.Z, state.n, state.l, state.T, state.r);
  state.pass++;
  return last;
}

/** The k leading triplets from Q (in Y) and Z = AᵀQ, after the last pass. */
export function svdOfSketch(state: SvdSketch): SvdResult {
  const { m, n, l, k, Y, Z } = state;
  const S = new Float64Array(l * l), lambda = new Float64Array(l), UB = new Float64Array(l * l);
  gram(Z, n, l, S); // ZᵀZ = B Bᵀ
  symmetricEigen(S, l, lambda, UB);
  const sigma = new Float64Array(k), inv = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    sigma[c] = Math.sqrt(Math.max(0, lambda[c]!));
    inv[c] = sigma[c]! > 0 ? 1 / sigma[c]! : 0;
  }
  return {
    m, n, k, sigma, U: timesLeading(Y, m, l, UB, k, undefined), V: timesLeading(Z, n, l, UB, k, inv),
    sumA: state.sumA, nnz: state.nnz, passes: state.passes,
  };
}

/** X (rows×l) · UB[:, 0…k) (l×l row-major), column c scaled by scale[c] when given: rows×k row-major. */
function timesLeading(X: Float64Array, rows: number, l: number, UB: Float64Array, k: number, scale: Float64Array | undefined): Float64Array {
  const out = new Float64Array(rows * k);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let b = 0; b < l; b++) s += X[i * l + b]! * UB[b * l + c]!;
      out[i * k + c] = scale === undefined ? s : s * scale[c]!;
    }
  }
  return out;
}

function growZ(state: SvdSketch, samples: number): void {
  const need = samples * state.l;
  if (state.Z.length >= need) return;
  const grown = new Float64Array(Math.max(need, state.Z.length * 2));
  grown.set(state.Z);
  state.Z = grown;
}

/** l standard normal draws (Box–Muller, one per pair of uniforms) into X[offset…). */
function drawNormalRow(random: Random, X: Float64Array, offset: number, l: number): void {
  for (let c = 0; c < l; c++) {
    const u = 1 - random.uniform(); // (0, 1]
    X[offset + c] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.uniform());
  }
}
