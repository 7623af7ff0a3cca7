/**
 * The speckled test set of a masked fit (issue #15), as pure functions of (feature i, sample j, seed) and the
 * column's own data — the same set for any chunking, pass, thread, process or machine.
 *   A nonzero A[i, j] is held out iff entryUniform(i, j, seed) < f (a 32-bit integer hash, murmur3's finaliser).
 *   Zeros of column j are held out along a Bernoulli(r) process over the rows 0..m−1 drawn by geometric skips
 *   from a generator seeded by (j, seed) (forEachHeldOutZero): each row is in it with probability r,
 *   independently, and enumerating it costs O(its length + nnz_j), not O(m). A row of the process that holds a
 *   nonzero is skipped (the nonzero's own hash decides).
 * No allocation; no imports.
 */

/** murmur3's 32-bit finaliser: a bijection of uint32 with full avalanche. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const TWO32 = 4294967296;

/** A uniform number in [0, 1) from (i, j, seed): whether the nonzero A[i, j] is held out (< f). */
export function entryUniform(i: number, j: number, seed: number): number {
  const s = mix32((seed | 0) ^ 0x9e3779b9);
  const h = mix32(mix32(s ^ (j >>> 0)) + Math.imul(i | 0, 0x27d4eb2f));
  return h / TWO32;
}

/**
 * Calls visit(i) for each row i of column j (rows < m) in the Bernoulli(rate) process seeded by (j, seed), in
 * ascending order, skipping the rows listed in rowIdx[p0..p1) (ascending: the column's stored entries).
 * Returns the number of rows visited. Cost O(visited + skipped + p1 − p0).
 */
export function forEachHeldOutZero(
  j: number, seed: number, rate: number, m: number, rowIdx: Int32Array, p0: number, p1: number, visit: (i: number) => void,
): number {
  if (!(rate > 0)) return 0;
  let state = mix32(mix32((seed | 0) ^ 0x5bd1e995) ^ (j >>> 0)) || 1;
  const logq = rate >= 1 ? -Infinity : Math.log1p(-rate);
  let i = -1, p = p0, count = 0;
  for (;;) {
    state = (state + 0x6d2b79f5) >>> 0;
    const u = (mix32(state) + 1) / (TWO32 + 1); // (0, 1)
    const gap = logq === -Infinity ? 0 : Math.floor(Math.log(u) / logq);
    i += 1 + gap;
    if (!(i < m)) return count;
    while (p < p1 && rowIdx[p]! < i) p++;
    if (p < p1 && rowIdx[p] === i) continue;
    visit(i);
    count++;
  }
}

/** Whether the nonzero A[i, j] is in the held-out set of `testFraction` and `testSeed` (the fit's own rule). */
export function isHeldOut(i: number, j: number, testSeed: number, testFraction: number): boolean {
  return entryUniform(i, j, testSeed) < testFraction;
}
