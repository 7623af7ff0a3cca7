/**
 * Right-hand side of one sample's NNLS problem over its nonzeros only:
 *   b = Wᵀ A[:, j] − shift  =  Σ_{p ∈ [start, end)} values[p] · W[rowIdx[p], :] − shift
 * W is m×k row-major (the k loadings of a feature contiguous), b is written at b[bOff .. bOff+k).
 * Cost O(nnz_j · k). Allocates nothing.
 */
export function sparseRhs(
  W: Float64Array, k: number,
  rowIdx: Int32Array, values: Float64Array, start: number, end: number,
  shift: number, b: Float64Array, bOff: number,
): void {
  for (let a = 0; a < k; a++) b[bOff + a] = -shift;
  for (let p = start; p < end; p++) {
    const v = values[p]!;
    const o = rowIdx[p]! * k;
    for (let a = 0; a < k; a++) b[bOff + a] = b[bOff + a]! + v * W[o + a]!;
  }
}
