/**
 * The shape every diagnostic reads: W (features × rank, row-major, the k loadings of a feature
 * contiguous), d (length rank) and optionally H (rank × samples, row-major), with A ≈ W·diag(d)·H.
 * A fitted Snapshot/Model and a StoredModel from readModel both have this shape.
 */
export interface FactorModel {
  readonly rank: number;
  readonly features: number;
  readonly W: Float64Array;
  readonly d: Float64Array;
  readonly H?: Float64Array;
  readonly featureNames?: readonly string[];
  readonly loss?: 'l2' | 'l1';
}

/** Column a of a row-major rows×k matrix, copied. */
export function factorColumn(X: Float64Array, rows: number, k: number, a: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = X[i * k + a]!;
  return out;
}
