/**
 * Gram matrix of a row-major factor: G = XᵀX (k×k, row-major, symmetric, both triangles filled),
 * X stored rows×k with the k entries of each row contiguous (W in nmflow's kernel layout).
 * Cost O(rows·k²/2). Allocates nothing. Reference: any BLAS `dsyrk`.
 */
export function gram(X: Float64Array, rows: number, k: number, G: Float64Array): void {
  G.fill(0, 0, k * k);
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    for (let a = 0; a < k; a++) {
      const xa = X[o + a]!;
      if (xa === 0) continue;
      const ga = a * k;
      for (let b = a; b < k; b++) G[ga + b] = G[ga + b]! + xa * X[o + b]!;
    }
  }
  symmetrizeUpper(G, k);
}

/** Copy the upper triangle of a k×k row-major matrix into its lower triangle. */
export function symmetrizeUpper(G: Float64Array, k: number): void {
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) G[b * k + a] = G[a * k + b]!;
  }
}

/** G += alpha·I. */
export function addDiagonal(G: Float64Array, k: number, alpha: number): void {
  if (alpha === 0) return;
  for (let a = 0; a < k; a++) G[a * k + a] = G[a * k + a]! + alpha;
}
