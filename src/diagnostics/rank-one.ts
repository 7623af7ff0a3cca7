/**
 * The rank-1 model of A: its first singular pair, A ≈ σ·u·vᵀ. For a nonnegative A the first
 * singular vectors are nonnegative (Perron–Frobenius), so this is also the rank-1 NMF the blog
 * fits with `nmf(A, 1)`. Power iteration on AAᵀ over the nonzeros (O(nnz) per iteration), started
 * from the row sums of A; stops when 1 − cos(u_t, u_{t−1}) < tol. `u` is returned with unit sum,
 * like a factor of W.
 */
import type { CscMatrix } from '../source/from-csc.js';
import { cosineSimilarity } from './cosine.js';
import type { FactorModel } from './factor-model.js';

export interface RankOneOptions {
  /** Maximum power iterations. Default 500. */
  readonly maxIterations?: number;
  /** Stop when 1 − cos(u_t, u_{t−1}) falls below this. Default 1e-12. */
  readonly tol?: number;
}

export interface RankOneResult {
  /** First left singular vector (length features), scaled to unit sum. */
  readonly u: Float64Array;
  /** First right singular vector (length samples), unit 2-norm. */
  readonly v: Float64Array;
  /** First singular value. */
  readonly sigma: number;
  readonly iterations: number;
}

/** The best rank-1 nonnegative approximation of the matrix (its first singular pair, by power iteration): the baseline of the rank-1 similarity. */
export function rankOne(matrix: CscMatrix, options: RankOneOptions = {}): RankOneResult {
  const { m, n, colPtr, rowIdx, values } = matrix;
  const maxIterations = options.maxIterations ?? 500;
  const tol = options.tol ?? 1e-12;
  let u = new Float64Array(m);
  for (let p = 0; p < colPtr[n]!; p++) u[rowIdx[p]!] = u[rowIdx[p]!]! + values[p]!;
  normalize(u);
  const v = new Float64Array(n);
  let sigma = 0, iterations = 0;
  for (let it = 0; it < maxIterations; it++) {
    iterations = it + 1;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) s += values[p]! * u[rowIdx[p]!]!;
      v[j] = s;
    }
    sigma = normalize(v);
    const next = new Float64Array(m);
    for (let j = 0; j < n; j++) {
      const vj = v[j]!;
      for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) next[rowIdx[p]!] = next[rowIdx[p]!]! + values[p]! * vj;
    }
    normalize(next);
    let dot = 0;
    for (let i = 0; i < m; i++) dot += next[i]! * u[i]!;
    u = next;
    if (1 - dot < tol) break;
  }
  let sum = 0;
  for (let i = 0; i < m; i++) sum += u[i]!;
  if (sum > 0) for (let i = 0; i < m; i++) u[i] = u[i]! / sum;
  return { u, v, sigma, iterations };
}

/** Mean over the factors of W of their cosine similarity to u (the blog's `sum(cosine(w, svd1)) / k`). */
export function rankOneSimilarity(model: FactorModel, u: Float64Array): number {
  const C = cosineSimilarity(model.W, model.rank, u, 1, model.features);
  let sum = 0;
  for (let a = 0; a < model.rank; a++) sum += C[a]!;
  return model.rank > 0 ? sum / model.rank : 0;
}

/** Scales x to unit 2-norm in place; returns the norm it had. */
function normalize(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  const norm = Math.sqrt(s);
  if (norm > 0) for (let i = 0; i < x.length; i++) x[i] = x[i]! / norm;
  return norm;
}
