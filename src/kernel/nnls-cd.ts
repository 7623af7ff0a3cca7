/**
 * NNLS by cyclic coordinate descent in residual form:  min_{x ≥ 0} ½ xᵀGx − bᵀx.
 * On entry r = b − G x for the starting x (the caller forms it); both are updated in place.
 * G is k×k row-major symmetric; invDiag[a] = 1 / G[a,a] (0 where G[a,a] ≤ 0: that coordinate is
 * held at 0). A sweep visits a = 0..k−1; it stops after `maxSweeps` sweeps or when the mean
 * relative change of a sweep, Σ|Δx_a / x_a| / k (a coordinate set to 0 counts 1), is below `tol`.
 * Returns the number of sweeps used. Cost O(k²) per sweep. Allocates nothing.
 * Reference: Franc, Hlaváč & Navara (2005), "Sequential coordinate-wise algorithm for NNLS";
 * the stopping rule of RcppML 0.3.7 (`nnls` in RcppML/inst/include).
 */
const TINY = 1e-15;

export function nnlsCd(
  G: Float64Array, invDiag: Float64Array, k: number,
  r: Float64Array, rOff: number, x: Float64Array, xOff: number,
  maxSweeps: number, tol: number,
): number {
  let sweep = 0;
  while (sweep < maxSweeps) {
    sweep++;
    let change = 0;
    for (let a = 0; a < k; a++) {
      const xa = x[xOff + a]!;
      const inv = invDiag[a]!;
      let delta = inv === 0 ? -xa : r[rOff + a]! * inv;
      if (xa + delta < 0) delta = -xa;
      if (delta === 0) continue;
      const next = xa + delta;
      x[xOff + a] = next;
      const ga = a * k;
      for (let c = 0; c < k; c++) r[rOff + c] = r[rOff + c]! - G[ga + c]! * delta;
      change += next === 0 ? 1 : Math.abs(delta / (next + TINY));
    }
    if (change / k < tol) break;
  }
  return sweep;
}
