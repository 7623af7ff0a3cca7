/**
 * Eigen-decomposition of a small symmetric matrix, S = V diag(λ) Vᵀ, by the cyclic Jacobi method:
 * sweeps of plane rotations, each zeroing one off-diagonal pair, until the off-diagonal mass
 * ‖off(S)‖_F ≤ 1e-15·‖S‖_F (or 60 sweeps; Jacobi converges quadratically, 6–10 sweeps in practice).
 * S is l×l row-major and is destroyed (its diagonal ends up holding the eigenvalues); λ (length l)
 * comes out in decreasing order and V (l×l row-major) holds the matching eigenvectors as columns.
 * Cost O(l³) per sweep. Allocates nothing. Deterministic: a fixed rotation order, fixed sums.
 * Reference: Golub & Van Loan, Matrix Computations (4th ed.), §8.5.2–8.5.3 (sym.schur2, cyclic Jacobi).
 */
export function symmetricEigen(S: Float64Array, l: number, lambda: Float64Array, V: Float64Array): number {
  V.fill(0, 0, l * l);
  for (let a = 0; a < l; a++) V[a * l + a] = 1;
  let total = 0;
  for (let q = 0; q < l * l; q++) total += S[q]! * S[q]!;
  const target = 1e-30 * total; // (1e-15)² of ‖S‖²_F
  let sweeps = 0;
  while (sweeps < 60) {
    let off = 0;
    for (let p = 0; p < l; p++) for (let r = p + 1; r < l; r++) off += 2 * S[p * l + r]! * S[p * l + r]!;
    if (!(off > target)) break; // also stops on NaN instead of looping
    sweeps++;
    for (let p = 0; p < l - 1; p++) {
      for (let r = p + 1; r < l; r++) {
        const spr = S[p * l + r]!;
        if (spr === 0) continue;
        // sym.schur2: the rotation [c s; −s c] on (p, r) with (JᵀSJ)_pr = 0
        const tau = (S[r * l + r]! - S[p * l + p]!) / (2 * spr);
        const t = tau >= 0 ? 1 / (tau + Math.sqrt(1 + tau * tau)) : -1 / (-tau + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t), s = t * c;
        for (let i = 0; i < l; i++) { // S ← S J
          const x = S[i * l + p]!, y = S[i * l + r]!;
          S[i * l + p] = c * x - s * y;
          S[i * l + r] = s * x + c * y;
        }
        for (let i = 0; i < l; i++) { // S ← Jᵀ S
          const x = S[p * l + i]!, y = S[r * l + i]!;
          S[p * l + i] = c * x - s * y;
          S[r * l + i] = s * x + c * y;
        }
        S[p * l + r] = 0;
        S[r * l + p] = 0;
        for (let i = 0; i < l; i++) { // V ← V J
          const x = V[i * l + p]!, y = V[i * l + r]!;
          V[i * l + p] = c * x - s * y;
          V[i * l + r] = s * x + c * y;
        }
      }
    }
  }
  for (let a = 0; a < l; a++) lambda[a] = S[a * l + a]!;
  // selection sort, decreasing, swapping eigenvector columns along (stable for ties: first index wins)
  for (let a = 0; a < l; a++) {
    let best = a;
    for (let b = a + 1; b < l; b++) if (lambda[b]! > lambda[best]!) best = b;
    if (best === a) continue;
    const x = lambda[a]!;
    lambda[a] = lambda[best]!;
    lambda[best] = x;
    for (let i = 0; i < l; i++) {
      const y = V[i * l + a]!;
      V[i * l + a] = V[i * l + best]!;
      V[i * l + best] = y;
    }
  }
  return sweeps;
}
