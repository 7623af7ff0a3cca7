/**
 * Reference (slow, obviously correct): lower weighted median by sorting. Pairs with weight
 * ≤ 1e-14 are ignored; the answer is the first breakpoint, in ascending order, whose cumulative
 * weight reaches half the total of the surviving weights; no survivor gives 0. O(p log p).
 * src/ never imports this file.
 */
export function weightedMedianSort(t: ArrayLike<number>, w: ArrayLike<number>, p: number = t.length): number {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < p; i++) if (w[i]! > 1e-14) pairs.push([t[i]!, w[i]!]);
  if (pairs.length === 0) return 0;
  pairs.sort((a, b) => a[0] - b[0]);
  const total = pairs.reduce((s, [, wi]) => s + wi, 0);
  let cum = 0;
  for (const [ti, wi] of pairs) {
    cum += wi;
    if (cum >= 0.5 * total) return ti;
  }
  return pairs[pairs.length - 1]![0];
}

/** φ(x) = Σ w_i |x − t_i| over the pairs with weight > 1e-14. */
export function weightedAbsDeviation(t: ArrayLike<number>, w: ArrayLike<number>, x: number, p: number = t.length): number {
  let s = 0;
  for (let i = 0; i < p; i++) if (w[i]! > 1e-14) s += w[i]! * Math.abs(x - t[i]!);
  return s;
}
