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
  L: Float64Array, z: Float64Array, idx: Int32Array, cache: FactorCache | undefined,
): number {
  let p = 0;
  let key = 0;
  for (let a = 0; a < k; a++) {
    if (passive[a] === 1) { idx[p++] = a; key |= 1 << a; }
  }
  let F = L;
  let base = 0;
  if (cache !== undefined) {
    const known = cache.state[key]!;
    if (known === FAILED) return -1;
    F = cache.factors;
    base = key * k * k;
    if (known === UNKNOWN) {
      if (!cholesky(G, k, idx, p, F, base)) { cache.state[key] = FAILED; return -1; }
      cache.state[key] = FACTORED;
    }
  } else if (!cholesky(G, k, idx, p, F, 0)) {
    return -1;
  }
  for (let r = 0; r < p; r++) {
    let s = b[bOff + idx[r]!]!;
    const lr = base + r * k;
    for (let t = 0; t < r; t++) s -= F[lr + t]! * z[t]!;
    z[r] = s / F[lr + r]!;
  }
  for (let r = p - 1; r >= 0; r--) {
    let s = z[r]!;
    for (let t = r + 1; t < p; t++) s -= F[base + t * k + r]! * z[t]!;
    z[r] = s / F[base + r * k + r]!;
  }
  return p;
}

/**
 * Cholesky factors of G_PP for every support P met since G last changed, keyed by the support's
 * bit mask (k ≤ MAX_CACHED_RANK): columns that share a support share one factorisation. The
 * factor is computed exactly as without the cache, so results are bit-identical.
 */
export interface FactorCache {
  /** 2^k × k×k lower factors, stride k. */
  readonly factors: Float64Array;
  /** Per mask: 0 unknown, 1 factored, 2 not positive definite. */
  readonly state: Uint8Array;
}

export const MAX_CACHED_RANK = 12;
const UNKNOWN = 0;
const FACTORED = 1;
const FAILED = 2;

export function makeFactorCache(k: number): FactorCache | undefined {
  if (k > MAX_CACHED_RANK) return undefined;
  return { factors: new Float64Array((1 << k) * k * k), state: new Uint8Array(1 << k) };
}

/** Forget every factor: call whenever G changes. */
export function clearFactorCache(cache: FactorCache | undefined): void {
  cache?.state.fill(UNKNOWN);
}

/** Lower Cholesky factor of G restricted to idx[0..p), into F at base (stride k). False if not PD. */
function cholesky(G: Float64Array, k: number, idx: Int32Array, p: number, F: Float64Array, base: number): boolean {
  for (let r = 0; r < p; r++) {
    const gr = idx[r]! * k;
    const lr = base + r * k;
    for (let c = 0; c <= r; c++) {
      let s = G[gr + idx[c]!]!;
      const lc = base + c * k;
      for (let t = 0; t < c; t++) s -= F[lr + t]! * F[lc + t]!;
      if (r === c) {
        if (!(s > PIVOT_FLOOR * G[gr + idx[r]!]!)) return false;
        F[lr + r] = Math.sqrt(s);
      } else {
        F[lr + c] = s / F[lc + c]!;
      }
    }
  }
  return true;
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
  L: Float64Array, z: Float64Array, idx: Int32Array, scratch: Float64Array, cache: FactorCache | undefined,
): number {
  const p = solveOnSupport(G, k, b, bOff, passive, L, z, idx, cache);
  if (p < 0) return -1;
  for (let r = 0; r < p; r++) if (!(z[r]! > 0)) return 0;
  scratch.fill(0, 0, k);
  for (let r = 0; r < p; r++) scratch[idx[r]!] = z[r]!;
  if (worstGradient(G, k, b, bOff, scratch, 0, passive, invDiag) >= 0) return 0;
  for (let a = 0; a < k; a++) x[xOff + a] = scratch[a]!;
  return 1;
}
