/**
 * Cosine similarity between factors: cos(x, y) = xᵀy / (‖x‖‖y‖) for columns of W (features ×
 * rank, row-major). A zero column has similarity 0 to everything (also to itself), so a dead
 * factor never looks like a match. The blog's "mean cosine angle between factors" is
 * `mean(cosine(w))` over the whole k×k matrix, diagonal included; `meanFactorCosine` leaves the
 * diagonal out by default (the same ordering of models, a scale that starts at 0), and takes
 * `includeDiagonal: true` for the blog's number. Cost O(m·kx·ky).
 */
import type { FactorModel } from './factor-model.js';

/** kx×ky row-major matrix of cosine similarities between the columns of X (m×kx) and Y (m×ky). */
export function cosineSimilarity(X: Float64Array, kx: number, Y: Float64Array, ky: number, m: number): Float64Array {
  const out = new Float64Array(kx * ky);
  const nx = columnSquares(X, m, kx);
  const ny = columnSquares(Y, m, ky);
  for (let i = 0; i < m; i++) {
    const ox = i * kx, oy = i * ky;
    for (let a = 0; a < kx; a++) {
      const x = X[ox + a]!;
      if (x === 0) continue;
      const row = a * ky;
      for (let b = 0; b < ky; b++) out[row + b] = out[row + b]! + x * Y[oy + b]!;
    }
  }
  for (let a = 0; a < kx; a++) {
    for (let b = 0; b < ky; b++) {
      // √(‖x‖²‖y‖²) rather than ‖x‖·‖y‖: then cos(x, x) is exactly 1 (√(fl(s²)) = s in IEEE 754)
      const den = Math.sqrt(nx[a]! * ny[b]!);
      out[a * ky + b] = den > 0 ? out[a * ky + b]! / den : 0;
    }
  }
  return out;
}

/** Squared Euclidean norm of each column of a row-major rows×k matrix. */
function columnSquares(X: Float64Array, rows: number, k: number): Float64Array {
  const s = new Float64Array(k);
  for (let i = 0; i < rows; i++) {
    const o = i * k;
    for (let a = 0; a < k; a++) s[a] = s[a]! + X[o + a]! * X[o + a]!;
  }
  return s;
}

/** rank×rank cosine similarities between the factors (columns of W) of one model. */
export function factorCosine(model: FactorModel): Float64Array {
  return cosineSimilarity(model.W, model.rank, model.W, model.rank, model.features);
}

export interface MeanCosineOptions {
  /** Count the k diagonal entries (each 1 for a live factor), as the blog's `mean(cosine(w))`. Default false. */
  readonly includeDiagonal?: boolean;
}

/** Mean cosine similarity between the factors of a model (off-diagonal mean by default; 0 for rank 1). */
export function meanFactorCosine(model: FactorModel, options: MeanCosineOptions = {}): number {
  return meanOfCosine(factorCosine(model), model.rank, options.includeDiagonal ?? false);
}

/** Mean of a k×k similarity matrix, with or without its diagonal. */
export function meanOfCosine(C: Float64Array, k: number, includeDiagonal: boolean): number {
  let sum = 0, count = 0;
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      if (a === b && !includeDiagonal) continue;
      sum += C[a * k + b]!;
      count++;
    }
  }
  return count > 0 ? sum / count : 0;
}
