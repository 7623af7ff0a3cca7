/**
 * The leading k singular triplets of A (m×n) by a seeded randomized SVD whose every product with A
 * or Aᵀ is one pass over the chunks (Halko, Martinsson & Tropp 2011, Algorithms 4.4 and 5.1):
 *   pass 0            Y = A Ω            Ω n×l random signs, row j drawn when sample j is read
 *                     Q = orth(Y)
 *   passes 1 … 2q     Z = AᵀQ, Ẑ = orth(Z); Y = A Ẑ, Q = orth(Y)     (q power iterations)
 *   pass 2q + 1       Z = AᵀQ = Bᵀ with B = QᵀA (l×n)
 *   then              B Bᵀ = ZᵀZ = U_B diag(σ²) U_Bᵀ (l×l, Jacobi), U = Q U_B, V = Z U_B diag(1/σ)
 * with l = min(k + oversample, m). orth is Cholesky-QR (kernel/chol-qr.ts): a Gram XᵀX and a product
 * X·R⁻¹ of the tall matrix, O(rows·l²) in two streaming sweeps (classical Gram–Schmidt did 2l); twice
 * for the last Q, once before (see endSvdPass). The products run in WebAssembly or TypeScript (model/svd/backend.ts, the
 * same bytes). Memory: Y (m×l), Z (n×l), the WebAssembly backend's copies of the chunks, and the k
 * leading columns of U and V.
 * Every pass sums per column in column order, so any chunking gives the same bytes. Pass 0 also
 * counts n and sums A (for NNDSVDa's mean). Nothing here reads chunks: the driver
 * (pipeline/nndsvd-start.ts) subscribes once per pass and calls `stepSvdSketch` for every chunk.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { DataError } from '../../errors.js';
import { cholInverse } from '../../kernel/chol-qr.js';
import { makeRandom, type Random } from '../../kernel/random.js';
import { symmetricEigen } from '../../kernel/symmetric-eigen.js';
import { makeSketchBackend, type SketchBackend, type Side } from './backend.js';

/** HMT's oversampling p; one power iteration (bench/README.md, "The SVD start": q = 0 costs iterations to the
 * target, q = 2 saves one on the synthetic matrix and costs one on movielens, for two more passes over A). */
export const DEFAULT_OVERSAMPLE = 10;
export const DEFAULT_POWER_ITERATIONS = 1;

export interface SvdSketch {
  readonly k: number;
  readonly oversample: number;
  readonly powerIterations: number;
  readonly random: Random;
  /** Products in WebAssembly when available (else TypeScript: the same bytes). */
  readonly wasm: boolean;
  /** Samples the source declared (sizes Z at once), if it did. */
  readonly samples: number | undefined;
  /** Features (set by the first chunk), samples (set by pass 0) and l = min(k + oversample, m). */
  m: number;
  n: number;
  l: number;
  /** The pass being read (0-based), the total (2q + 2) and the chunks read in this pass so far. */
  pass: number;
  readonly passes: number;
  ordinal: number;
  /** Y, Z and their products; made by the first chunk (l depends on m), dropped by svdOfSketch. */
  backend: SketchBackend | undefined;
  /** Rows of Ω drawn so far (pass 0). */
  drawn: number;
  /** Σ A_ij and the nonzeros, from pass 0. */
  sumA: number;
  nnz: number;
  /** l×l scratch of the orthonormalisation and the small SVD (sized for k + oversample). */
  readonly G: Float64Array;
  readonly M: Float64Array;
  readonly R: Float64Array;
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
  oversample = DEFAULT_OVERSAMPLE, powerIterations = DEFAULT_POWER_ITERATIONS, wasm = true): SvdSketch {
  const size = (k + oversample) * (k + oversample);
  return {
    k, oversample, powerIterations, random: makeRandom(seed), wasm, samples, m: 0, n: 0, l: 0,
    pass: 0, passes: 2 * powerIterations + 2, ordinal: 0, backend: undefined, drawn: 0, sumA: 0, nnz: 0,
    G: new Float64Array(size), M: new Float64Array(size), R: new Float64Array(size),
  };
}

/** Start of a pass: a forward pass (0, 2, 4, …) accumulates into Y from zero; a transpose pass rewrites Z
 * (zeroed first, so the rows of samples no chunk brings are those of A's zero columns). */
export function beginSvdPass(state: SvdSketch): void {
  state.ordinal = 0;
  const backend = state.backend;
  if (backend === undefined) return;
  if (state.pass % 2 === 0) backend.Y().fill(0);
  else backend.Z().fill(0, 0, state.n * state.l);
}

export function stepSvdSketch(state: SvdSketch, chunk: CscChunk, sourceName: string): void {
  const { colPtr, values, colStart, n } = chunk;
  if (state.m === 0) {
    state.m = chunk.m;
    state.l = Math.min(state.k + state.oversample, chunk.m);
    state.backend = makeSketchBackend(chunk.m, state.l, state.wasm);
  }
  if (chunk.m !== state.m) {
    throw new DataError('SHAPE_MISMATCH', `chunk has ${chunk.m} features but the first chunk had ${state.m}`, { source: sourceName, batch: chunk.position });
  }
  const backend = state.backend!, l = state.l, end = colStart + n;
  if (state.pass === 0) {
    backend.ensureZ(Math.max(end, state.samples ?? 0));
    // Ω's row j is drawn j-th, whatever the chunking (a skipped sample gets its row too)
    const Z = backend.Z();
    for (; state.drawn < end; state.drawn++) drawSigns(state.random, Z, state.drawn * l, l);
    state.n = Math.max(state.n, end);
    const nnz = colPtr[n]!;
    let sum = state.sumA; // one running sum over all values in order, whatever the chunking
    for (let p = 0; p < nnz; p++) sum += values[p]!;
    state.nnz += nnz;
    state.sumA = sum;
  } else if (end > state.n) {
    throw new DataError('SHAPE_MISMATCH', `sample ${end - 1} is past the ${state.n} samples of the first pass`, { source: sourceName, batch: chunk.position });
  }
  if (state.pass % 2 === 0) backend.forward(chunk, state.ordinal);
  else backend.transpose(chunk, state.ordinal);
  state.ordinal++;
}

/** End of a pass: re-orthonormalise what it produced. True when the last pass is done (then call svdOfSketch). */
export function endSvdPass(state: SvdSketch, sourceName: string): boolean {
  const backend = state.backend;
  if (backend === undefined || state.n === 0) throw new DataError('EMPTY_INPUT', 'the source produced no chunks', { source: sourceName });
  const last = state.pass === state.passes - 1;
  backend.endPass();
  // Q of the last forward pass defines B = QᵀA: CholeskyQR2. Before it only the span matters (the next
  // product is the same for any basis of it), and one round leaves a basis orthonormal to ~κ²·1e-16.
  const rounds = state.pass === state.passes - 2 ? 2 : 1;
  if (state.pass % 2 === 0) orthonormalize(state, backend, 'Y', state.m, rounds);
  else if (!last) orthonormalize(state, backend, 'Z', state.n, rounds);
  state.pass++;
  return last;
}

/** The k leading triplets from Q (in Y) and Z = AᵀQ, after the last pass. */
export function svdOfSketch(state: SvdSketch): SvdResult {
  const { m, n, l, k, G: S, M, R: UB } = state;
  const backend = state.backend!;
  state.backend = undefined;
  const lambda = new Float64Array(l);
  backend.gram('Z', n, S); // ZᵀZ = B Bᵀ
  symmetricEigen(S, l, lambda, UB);
  const sigma = new Float64Array(k), inv = new Float64Array(k);
  for (let c = 0; c < Math.min(k, l); c++) {
    sigma[c] = Math.sqrt(Math.max(0, lambda[c]!));
    inv[c] = sigma[c]! > 0 ? 1 / sigma[c]! : 0;
  }
  // U = Q U_B[:, 0…k), V = Z U_B[:, 0…k) diag(1/σ); columns past l (k > m) stay 0
  const U = new Float64Array(m * k), V = new Float64Array(n * k);
  for (let b = 0; b < l; b++) for (let c = 0; c < k; c++) M[b * k + c] = c < l ? UB[b * l + c]! : 0;
  backend.times('Y', m, M, k, U);
  for (let b = 0; b < l; b++) for (let c = 0; c < k; c++) M[b * k + c] = M[b * k + c]! * inv[c]!;
  backend.times('Z', n, M, k, V);
  backend.release();
  return { m, n, k, sigma, U, V, sumA: state.sumA, nnz: state.nnz, passes: state.passes };
}

/** Cholesky-QR (`rounds` times) of Y or Z in place: columns orthonormal, or 0 where they depended on earlier ones. */
function orthonormalize(state: SvdSketch, backend: SketchBackend, side: Side, rows: number, rounds: number): void {
  for (let round = 0; round < rounds; round++) {
    backend.gram(side, rows, state.G);
    cholInverse(state.G, state.l, state.M, state.R);
    backend.timesInPlace(side, rows, state.M);
  }
}

/** Ω's row: l random signs ±1, bit c mod 32 of the row's ⌊c/32⌋-th 32-bit draw. Any test matrix with
 * independent zero-mean, unit-variance entries sketches the range alike (measured against Gaussian ones:
 * bench/README.md, "The SVD start"); signs cost 1/32 of a draw per entry instead of two draws, a logarithm
 * and a cosine (4–25 ms for the 100 000 entries of the 5000-sample matrix). */
function drawSigns(random: Random, X: Float64Array, offset: number, l: number): void {
  let bits = 0;
  for (let c = 0; c < l; c++) {
    if ((c & 31) === 0) bits = random.nextU32();
    X[offset + c] = ((bits >>> (c & 31)) & 1) === 1 ? 1 : -1;
  }
}
