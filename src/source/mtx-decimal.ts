/**
 * Exact decimal → double conversion for the Matrix Market parser (mtx-parser.ts): powers of ten, and
 * double-double arithmetic (twoSum, twoProd: Dekker's error-free transformations).
 */

export const POW10 = Array.from({ length: 23 }, (_, e) => 10 ** e);

/**
 * (hi·10^extra + lo)·10^ex correctly rounded, for hi < 10^15, lo < 10^extra, extra ≤ 4, |ex| ≤ 22:
 * the significand as an exact double-double, one exact-remainder division or product by 10^|ex|
 * (Dekker), then a check that no rounding tie lies within 2^-90 of the result (else NaN, and the
 * caller falls back to `Number`). Error before rounding ≤ 2^-100 relative.
 */
export function exactDecimal(hi: number, lo: number, extra: number, ex: number): number {
  const P = POW10[extra]!;
  const h1 = Math.floor(hi / 67108864);
  const s1 = twoSum(h1 * P * 67108864, (hi - h1 * 67108864) * P);
  const e1 = ERR[0]!;
  const s2 = twoSum(s1, lo);
  const wl0 = e1 + ERR[0]!;
  const wh = s2 + wl0;
  const wl = wl0 - (wh - s2);
  let q1: number, q2: number;
  if (ex < 0) {
    const D = POW10[-ex]!;
    q1 = wh / D;
    const ph = twoProd(q1, D);
    q2 = ((wh - ph) - ERR[0]! + wl) / D;
  } else {
    const D = POW10[ex]!;
    q1 = twoProd(wh, D);
    q2 = ERR[0]! + wl * D;
  }
  const x = q1 + q2;
  const tol = x * 8.077935669463161e-28; // 2^-90
  return q1 + (q2 + tol) === x && q1 + (q2 - tol) === x ? x : NaN;
}

const ERR = new Float64Array(1); // the rounding error of the last twoSum / twoProd (unboxed)
function twoSum(a: number, b: number): number {
  const s = a + b;
  const bb = s - a;
  ERR[0] = (a - (s - bb)) + (b - bb);
  return s;
}
function twoProd(a: number, b: number): number {
  const p = a * b;
  let t = 134217729 * a;
  const ah = t - (t - a), al = a - ah;
  t = 134217729 * b;
  const bh = t - (t - b), bl = b - bh;
  ERR[0] = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  return p;
}
