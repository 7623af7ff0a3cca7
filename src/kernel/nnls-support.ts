/**
 * Exact least squares on a support (passive set P) and the KKT test of NNLS.
 *  solveOnSupport: G_PP z = b_P by Cholesky; z[0..p) in the order of idx[0..p). Returns p, or −1
 *    when G_PP is not numerically positive definite.
 *  nnlsOnSupport: accept z when z_P > 0 and the gradient g = G z − b is ≥ 0 off P — the KKT
 *    conditions of min_{x≥0} ½xᵀGx − bᵀx, so for G ≻ 0 an accepted z is the unique optimum.
 *    Returns 1 (x[xOff..) overwritten), 0 (KKT failed, x untouched, z/idx hold the solve on P), −1.
 * G is k×k row-major; L is a k×k workspace (lower factor, stride k); z and idx have length k.
 * Cost O(p³/6 + k·p). Allocates nothing.
 * Reference: Lawson & Hanson (1974), "Solving Least Squares Problems", ch. 23 (the passive-set step).
 */
const PIVOT_FLOOR = 1e-12;
const KKT_SLACK = 1e-11;

export function solveOnSupport(
  G: Float64Array, k: number, b: Float64Array, bOff: number, passive: Uint8Array,
  L: Float64Array, z: Float64Array, idx: Int32Array,
): number {
  let p = 0;
  for (let a = 0; a < k; a++) if (passive[a] === 1) idx[p++] = a;
  for (let r = 0; r < p; r++) {
    const gr = idx[r]! * k;
    const lr = r * k;
    for (let c = 0; c <= r; c++) {
      let s = G[gr + idx[c]!]!;
      const lc = c * k;
      for (let t = 0; t < c; t++) s -= L[lr + t]! * L[lc + t]!;
      if (r === c) {
        if (!(s > PIVOT_FLOOR * G[gr + idx[r]!]!)) return -1;
        L[lr + r] = Math.sqrt(s);
      } else {
        L[lr + c] = s / L[lc + c]!;
      }
    }
  }
  for (let r = 0; r < p; r++) {
    let s = b[bOff + idx[r]!]!;
    const lr = r * k;
    for (let t = 0; t < r; t++) s -= L[lr + t]! * z[t]!;
    z[r] = s / L[lr + r]!;
  }
  for (let r = p - 1; r >= 0; r--) {
    let s = z[r]!;
    for (let t = r + 1; t < p; t++) s -= L[t * k + r]! * z[t]!;
    z[r] = s / L[r * k + r]!;
  }
  return p;
}

/** Largest negative part of the gradient off P, relative to its scale (≤ 0 means KKT holds off P). */
export function worstGradient(
  G: Float64Array, k: number, b: Float64Array, bOff: number, x: Float64Array, xOff: number,
  passive: Uint8Array, invDiag: Float64Array,
): number {
  let worst = -1;
  let at = -1;
  for (let a = 0; a < k; a++) {
    if (passive[a] === 1 || invDiag[a] === 0) continue;
    const ga = a * k;
    const ba = b[bOff + a]!;
    let g = -ba;
    let scale = Math.abs(ba);
    for (let c = 0; c < k; c++) {
      const t = G[ga + c]! * x[xOff + c]!;
      g += t;
      scale += Math.abs(t);
    }
    const v = -g - KKT_SLACK * scale;
    if (v > 0 && (at < 0 || v > worst)) { worst = v; at = a; }
  }
  return at;
}

export function nnlsOnSupport(
  G: Float64Array, k: number, b: Float64Array, bOff: number,
  x: Float64Array, xOff: number, passive: Uint8Array, invDiag: Float64Array,
  L: Float64Array, z: Float64Array, idx: Int32Array, scratch: Float64Array,
): number {
  const p = solveOnSupport(G, k, b, bOff, passive, L, z, idx);
  if (p < 0) return -1;
  for (let r = 0; r < p; r++) if (!(z[r]! > 0)) return 0;
  scratch.fill(0, 0, k);
  for (let r = 0; r < p; r++) scratch[idx[r]!] = z[r]!;
  if (worstGradient(G, k, b, bOff, scratch, 0, passive, invDiag) >= 0) return 0;
  for (let a = 0; a < k; a++) x[xOff + a] = scratch[a]!;
  return 1;
}
