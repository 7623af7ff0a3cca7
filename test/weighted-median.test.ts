import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lowerWeightedMedian, weightedSelect } from '../src/kernel/weighted-median.js';
import { weightedAbsDeviation, weightedMedianSort } from './reference/weighted-median-sort.js';

/**
 * Breakpoints from a small integer set (many ties) or a fine grid; weights exact in binary, so
 * every partial sum is exact and "reaches half the total" has one answer: quarters, zeros, and
 * tiny weights on both sides of the 1e-14 floor (2⁻⁴⁷ ≈ 7e-15 and 1e-14 are ignored, 2⁻⁴⁴ ≈ 6e-14 counts).
 */
const pair = fc.tuple(
  fc.oneof(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -1e6, max: 1e6 }).map((v) => v / 1024)),
  fc.oneof(
    fc.integer({ min: 1, max: 8 }).map((q) => q / 4),
    fc.constantFrom(0, 2 ** -47, 1e-14, 2 ** -44),
  ),
);
const pairs = fc.array(pair, { minLength: 0, maxLength: 120 });

function split(ps: ReadonlyArray<readonly [number, number]>): [Float64Array, Float64Array] {
  return [Float64Array.from(ps, (q) => q[0]), Float64Array.from(ps, (q) => q[1])];
}

describe('lowerWeightedMedian', () => {
  it('equals the sort-based lower weighted median on inputs with ties, zero and tiny weights', () => {
    fc.assert(fc.property(pairs, (ps) => {
      const [t, w] = split(ps);
      const expected = weightedMedianSort(t, w);
      expect(lowerWeightedMedian(t, w, t.length)).toBe(expected);
    }), { numRuns: 2000 });
  });

  it('equals the sort-based median on long sorted, reversed and constant inputs', () => {
    for (const p of [17, 100, 1000]) {
      const up = Float64Array.from({ length: p }, (_, i) => i);
      const ones = () => new Float64Array(p).fill(1);
      const orders = [up, up.slice().reverse(), new Float64Array(p).fill(3), up.map((v) => v % 7)];
      for (const t of orders) {
        const expected = weightedMedianSort(t, ones());
        expect(lowerWeightedMedian(t.slice(), ones(), p)).toBe(expected);
      }
    }
  });

  it('is a minimiser of Σ w|x − t| no worse than any breakpoint, and the smallest one', () => {
    fc.assert(fc.property(pairs, (ps) => {
      const [t, w] = split(ps);
      const t0 = t.slice(), w0 = w.slice();
      const med = lowerWeightedMedian(t, w, t.length);
      const live = t0.filter((_, i) => w0[i]! > 1e-14);
      fc.pre(live.length > 0);
      const best = weightedAbsDeviation(t0, w0, med);
      const scale = 1e-12 * (1 + Math.abs(best));
      for (const x of live) expect(best).toBeLessThanOrEqual(weightedAbsDeviation(t0, w0, x) + scale);
      // nothing below the median is a minimiser: just right of any smaller point, φ still falls
      // (right slope W(≤x) − W(>x) < 0; the sums are exact for these weights)
      let below = 0, total = 0;
      for (let i = 0; i < t0.length; i++) {
        if (w0[i]! <= 1e-14) continue;
        total += w0[i]!;
        if (t0[i]! < med) below += w0[i]!;
      }
      expect(below - (total - below)).toBeLessThan(0);
    }), { numRuns: 1000 });
  });

  it('gives 0 when no weight survives the 1e-14 floor', () => {
    const t = Float64Array.of(3, -2, 7);
    expect(lowerWeightedMedian(t, Float64Array.of(0, 1e-14, 5e-15), 3)).toBe(0);
    expect(lowerWeightedMedian(new Float64Array(0), new Float64Array(0), 0)).toBe(0);
  });

  it('reaches the same optimum as the sort-based median with arbitrary double weights', () => {
    const anyPairs = fc.array(fc.tuple(
      fc.double({ min: -10, max: 10, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true }),
    ), { minLength: 1, maxLength: 200 });
    fc.assert(fc.property(anyPairs, (ps) => {
      const [t, w] = split(ps);
      const expected = weightedMedianSort(t, w);
      const got = lowerWeightedMedian(t.slice(), w.slice(), t.length);
      const fe = weightedAbsDeviation(t, w, expected), fg = weightedAbsDeviation(t, w, got);
      expect(Math.abs(fg - fe)).toBeLessThanOrEqual(1e-12 * (1 + fe));
    }), { numRuns: 1000 });
  });
});

describe('weightedSelect', () => {
  it('returns the smallest breakpoint whose cumulative weight reaches any given need', () => {
    const positive = fc.array(fc.tuple(
      fc.integer({ min: -20, max: 20 }), fc.integer({ min: 1, max: 6 }),
    ), { minLength: 1, maxLength: 150 });
    fc.assert(fc.property(positive, fc.double({ min: 0, max: 1, noNaN: true }), (ps, u) => {
      const [t, w] = split(ps);
      const total = w.reduce((s, v) => s + v, 0);
      const need = u * total;
      const sorted = ps.slice().sort((a, b) => a[0] - b[0]);
      let cum = 0, expected = sorted[sorted.length - 1]![0];
      for (const [ti, wi] of sorted) { cum += wi; if (cum >= need) { expected = ti; break; } }
      expect(weightedSelect(t, w, 0, t.length, need)).toBe(expected);
    }), { numRuns: 2000 });
  });

  it('works on a sub-range and leaves the pairs outside it alone', () => {
    const t = Float64Array.of(100, 5, 1, 4, 2, 3, -100);
    const w = Float64Array.of(9, 1, 1, 1, 1, 1, 9);
    expect(weightedSelect(t, w, 1, 6, 2.5)).toBe(3);
    expect(t[0]).toBe(100);
    expect(t[6]).toBe(-100);
  });
});
