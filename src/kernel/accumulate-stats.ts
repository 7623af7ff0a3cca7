/**
 * Sufficient statistics of the W-update, folded in one sample at a time during the H pass:
 *   accumulateOuter:  S += h_j h_jᵀ (upper triangle only; S = H Hᵀ, k×k row-major), hSum += h_j
 *   accumulateCross:  B[i, :] = B[i, :]! + A[i, j] · h_j for the nonzeros i of column j (B = A Hᵀ, m×k
 *                     row-major); returns Σ_i A[i,j]² (the ‖A‖² term of the loss)
 * Cost O(k²/2) and O(nnz_j·k). Allocates nothing.
 * Reference: docs/architecture.md, Least squares ("Streaming W-update"). rank-kernels.ts has the unrolled
 * form of accumulateCross (same operations, same order).
 */
export function accumulateOuter(h: Float64Array, hOff: number, k: number, S: Float64Array, hSum: Float64Array): void {
  for (let a = 0; a < k; a++) {
    const ha = h[hOff + a]!;
    if (ha === 0) continue;
    hSum[a] = hSum[a]! + ha;
    const sa = a * k;
    for (let c = a; c < k; c++) S[sa + c] = S[sa + c]! + ha * h[hOff + c]!;
  }
}

export function accumulateCross(
  h: Float64Array, hOff: number, k: number,
  rowIdx: Int32Array, values: Float64Array, start: number, end: number, B: Float64Array,
): number {
  let sq = 0;
  for (let p = start; p < end; p++) {
    const v = values[p]!;
    sq += v * v;
    const o = rowIdx[p]! * k;
    for (let a = 0; a < k; a++) B[o + a] = B[o + a]! + v * h[hOff + a]!;
  }
  return sq;
}

/** B[i, :] = B[i, :]! + A[i, j]·h_j for rows i in [i0, i1) only, columns j in ascending order (H sample-major). */
export function accumulateRows(
  k: number, colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array, n: number, colStart: number,
  H: Float64Array, B: Float64Array, i0: number, i1: number,
): void {
  for (let j = 0; j < n; j++) {
    const off = (colStart + j) * k;
    for (let p = colPtr[j]!, end = colPtr[j + 1]!; p < end; p++) {
      const i = rowIdx[p]!;
      if (i < i0 || i >= i1) continue;
      const v = values[p]!;
      const o = i * k;
      for (let a = 0; a < k; a++) B[o + a] = B[o + a]! + v * H[off + a]!;
    }
  }
}
