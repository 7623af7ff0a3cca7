/**
 * The weighted L1-NMF problem as the in-memory sCD iteration needs it: A by sample (CSC) and by
 * feature (CSR, the transposed index, built once per fit), plus λ and a few sizes.
 *
 * The objective is f = Σ_{A_ij>0} |A_ij − (WH)_ij| + λ·Σ_{A_ij=0} (WH)_ij, so which entries count as
 * "nonzero" matters when λ ≠ 1: stored zeros are dropped and duplicate (row, column) entries are
 * summed here, once, so the kernels may assume strictly increasing row indices and positive values.
 * A matrix already in that form is used without copying its CSC arrays.
 */
import { OptionError } from '../../errors.js';
import type { CscMatrix } from '../../chunk/csc-matrix.js';

export interface L1Problem extends CscMatrix {
  /** Weight of the zero entries of A (λ ≥ 0; 1 is plain L1-NMF). */
  readonly lambda: number;
  /** Number of (positive) nonzeros. */
  readonly nnz: number;
  /** Transposed index: row i's nonzeros are colIdx/rowValues[rowPtr[i] .. rowPtr[i+1]). */
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly rowValues: Float64Array;
  /** Σ A_ij (the objective is reported relative to it). */
  readonly sumA: number;
  /** Longest row or column, in nonzeros (sizes the workspace). */
  readonly maxLine: number;
}

export function makeL1Problem(matrix: CscMatrix, lambda: number): L1Problem {
  if (!(lambda >= 0) || lambda === Infinity) throw new OptionError('lambda', 'a finite number ≥ 0', lambda);
  const { m, n } = matrix;
  const { colPtr, rowIdx, values } = isCanonical(matrix) ? matrix : canonicalize(matrix);
  const nnz = colPtr[n]!;
  const rowPtr = new Int32Array(m + 1);
  for (let p = 0; p < nnz; p++) { const i = rowIdx[p]! + 1; rowPtr[i] = rowPtr[i]! + 1; }
  let maxLine = 0;
  for (let i = 0; i < m; i++) {
    const len = rowPtr[i + 1]!;
    if (len > maxLine) maxLine = len;
    rowPtr[i + 1] = rowPtr[i]! + len;
  }
  const colIdx = new Int32Array(nnz);
  const rowValues = new Float64Array(nnz);
  const next = rowPtr.slice(0, m);
  let sumA = 0;
  for (let j = 0; j < n; j++) {
    const start = colPtr[j]!, end = colPtr[j + 1]!;
    if (end - start > maxLine) maxLine = end - start;
    for (let p = start; p < end; p++) {
      const i = rowIdx[p]!;
      const q = next[i]!;
      next[i] = q + 1;
      colIdx[q] = j;
      rowValues[q] = values[p]!;
      sumA += values[p]!;
    }
  }
  return { m, n, colPtr, rowIdx, values, lambda, nnz, rowPtr, colIdx, rowValues, sumA, maxLine };
}

/** Strictly increasing rows within each column and every stored value > 0. */
function isCanonical({ n, colPtr, rowIdx, values }: CscMatrix): boolean {
  for (let j = 0; j < n; j++) {
    let last = -1;
    for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) {
      if (rowIdx[p]! <= last || !(values[p]! > 0)) return false;
      last = rowIdx[p]!;
    }
  }
  return true;
}

/** Copy with each column sorted by row, duplicates summed and zeros dropped. */
function canonicalize({ n, colPtr, rowIdx, values }: CscMatrix): Pick<CscMatrix, 'colPtr' | 'rowIdx' | 'values'> {
  const total = colPtr[n]!;
  const outPtr = new Int32Array(n + 1);
  const outIdx = new Int32Array(total);
  const outVal = new Float64Array(total);
  let q = 0;
  for (let j = 0; j < n; j++) {
    const start = colPtr[j]!, end = colPtr[j + 1]!;
    const order = Array.from({ length: end - start }, (_, t) => start + t)
      .sort((a, b) => rowIdx[a]! - rowIdx[b]!);
    const first = q;
    for (const p of order) {
      if (q > first && outIdx[q - 1] === rowIdx[p]) outVal[q - 1] = outVal[q - 1]! + values[p]!;
      else { outIdx[q] = rowIdx[p]!; outVal[q] = values[p]!; q++; }
    }
    // drop entries that are (or summed to) zero
    let kept = first;
    for (let t = first; t < q; t++) {
      if (outVal[t]! > 0) { outIdx[kept] = outIdx[t]!; outVal[kept] = outVal[t]!; kept++; }
    }
    q = kept;
    outPtr[j + 1] = q;
  }
  return { colPtr: outPtr, rowIdx: outIdx.slice(0, q), values: outVal.slice(0, q) };
}
