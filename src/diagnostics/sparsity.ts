/**
 * Sparsity: the fraction of entries that are exactly 0 (the blog's `sum(w == 0) / prod(dim(w))`).
 * Per factor for W (features × rank, row-major): the fraction of zeros in each column.
 */
import type { FactorModel } from './factor-model.js';

/** Fraction of the entries of `values` equal to 0 (0 for an empty array). */
export function sparsity(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  let zeros = 0;
  for (let p = 0; p < n; p++) if (values[p] === 0) zeros++;
  return zeros / n;
}

/** For each of the k columns of a row-major rows×k matrix, the fraction of its entries equal to 0. */
export function columnSparsity(X: Float64Array, rows: number, k: number): Float64Array {
  const zeros = new Float64Array(k);
  for (let i = 0; i < rows; i++) {
    const o = i * k;
    for (let a = 0; a < k; a++) if (X[o + a] === 0) zeros[a] = zeros[a]! + 1;
  }
  for (let a = 0; a < k; a++) zeros[a] = rows > 0 ? zeros[a]! / rows : 0;
  return zeros;
}

export interface FactorSparsity {
  /** Fraction of zeros in W (all features × rank entries). */
  readonly W: number;
  /** Fraction of zeros in each factor (column) of W. */
  readonly perFactor: Float64Array;
  /** Fraction of zeros in H, when the model holds H. */
  readonly H?: number;
  /** Factors whose column of W is entirely 0. */
  readonly deadFactors: number;
}

/** Per-factor and overall sparsity of W (fraction of exact zeros) and the count of dead factors (a column of W entirely zero). */
export function factorSparsity(model: FactorModel): FactorSparsity {
  const perFactor = columnSparsity(model.W, model.features, model.rank);
  let dead = 0;
  for (let a = 0; a < model.rank; a++) if (perFactor[a] === 1) dead++;
  return {
    W: sparsity(model.W), perFactor, deadFactors: dead,
    ...(model.H === undefined ? {} : { H: sparsity(model.H) }),
  };
}
