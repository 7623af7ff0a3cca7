/**
 * One Cholesky-QR step's small factor: from the Gram matrix G = XᵀX (l×l, row-major) of a tall X,
 * M = R⁻¹ (l×l, upper triangular, row-major) with G = RᵀR, so that X·M has orthonormal columns
 * (X = (X·M)·R). Applied twice ("CholeskyQR2") the columns are orthonormal to working precision as
 * long as X's columns are not nearly dependent (κ ≲ 1e8), which the drop rule below ensures.
 * Column c is dropped — row and column c of M are 0, so column c of X·M is 0 and column c of X feeds
 * no other — when its pivot G_cc − Σ_{b<c} R_bc² (its squared distance to the earlier columns) is
 * ≤ 1e-10·G_cc, i.e. its part independent of the earlier columns is below 1e-5 of its norm (rounding
 * in G blurs anything much smaller), or when G_cc = 0 or the pivot is not a number. A rank-deficient X
 * thus gives zero columns, as classical Gram–Schmidt with the same rule would.
 * Returns the columns kept. R: l×l scratch. Cost O(l³). Allocates nothing.
 * Reference: Fukaya, Nakatsukasa, Yanagisawa & Yamamoto (2014), "CholeskyQR2: a simple and
 * communication-avoiding algorithm for computing a tall-skinny QR factorization", ScalA'14;
 * Golub & Van Loan (4th ed.) §4.2.5 (Cholesky), §3.1.3 (triangular inverse).
 */
const DROP = 1e-10;

export function cholInverse(G: Float64Array, l: number, M: Float64Array, R: Float64Array): number {
  R.fill(0, 0, l * l);
  M.fill(0, 0, l * l);
  let kept = 0;
  // Column c of R from the earlier ones: R_bc = (G_bc − Σ_{a<b} R_ab R_ac) / R_bb, then the pivot.
  for (let c = 0; c < l; c++) {
    for (let b = 0; b < c; b++) {
      const rbb = R[b * l + b]!;
      if (rbb === 0) continue; // b dropped: R_bc stays 0
      let s = G[b * l + c]!;
      for (let a = 0; a < b; a++) s -= R[a * l + b]! * R[a * l + c]!;
      R[b * l + c] = s / rbb;
    }
    const gcc = G[c * l + c]!;
    let d = gcc;
    for (let b = 0; b < c; b++) d -= R[b * l + c]! * R[b * l + c]!;
    if (d > DROP * gcc && gcc > 0) {
      R[c * l + c] = Math.sqrt(d);
      kept++;
    } else {
      for (let b = 0; b < c; b++) R[b * l + c] = 0; // dropped: R_cc = 0 marks it
    }
  }
  // M = R⁻¹ column by column: M_cc = 1/R_cc, M_bc = −(Σ_{a=b+1…c} R_ba M_ac) / R_bb for b < c.
  for (let c = 0; c < l; c++) {
    const rcc = R[c * l + c]!;
    if (rcc === 0) continue;
    M[c * l + c] = 1 / rcc;
    for (let b = c - 1; b >= 0; b--) {
      const rbb = R[b * l + b]!;
      if (rbb === 0) continue;
      let s = 0;
      for (let a = b + 1; a <= c; a++) s += R[b * l + a]! * M[a * l + c]!;
      M[b * l + c] = -s / rbb;
    }
  }
  return kept;
}
