/**
 * Test reference: the SVD of a small dense matrix from the symmetric eigenproblem AᵀA = V Λ Vᵀ,
 * solved by the classical Jacobi method (rotate away the largest off-diagonal entry, angle from
 * atan2) on plain arrays; σ = √λ, u = A v / σ. Slow, O(n³) per sweep, and obviously correct; src/
 * never imports it. A is column-major m×n (A[j·m + i]), as fromDense takes it.
 */
export interface DenseSvd {
  /** Decreasing singular values (length n), u_c (length m) and v_c (length n) per value. */
  readonly sigma: number[];
  readonly u: number[][];
  readonly v: number[][];
}

/** Eigenvalues (decreasing) and eigenvectors of a symmetric matrix given as rows. */
export function denseSymmetricEigen(S: readonly (readonly number[])[]): { values: number[]; vectors: number[][] } {
  const n = S.length;
  const a = S.map((row) => [...row]);
  const V = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j): number => (i === j ? 1 : 0)));
  for (let iteration = 0; iteration < 100 * n * n; iteration++) {
    let p = 0, q = 1, largest = 0, scale = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      scale = Math.max(scale, Math.abs(a[i]![j]!));
      if (i < j && Math.abs(a[i]![j]!) > largest) { largest = Math.abs(a[i]![j]!); p = i; q = j; }
    }
    if (n < 2 || largest <= 1e-15 * scale) break;
    const theta = 0.5 * Math.atan2(2 * a[p]![q]!, a[q]![q]! - a[p]![p]!);
    const c = Math.cos(theta), s = Math.sin(theta);
    // a ← Gᵀ a G with G the rotation by θ in the (p, q) plane
    for (let k = 0; k < n; k++) {
      const akp = a[k]![p]!, akq = a[k]![q]!;
      a[k]![p] = c * akp - s * akq;
      a[k]![q] = s * akp + c * akq;
    }
    for (let k = 0; k < n; k++) {
      const apk = a[p]![k]!, aqk = a[q]![k]!;
      a[p]![k] = c * apk - s * aqk;
      a[q]![k] = s * apk + c * aqk;
    }
    for (let k = 0; k < n; k++) {
      const vkp = V[k]![p]!, vkq = V[k]![q]!;
      V[k]![p] = c * vkp - s * vkq;
      V[k]![q] = s * vkp + c * vkq;
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y]![y]! - a[x]![x]!);
  return { values: order.map((i) => a[i]![i]!), vectors: order.map((i) => V.map((row) => row[i]!)) };
}

export function denseSvd(A: Float64Array, m: number, n: number): DenseSvd {
  const AtA = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => {
    let s = 0;
    for (let r = 0; r < m; r++) s += A[i * m + r]! * A[j * m + r]!;
    return s;
  }));
  const { values, vectors } = denseSymmetricEigen(AtA);
  const sigma = values.map((x) => Math.sqrt(Math.max(0, x)));
  const u = vectors.map((v, c) => Array.from({ length: m }, (_, i) => {
    let s = 0;
    for (let j = 0; j < n; j++) s += A[j * m + i]! * v[j]!;
    return sigma[c]! > 0 ? s / sigma[c]! : 0;
  }));
  return { sigma, u, v: vectors };
}
