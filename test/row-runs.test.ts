/**
 * Rows moved as runs (kernel/row-runs.ts) give the bytes of the per-row loops they replace, for rows that are
 * all of 0..m−1 (one run: the dense path), scattered rows, single rows and none; with −0 values and rows absent
 * (an absent row adds nothing: a −0 already there stays −0). The same through makeStatsSum and mergePassStats
 * (cluster/stats-codec.ts, model/l2/pass-stats.ts) against a sum written out in the test, and a sum encoded in
 * place against the encoding of copies of its arrays.
 */
import { describe, expect, it } from 'vitest';
import { decodeStats, encodeStats, makeStatsSum } from '../src/cluster/stats-codec.js';
import { makeRandom } from '../src/kernel/random.js';
import { addRows, gatherRows, scatterRows } from '../src/kernel/row-runs.js';
import { mergePassStats, type PassStats } from '../src/model/l2/pass-stats.js';

const bytes = (a: Float64Array | Int32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const m = 23, k = 3;
const random = makeRandom(7);

/** Values with −0, +0 and ordinary numbers. */
const values = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => [-0, 0, random.uniform() - 0.5, -1e-300][i % 7 === 0 ? 0 : i % 5 === 0 ? 1 : i % 11 === 0 ? 3 : 2]!);

const rowSets: Record<string, number[]> = {
  dense: Array.from({ length: m }, (_, i) => i),
  'dense but the first and last': Array.from({ length: m - 2 }, (_, i) => i + 1),
  'one missing': Array.from({ length: m }, (_, i) => i).filter((i) => i !== 9),
  scattered: [0, 2, 3, 4, 8, 13, 14, 22],
  single: [5],
  none: [],
  'out of order, a row twice': [5, 6, 2, 3, 3, 4, 10],
};

describe('kernel/row-runs.ts', () => {
  for (const [name, list] of Object.entries(rowSets)) {
    it(`${name}: gather, scatter and add give the per-row loops' bytes`, () => {
      const rows = Int32Array.from(list), src = values(rows.length * k);
      const start = values(m * k);
      // the per-row loops (the code the helpers replaced)
      const addRef = start.slice(), scatterRef = start.slice(), touchedRef = new Int32Array(m);
      for (let q = 0; q < rows.length; q++) {
        touchedRef[rows[q]!] = 1;
        for (let a = 0; a < k; a++) {
          addRef[rows[q]! * k + a] = addRef[rows[q]! * k + a]! + src[q * k + a]!;
          scatterRef[rows[q]! * k + a] = src[q * k + a]!;
        }
      }
      const added = start.slice(), scattered = start.slice(), touchedAdd = new Int32Array(m), touchedScatter = new Int32Array(m);
      addRows(added, touchedAdd, rows, src, k);
      scatterRows(scattered, touchedScatter, rows, src, k);
      expect(bytes(added).equals(bytes(addRef))).toBe(true);
      expect(bytes(scattered).equals(bytes(scatterRef))).toBe(true);
      expect([...touchedAdd]).toEqual([...touchedRef]);
      expect([...touchedScatter]).toEqual([...touchedRef]);
      // gather: the rows marked with a value (others marked with other values), ascending, with their bytes
      const mark = Int32Array.from({ length: m }, (_, i) => (list.includes(i) ? 4 : i % 3 === 0 ? -1 : 3));
      const got = gatherRows(start, mark, 4, k), marked = [...new Set(list)].sort((a, b) => a - b);
      expect([...got.rows]).toEqual(marked);
      const ref = new Float64Array(marked.length * k);
      marked.forEach((i, q) => { for (let a = 0; a < k; a++) ref[q * k + a] = start[i * k + a]!; });
      expect(bytes(got.B).equals(bytes(ref))).toBe(true);
      // into buffers used before (stale values): views of them, the same rows and bytes
      const into = { rows: Int32Array.from({ length: m }, (_, i) => 1000 + i), B: values(m * k) };
      const reused = gatherRows(start, mark, 4, k, into);
      expect(reused.rows.buffer).toBe(into.rows.buffer);
      expect(reused.B.buffer).toBe(into.B.buffer);
      expect([...reused.rows]).toEqual(marked);
      expect(bytes(reused.B).equals(bytes(ref))).toBe(true);
    });
  }
});

describe('makeStatsSum and mergePassStats with dense and sparse units', () => {
  it('give the bytes of the sum written out, a row absent from a unit adding nothing', () => {
    const sets = [rowSets.dense!, rowSets.scattered!, rowSets['one missing']!, rowSets.none!, rowSets.dense!, rowSets.single!];
    const units: PassStats[] = sets.map((list, u) => ({
      m, k, ranges: [{
        first: u, end: u + 1, samples: (u + 1) * 10, nnz: 5, normA2: random.uniform(), S: values(k * k), hSum: values(k),
        rows: Int32Array.from(list), B: values(list.length * k),
      }],
    }));
    // written out: B from +0, each unit adding its present rows in unit order
    const B = new Float64Array(m * k), touched = new Set<number>();
    for (const u of units) {
      const r = u.ranges[0]!;
      r.rows.forEach((i, q) => { touched.add(i); for (let a = 0; a < k; a++) B[i * k + a] = B[i * k + a]! + r.B[q * k + a]!; });
    }
    const rows = [...touched].sort((a, b) => a - b);
    const compact = new Float64Array(rows.length * k);
    rows.forEach((i, q) => compact.set(B.subarray(i * k, (i + 1) * k), q * k));
    const check = (s: PassStats): void => {
      expect([...s.ranges[0]!.rows]).toEqual(rows);
      expect(bytes(s.ranges[0]!.B).equals(bytes(compact))).toBe(true);
    };
    const sum = makeStatsSum(m, k, units.length);
    for (const u of units) sum.add(u);
    check(sum.result());
    check(units.reduce(mergePassStats));
    // a result of every row is encoded in place: the bytes of the encoding of copies of its arrays
    const whole = sum.result(false), r = whole.ranges[0]!;
    const copied = { m, k, ranges: [{ ...r, S: r.S.slice(), hSum: r.hSum.slice(), B: r.B.slice(), rows: r.rows.slice() }] };
    expect(r.rows.length).toBe(m);
    const inPlace = encodeStats(whole);
    expect(inPlace.buffer).toBe(r.B.buffer);
    expect(Buffer.from(inPlace).equals(Buffer.from(encodeStats(copied)))).toBe(true);
    // through prefixes, the first ones sparse (not every row yet) then dense
    for (const cut of [1, 2, 3, 5]) {
      const head = makeStatsSum(m, k, units.length);
      for (let u = 0; u < cut; u++) head.add(units[u]!);
      const tail = makeStatsSum(m, k, units.length, decodeStats(encodeStats(head.result(false)), 'prefix'));
      for (let u = cut; u < units.length; u++) tail.add(units[u]!);
      check(tail.result());
    }
    // a seed holding −0 (unit 0 as it is, dense): copied, not added to +0, so rows later units skip keep −0
    const fromSeed = B.slice();
    fromSeed.set(units[0]!.ranges[0]!.B);
    for (const u of units.slice(1)) {
      const r = u.ranges[0]!;
      r.rows.forEach((i, q) => { for (let a = 0; a < k; a++) fromSeed[i * k + a] = fromSeed[i * k + a]! + r.B[q * k + a]!; });
    }
    expect(fromSeed.some((v) => Object.is(v, -0))).toBe(true);
    const seeded = makeStatsSum(m, k, units.length, units[0]);
    for (const u of units.slice(1)) seeded.add(u);
    expect(bytes(seeded.result().ranges[0]!.B).equals(bytes(fromSeed))).toBe(true);
  });
});
