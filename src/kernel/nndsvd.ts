/**
 * NNDSVD: a nonnegative start W (m×k), H (k×n) from the leading k singular triplets of A
 * (A ≈ Σ_j σ_j u_j v_jᵀ, σ decreasing). Component 0 is √σ₀·|u₀|, √σ₀·|v₀| (the Perron vectors of
 * a nonnegative A have one sign); component j ≥ 1 keeps the larger, by ‖x‖‖y‖, of the rank-1
 * terms (u₊v₊ᵀ, u₋v₋ᵀ) of u_j v_jᵀ's nonnegative parts, unit-normalised and scaled by
 * √(σ_j·‖x‖‖y‖). Flipping the sign of (u_j, v_j) swaps the two parts, so the start does not depend
 * on the SVD's sign convention (ties go to the negative part). A part of norm 0 gives a zero column.
 * U is m×stride and V n×stride row-major (columns 0…k−1 used); W is m×k row-major, H is k×n
 * row-major (the public layout). Cost O((m+n)·k). Allocates nothing.
 * Reference: Boutsidis & Gallopoulos (2008), "SVD based initialization: A head start for
 * nonnegative matrix factorization", Pattern Recognition 41(4), Table 1 (NNDSVD, NNDSVDa).
 */
export function nndsvd(
  U: Float64Array, m: number, sigma: Float64Array, V: Float64Array, n: number, stride: number, k: number,
  W: Float64Array, H: Float64Array,
): void {
  for (let j = 0; j < k; j++) {
    const s = Math.max(0, sigma[j]!);
    if (j === 0) {
      const root = Math.sqrt(s);
      for (let i = 0; i < m; i++) W[i * k] = root * Math.abs(U[i * stride]!);
      for (let c = 0; c < n; c++) H[c] = root * Math.abs(V[c * stride]!);
      continue;
    }
    const xp = partNorm(U, m, stride, j, 1), xn = partNorm(U, m, stride, j, -1);
    const yp = partNorm(V, n, stride, j, 1), yn = partNorm(V, n, stride, j, -1);
    const positive = xp * yp > xn * yn;
    const sign = positive ? 1 : -1;
    const nx = positive ? xp : xn, ny = positive ? yp : yn;
    const scale = Math.sqrt(s * nx * ny);
    const fx = nx > 0 ? scale / nx : 0, fy = ny > 0 ? scale / ny : 0;
    for (let i = 0; i < m; i++) W[i * k + j] = fx * Math.max(0, sign * U[i * stride + j]!);
    for (let c = 0; c < n; c++) H[j * n + c] = fy * Math.max(0, sign * V[c * stride + j]!);
  }
}

/** NNDSVDa: every exact zero of X (length len) becomes `value` (the mean of A). */
export function fillZeros(X: Float64Array, len: number, value: number): void {
  for (let q = 0; q < len; q++) if (X[q] === 0) X[q] = value;
}

/** ‖max(0, sign·X[:, col])‖₂ of a rows×stride row-major matrix. */
function partNorm(X: Float64Array, rows: number, stride: number, col: number, sign: number): number {
  let s = 0;
  for (let i = 0; i < rows; i++) {
    const x = sign * X[i * stride + col]!;
    if (x > 0) s += x * x;
  }
  return Math.sqrt(s);
}
