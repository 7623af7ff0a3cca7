/**
 * Exact NNLS on a guessed support (passive set P):  solve G_PP z = b_P by Cholesky and accept z
 * when z_P > 0 and the gradient g = G z − b is ≥ 0 off P. Those are the KKT conditions of
 * min_{x≥0} ½xᵀGx − bᵀx, so for G ≻ 0 an accepted z is the unique optimum, to rounding.
 * G is k×k row-major; L is a k×k workspace (lower factor, stride k); z and idx have length k.
 * Returns 1 when accepted (x[xOff..) overwritten with the solution), 0 when the KKT check failed
 * (z[0..p) holds the solve on P, idx[0..p) its coordinates, x untouched), −1 when G_PP is not
 * numerically positive definite. Cost O(p³/6 + k·p). Allocates nothing.
 * Reference: Lawson & Hanson (1974), "Solving Least Squares Problems", ch. 23 (the passive-set step).
 */
const PIVOT_FLOOR = 1e-12;
const KKT_SLACK = 1e-11;

export function nnlsOnSupport(
  G: Float64Array, k: number, b: Float64Array, bOff: number,
  x: Float64Array, xOff: number, passive: Uint8Array,
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
  let ok = 1;
  for (let r = 0; r < p; r++) if (!(z[r]! > 0)) ok = 0;
  if (ok === 1) {
    for (let a = 0; a < k; a++) {
      if (passive[a] === 1) continue;
      const ga = a * k;
      const ba = b[bOff + a]!;
      let g = -ba;
      let scale = Math.abs(ba);
      for (let r = 0; r < p; r++) {
        const t = G[ga + idx[r]!]! * z[r]!;
        g += t;
        scale += Math.abs(t);
      }
      if (g < -KKT_SLACK * scale) { ok = 0; break; }
    }
  }
  if (ok === 0) return 0;
  for (let a = 0; a < k; a++) x[xOff + a] = 0;
  for (let r = 0; r < p; r++) x[xOff + idx[r]!] = z[r]!;
  return 1;
}
