/**
 * Lower weighted median by selection.
 *
 * Math: given breakpoints t_1..t_p with weights w_i > 0, return the smallest t* such that
 * Σ_{t_i ≤ t*} w_i ≥ need; with need = ½·Σ w_i this is the lower weighted median, the smallest
 * minimiser of φ(x) = Σ w_i |x − t_i|.
 *
 * Storage: (breakpoint, weight) pairs in two caller-owned Float64Arrays at the same positions,
 * range [lo, end). The pairs are reordered in place (partitioned), never copied.
 *
 * Cost: expected O(p) — quickselect with a median-of-three pivot and a branch-free two-way
 * partition that keeps only the side holding the answer, the needed weight reduced by what is
 * dropped on the left (ties with a minimal pivot are split off in one more pass, so every round
 * shrinks the range); ranges of ≤ 16 pairs finish by insertion sort and a scan. Worst case O(p²)
 * on adversarial orders, as for any deterministic quickselect.
 *
 * Allocates nothing.
 *
 * Reference: Hoare, "Algorithm 65: FIND", CACM 4 (1961), carried over to weights as in Cormen et al.,
 * Introduction to Algorithms, problem 9-2 (weighted median); the sort-based reference that the tests
 * compare against is test/reference/weighted-median-sort.ts.
 */

/** Weights at or below this are ignored (arXiv 2603.29715, docs/architecture.md, Weighted L1). */
export const WEIGHT_FLOOR = 1e-14;

const SMALL = 16;

/**
 * Smallest t in [lo, end) with Σ_{t_i ≤ t} w_i ≥ need (weights assumed > 0). If need exceeds the
 * total (rounding), the largest breakpoint. Requires end > lo. Reorders the pairs.
 */
export function weightedSelect(t: Float64Array, w: Float64Array, lo: number, end: number, need: number): number {
  let hi = end - 1;
  while (hi - lo >= SMALL) {
    // median of three as the pivot value
    const a = t[lo]!, b = t[(lo + hi) >> 1]!, c = t[hi]!;
    const x = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    // branch-free Lomuto partition, [lo, j) < x ≤ [j, hi]: the pair is swapped unconditionally and
    // j moves by the 0/1 flag, so random breakpoints cost no mispredicted branches
    let j = lo, wl = 0;
    for (let i = lo; i <= hi; i++) {
      const ti = t[i]!, wi = w[i]!;
      const s = +(ti < x);
      t[i] = t[j]!; w[i] = w[j]!; t[j] = ti; w[j] = wi;
      j += s; wl += wi * s;
    }
    if (j > lo) {
      if (wl >= need) hi = j - 1;
      else { need -= wl; lo = j; }
      continue;
    }
    // x is the range's minimum: split off its ties, [lo, j) = x < [j, hi]
    let we = 0;
    for (let i = lo; i <= hi; i++) {
      const ti = t[i]!, wi = w[i]!;
      const s = +(ti <= x);
      t[i] = t[j]!; w[i] = w[j]!; t[j] = ti; w[j] = wi;
      j += s; we += wi * s;
    }
    if (we >= need || j > hi) return x;
    need -= we;
    lo = j;
  }
  // insertion sort of the small range, then scan the cumulative weight
  for (let i = lo + 1; i <= hi; i++) {
    const ti = t[i]!, wi = w[i]!;
    let j = i - 1;
    while (j >= lo && t[j]! > ti) { t[j + 1] = t[j]!; w[j + 1] = w[j]!; j--; }
    t[j + 1] = ti; w[j + 1] = wi;
  }
  let cum = 0;
  for (let i = lo; i < hi; i++) {
    cum += w[i]!;
    if (cum >= need) return t[i]!;
  }
  return t[hi]!;
}

/**
 * Lower weighted median of the first p pairs: the first breakpoint in sorted order whose
 * cumulative weight reaches half the total. Pairs with weight ≤ WEIGHT_FLOOR are dropped first
 * (the survivors are compacted to the front, order not kept); no survivor gives 0.
 */
export function lowerWeightedMedian(t: Float64Array, w: Float64Array, p: number): number {
  let q = 0, total = 0;
  for (let i = 0; i < p; i++) {
    const wi = w[i]!;
    if (wi > WEIGHT_FLOOR) {
      t[q] = t[i]!; w[q] = wi; total += wi; q++;
    }
  }
  if (q === 0) return 0;
  return weightedSelect(t, w, 0, q, 0.5 * total);
}
