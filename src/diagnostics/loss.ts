/**
 * How well W·diag(d)·H reproduces A, computed over the nonzeros of A (no dense product):
 *  relativeLoss        ‖A − WdH‖²_F / ‖A‖²_F = (‖A‖² − 2 Σ_nnz A_ij P_ij + Σ_ab d_a d_b (WᵀW)_ab (HHᵀ)_ab) / ‖A‖²
 *  relativeL1Objective (Σ_{A_ij>0} |A_ij − P_ij| + λ Σ_{A_ij=0} P_ij) / ΣA, with the zeros' share
 *                      taken as Σ_all P − Σ_{A_ij>0} P_ij and Σ_all P = Σ_a d_a (Σ_i W_ia)(Σ_j H_aj)
 * where P = W·diag(d)·H. W is m×k row-major, H k×n row-major. Cost O(nnz·k + (m + n)·k²).
 */
import { OptionError } from '../errors.js';
import type { CscMatrix } from '../source/from-csc.js';

export interface Factors {
  readonly W: Float64Array;
  readonly d: Float64Array;
  readonly H: Float64Array;
  readonly rank: number;
}

/** ‖A − W diag(d) H‖²_F / ‖A‖²_F of the factors (W, d and H given) on the matrix, over its nonzeros. */
export function relativeLoss(matrix: CscMatrix, factors: Factors): number {
  const { m, n, colPtr, rowIdx, values } = matrix;
  const { W, d, H, rank: k } = checked(matrix, factors);
  let normA = 0, cross = 0;
  for (let j = 0; j < n; j++) {
    for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) {
      const a = values[p]!;
      normA += a * a;
      cross += a * predict(W, d, H, k, n, rowIdx[p]!, j);
    }
  }
  const GW = gramOf(W, m, k, 1, k);
  const GH = gramOf(H, n, k, n, 1);
  let normP = 0;
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) normP += d[a]! * d[b]! * GW[a * k + b]! * GH[a * k + b]!;
  if (normA === 0) return 0;
  return Math.max(0, normA - 2 * cross + normP) / normA;
}

/** The weighted L1 objective relative to ΣA (λ = 1: plain L1; stored zeros count as zeros). */
export function relativeL1Objective(matrix: CscMatrix, factors: Factors, lambda = 1): number {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new OptionError('lambda', 'a finite number ≥ 0', lambda);
  const { m, n, colPtr, rowIdx, values } = matrix;
  const { W, d, H, rank: k } = checked(matrix, factors);
  let sumA = 0, abs = 0, predictedAtNonzeros = 0;
  for (let j = 0; j < n; j++) {
    for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) {
      const a = values[p]!;
      if (a === 0) continue;
      const q = predict(W, d, H, k, n, rowIdx[p]!, j);
      sumA += a;
      abs += Math.abs(a - q);
      predictedAtNonzeros += q;
    }
  }
  let total = 0;
  for (let c = 0; c < k; c++) {
    let sw = 0, sh = 0;
    for (let i = 0; i < m; i++) sw += W[i * k + c]!;
    for (let j = 0; j < n; j++) sh += H[c * n + j]!;
    total += d[c]! * sw * sh;
  }
  const f = abs + lambda * Math.max(0, total - predictedAtNonzeros);
  return sumA > 0 ? f / sumA : 0;
}

function predict(W: Float64Array, d: Float64Array, H: Float64Array, k: number, n: number, i: number, j: number): number {
  let s = 0;
  for (let a = 0; a < k; a++) s += W[i * k + a]! * d[a]! * H[a * n + j]!;
  return s;
}

/** k×k Gram matrix of the k vectors X[a·vecStride + t·elemStride], t < len. */
function gramOf(X: Float64Array, len: number, k: number, vecStride: number, elemStride: number): Float64Array {
  const G = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      let s = 0;
      for (let t = 0; t < len; t++) s += X[a * vecStride + t * elemStride]! * X[b * vecStride + t * elemStride]!;
      G[a * k + b] = s;
      G[b * k + a] = s;
    }
  }
  return G;
}

function checked(matrix: CscMatrix, f: Factors): Factors {
  const k = f.rank;
  if (f.W.length !== matrix.m * k) throw new OptionError('W', `${matrix.m}×${k} numbers`, `${f.W.length}`);
  if (f.H.length !== k * matrix.n) throw new OptionError('H', `${k}×${matrix.n} numbers`, `${f.H.length}`);
  if (f.d.length !== k) throw new OptionError('d', `${k} numbers`, `${f.d.length}`);
  return f;
}
