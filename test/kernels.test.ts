import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accumulateCross, accumulateOuter } from '../src/kernel/accumulate-stats.js';
import { rankKernels } from '../src/kernel/rank-kernels.js';
import { addDiagonal, gram } from '../src/kernel/gram.js';
import { gramLoss } from '../src/kernel/gram-loss.js';
import { pearsonTol } from '../src/kernel/pearson.js';
import { makeRandom } from '../src/kernel/random.js';
import { scaleColumns } from '../src/kernel/scale.js';
import { sparseRhs } from '../src/kernel/sparse-rhs.js';
import { symmetrizeUpper } from '../src/kernel/gram.js';

const sparseColumn = fc.record({
  m: fc.integer({ min: 1, max: 12 }),
  k: fc.integer({ min: 1, max: 6 }),
  seed: fc.integer(),
});

function randomCase(m: number, k: number, seed: number) {
  const rnd = makeRandom(seed);
  const W = Float64Array.from({ length: m * k }, () => rnd.uniform());
  const dense = Float64Array.from({ length: m }, () => (rnd.uniform() < 0.4 ? rnd.uniform() * 5 : 0));
  const rows: number[] = [], vals: number[] = [];
  dense.forEach((v, i) => { if (v !== 0) { rows.push(i); vals.push(v); } });
  return { W, dense, rowIdx: Int32Array.from(rows), values: Float64Array.from(vals), rnd };
}

describe('kernels', () => {
  it('sparseRhs equals the dense product Wᵀa − shift', () => {
    fc.assert(fc.property(sparseColumn, ({ m, k, seed }) => {
      const { W, dense, rowIdx, values } = randomCase(m, k, seed);
      const b = new Float64Array(k + 2);
      sparseRhs(W, k, rowIdx, values, 0, rowIdx.length, 0.25, b, 2);
      for (let a = 0; a < k; a++) {
        let s = -0.25;
        for (let i = 0; i < m; i++) s += W[i * k + a]! * dense[i]!;
        expect(b[2 + a]!).toBeCloseTo(s, 12);
      }
    }));
  });

  it('accumulateCross adds a hᵀ to AHᵀ and returns Σa²; accumulateOuter adds h hᵀ to HHᵀ (upper triangle)', () => {
    fc.assert(fc.property(sparseColumn, ({ m, k, seed }) => {
      const { dense, rowIdx, values, rnd } = randomCase(m, k, seed);
      const h = Float64Array.from({ length: k }, () => (rnd.uniform() < 0.3 ? 0 : rnd.uniform()));
      const B = new Float64Array(m * k), S = new Float64Array(k * k), hSum = new Float64Array(k);
      const sq = accumulateCross(h, 0, k, rowIdx, values, 0, rowIdx.length, B);
      accumulateOuter(h, 0, k, S, hSum);
      symmetrizeUpper(S, k);
      expect(sq).toBeCloseTo(dense.reduce((s, v) => s + v * v, 0), 10);
      for (let i = 0; i < m; i++) for (let a = 0; a < k; a++) expect(B[i * k + a]).toBeCloseTo(dense[i]! * h[a]!, 12);
      for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) expect(S[a * k + c]).toBeCloseTo(h[a]! * h[c]!, 12);
      expect(Array.from(hSum)).toEqual(Array.from(h));
    }));
  });

  it('the rank-specialised kernels give the same bits as the generic ones, for k = 1..33', () => {
    for (let k = 1; k <= 33; k += 4) {
      const { W, rowIdx, values, rnd } = randomCase(40, k, k);
      const h = Float64Array.from({ length: k }, () => rnd.uniform());
      const { rhs, stats } = rankKernels(k);
      const b1 = new Float64Array(k), b2 = new Float64Array(k);
      sparseRhs(W, k, rowIdx, values, 0, rowIdx.length, 0.1, b1, 0);
      rhs(W, rowIdx, values, 0, rowIdx.length, 0.1, b2, 0);
      expect(Buffer.from(b2.buffer).equals(Buffer.from(b1.buffer))).toBe(true);
      const B1 = Float64Array.from(W), B2 = Float64Array.from(W);
      expect(stats(h, 0, rowIdx, values, 0, rowIdx.length, B2)).toBe(accumulateCross(h, 0, k, rowIdx, values, 0, rowIdx.length, B1));
      expect(Buffer.from(B2.buffer).equals(Buffer.from(B1.buffer))).toBe(true);
    }
  });

  it('the row-range kernel adds exactly the rows in range, the same bits as the full fold', () => {
    for (const k of [3, 10, 33]) {
      const rnd = makeRandom(k);
      const m = 30, n = 12;
      const colPtr = new Int32Array(n + 1), rows: number[] = [], vals: number[] = [];
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < m; i++) if (rnd.uniform() < 0.3) { rows.push(i); vals.push(rnd.uniform()); }
        colPtr[j + 1] = rows.length;
      }
      const rowIdx = Int32Array.from(rows), values = Float64Array.from(vals);
      const H = Float64Array.from({ length: n * k }, () => rnd.uniform());
      const full = new Float64Array(m * k);
      for (let j = 0; j < n; j++) accumulateCross(H, j * k, k, rowIdx, values, colPtr[j]!, colPtr[j + 1]!, full);
      const split = new Float64Array(m * k);
      const { rows: kernel } = rankKernels(k);
      kernel(k, colPtr, rowIdx, values, n, 0, H, split, 0, 11);
      kernel(k, colPtr, rowIdx, values, n, 0, H, split, 11, m);
      expect(Buffer.from(split.buffer).equals(Buffer.from(full.buffer))).toBe(true);
    }
  });

  it('the unrolled Gram and column-scaling kernels give the same bits as gram and scaleColumns', () => {
    for (const k of [1, 4, 10, 17]) {
      const rnd = makeRandom(k);
      const rows = 57;
      const X = Float64Array.from({ length: rows * k }, () => (rnd.uniform() < 0.3 ? 0 : rnd.uniform()));
      const want = new Float64Array(k * k), got = new Float64Array(k * k);
      gram(X, rows, k, want);
      rankKernels(k).gram(X, rows, got);
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      if (k === 4) for (let r = 0; r < rows; r++) X[r * k + 2] = 0; // a column summing to 0
      const Y = X.slice(), d1 = new Float64Array(k), d2 = new Float64Array(k), inv1 = new Float64Array(k), inv2 = new Float64Array(k);
      scaleColumns(X, rows, k, d1, inv1);
      rankKernels(k).scale(Y, rows, d2, inv2);
      expect([Buffer.from(Y.buffer).equals(Buffer.from(X.buffer)), Buffer.from(d2.buffer).equals(Buffer.from(d1.buffer)), Buffer.from(inv2.buffer).equals(Buffer.from(inv1.buffer))]).toEqual([true, true, true]);
    }
  });

  it('gram and addDiagonal give XᵀX + αI', () => {
    const X = Float64Array.from([1, 2, 3, 4, 5, 6]); // 3×2
    const G = new Float64Array(4);
    gram(X, 3, 2, G);
    addDiagonal(G, 2, 0.5);
    expect(Array.from(G)).toEqual([35.5, 44, 44, 56.5]);
  });

  it('gramLoss equals the dense ‖A − W diag(d) H‖²', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), fc.integer(),
      (m, n, k, seed) => {
        const rnd = makeRandom(seed);
        const A = Float64Array.from({ length: m * n }, () => (rnd.uniform() < 0.5 ? rnd.uniform() : 0));
        const W = Float64Array.from({ length: m * k }, () => rnd.uniform());
        const d = Float64Array.from({ length: k }, () => rnd.uniform() * 3);
        const H = Float64Array.from({ length: k * n }, () => rnd.uniform());
        let dense = 0, normA2 = 0;
        const B = new Float64Array(m * k), S = new Float64Array(k * k), WtW = new Float64Array(k * k);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let p = 0;
          for (let a = 0; a < k; a++) p += W[i * k + a]! * d[a]! * H[a * n + j]!;
          dense += (A[j * m + i]! - p) ** 2;
          normA2 += A[j * m + i]! ** 2;
          for (let a = 0; a < k; a++) B[i * k + a]! += A[j * m + i]! * H[a * n + j]!;
        }
        for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) for (let j = 0; j < n; j++) S[a * k + c]! += H[a * n + j]! * H[c * n + j]!;
        gram(W, m, k, WtW);
        expect(gramLoss(normA2, W, m, k, d, B, S, WtW)).toBeCloseTo(dense, 9);
      }));
  });

  it('scaleColumns makes unit column sums and returns the sums as d; a zero column stays 0', () => {
    const X = Float64Array.from([1, 0, 3, 0]); // 2×2
    const d = new Float64Array(2), inv = new Float64Array(2);
    scaleColumns(X, 2, 2, d, inv);
    expect(Array.from(d)).toEqual([4, 0]);
    expect(Array.from(X)).toEqual([0.25, 0, 0.75, 0]);
  });

  it('pearsonTol is 0 for identical arrays, 0 for a positive affine copy, 2 for a negated copy', () => {
    const x = Float64Array.from([1, 2, 3, 5]);
    expect(pearsonTol(x, x, 4)).toBeCloseTo(0, 15);
    expect(pearsonTol(x, x.map((v) => 2 * v + 1), 4)).toBeCloseTo(0, 14);
    expect(pearsonTol(x, x.map((v) => -v), 4)).toBeCloseTo(2, 14);
    expect(pearsonTol(Float64Array.from([1, 1]), Float64Array.from([1, 1]), 2)).toBe(0);
  });

  it('the seeded generator is deterministic, in [0, 1), and its state round-trips', () => {
    const a = makeRandom(7), b = makeRandom(7), c = makeRandom(8);
    const xs = Array.from({ length: 1000 }, () => a.uniform());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.uniform()));
    expect(xs).not.toEqual(Array.from({ length: 1000 }, () => c.uniform()));
    expect(xs.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});
