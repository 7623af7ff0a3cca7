/**
 * NNDSVD: a nonnegative start W (m×k), H (k×n) from the leading k singular triplets of A
 * (A ≈ Σ_j σ_j u_j v_jᵀ, σ decreasing). Component 0 is √σ₀·|u₀|, √σ₀·|v₀| (the Perron vectors of
 * a nonnegative A have one sign); component j ≥ 1 keeps the larger, by ‖x‖‖y‖, of the rank-1
 * terms (u₊v₊ᵀ, u₋v₋ᵀ) of u_j v_jᵀ's nonnegative parts, unit-normalised and scaled by
 * √(σ_j·‖x‖‖y‖). Flipping the sign of (u_j, v_j) swaps the two parts, so the start does not depend
 * on the SVD's sign convention (ties go to the negative part). A part of norm 0 gives a zero column.
 * U is m×stride and V n×stride row-major (columns 0…k−1 used); W is m×k row-major, H is k×n
 * row-major (the public layout); W may be U itself when stride = k (each column is read before it is
 * written), and an H of length 0 is not written (W alone: V still decides each component's sign and
 * scale). scratch: 6k numbers. Cost O((m+n)·k), in row-major sweeps. Allocates nothing.
 * Reference: Boutsidis & Gallopoulos (2008), "SVD based initialization: A head start for
 * nonnegative matrix factorization", Pattern Recognition 41(4), Table 1 (NNDSVD, NNDSVDa).
 */
export function nndsvd(
  U: Float64Array, m: number, sigma: Float64Array, V: Float64Array, n: number, stride: number, k: number,
  W: Float64Array, H: Float64Array, scratch: Float64Array,
): void {
  // scratch: ‖u₊‖², ‖u₋‖², ‖v₊‖², ‖v₋‖² per component (one row-major sweep each), then the factors of W and H
  const up = 0, un = k, vp = 2 * k, vn = 3 * k, fw = 4 * k, fh = 5 * k;
  partNorms(U, m, stride, k, scratch, up, un);
  partNorms(V, n, stride, k, scratch, vp, vn);
  for (let j = 0; j < k; j++) {
    const s = Math.max(0, sigma[j]!);
    if (j === 0) { // |u₀|, |v₀|: the sign is taken by the abs below
      scratch[fw] = scratch[fh] = Math.sqrt(s);
      continue;
    }
    const xp = Math.sqrt(scratch[up + j]!), xn = Math.sqrt(scratch[un + j]!);
    const yp = Math.sqrt(scratch[vp + j]!), yn = Math.sqrt(scratch[vn + j]!);
    const positive = xp * yp > xn * yn;
    const nx = positive ? xp : xn, ny = positive ? yp : yn;
    const scale = Math.sqrt(s * nx * ny), sign = positive ? 1 : -1;
    scratch[fw + j] = sign * (nx > 0 ? scale / nx : 0); // the factor's sign picks the part
    scratch[fh + j] = sign * (ny > 0 ? scale / ny : 0);
  }
  for (let i = 0; i < m; i++) {
    const o = i * stride;
    W[i * k] = scratch[fw]! * Math.abs(U[o]!);
    for (let j = 1; j < k; j++) W[i * k + j] = Math.max(0, scratch[fw + j]! * U[o + j]!);
  }
  if (H.length === 0) return;
  for (let c = 0; c < n; c++) {
    const o = c * stride;
    H[c] = scratch[fh]! * Math.abs(V[o]!);
    for (let j = 1; j < k; j++) H[j * n + c] = Math.max(0, scratch[fh + j]! * V[o + j]!);
  }
}

/** NNDSVDa: every exact zero of X (length len) becomes `value` (the mean of A). */
export function fillZeros(X: Float64Array, len: number, value: number): void {
  for (let q = 0; q < len; q++) if (X[q] === 0) X[q] = value;
}

/** Σ x² over the positive and over the negative entries of each column of X (rows×stride row-major, k columns), rows in order. */
function partNorms(X: Float64Array, rows: number, stride: number, k: number, out: Float64Array, pos: number, neg: number): void {
  out.fill(0, pos, pos + k);
  out.fill(0, neg, neg + k);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < k; j++) {
      const x = X[i * stride + j]!;
      if (x > 0) out[pos + j] = out[pos + j]! + x * x;
      else if (x < 0) out[neg + j] = out[neg + j]! + x * x;
    }
  }
}
