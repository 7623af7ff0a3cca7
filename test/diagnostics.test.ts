// Diagnostics: small hand-computed cases and properties (self-cosine, Hungarian = brute force,
// a permuted copy is matched back exactly, dense = sparse losses, planted structure recovered).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assignMinCost, assignmentCost, columnSparsity, cosineSimilarity, evaluateModel, factorCosine, factorSparsity,
  kmeans, kmeansSimilarity, matchModels, meanFactorCosine, permuteFactors, rankOne, rankOneSimilarity,
  relativeL1Objective, relativeLoss, solveH, sparsity, summarizeSweep, sweepRows, type FactorModel,
} from '../src/diagnostics/index.js';
import { makeRandom } from '../src/kernel/random.js';
import { fromDense, type CscMatrix } from '../src/source/from-csc.js';
import { fitModel } from '../src/pipeline/fit.js';

function randomModel(m: number, k: number, seed: number, zeroFraction = 0.3): FactorModel {
  const rnd = makeRandom(seed);
  const W = Float64Array.from({ length: m * k }, () => (rnd.uniform() < zeroFraction ? 0 : rnd.uniform()));
  return { rank: k, features: m, W, d: Float64Array.from({ length: k }, (_, a) => k - a) };
}

/** Dense m×n row-major → CSC. */
function csc(dense: number[][]): CscMatrix {
  const m = dense.length, n = dense[0]!.length;
  const colPtr = new Int32Array(n + 1), rows: number[] = [], vals: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) if (dense[i]![j] !== 0) { rows.push(i); vals.push(dense[i]![j]!); }
    colPtr[j + 1] = rows.length;
  }
  return { m, n, colPtr, rowIdx: Int32Array.from(rows), values: Float64Array.from(vals) };
}

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

describe('sparsity', () => {
  it('counts exact zeros overall and per factor', () => {
    expect(sparsity([0, 1, 0, 2])).toBe(0.5);
    expect(sparsity([])).toBe(0);
    // W = [[0, 1], [0, 0], [3, 0]]: factor 0 has 2 zeros of 3, factor 1 has 2 of 3
    const W = Float64Array.from([0, 1, 0, 0, 3, 0]);
    expect(Array.from(columnSparsity(W, 3, 2))).toEqual([2 / 3, 2 / 3]);
    const s = factorSparsity({ rank: 2, features: 3, W, d: new Float64Array(2), H: Float64Array.from([0, 1, 1, 1]) });
    expect(s.W).toBeCloseTo(4 / 6, 15);
    expect(s.H).toBe(0.25);
    expect(s.deadFactors).toBe(0);
    expect(factorSparsity({ rank: 2, features: 2, W: Float64Array.from([1, 0, 2, 0]), d: new Float64Array(2) }).deadFactors).toBe(1);
  });
});

describe('cosine', () => {
  it('matches a hand-computed case and gives 0 for a zero factor', () => {
    // columns (1, 1, 0), (0, 1, 0), (0, 0, 0)
    const W = Float64Array.from([1, 0, 0, 1, 1, 0, 0, 0, 0]);
    const C = cosineSimilarity(W, 3, W, 3, 3);
    expect(C[1]).toBeCloseTo(Math.SQRT1_2, 15);
    expect(C[3]).toBeCloseTo(Math.SQRT1_2, 15);
    expect([C[0], C[4], C[8], C[2], C[6]]).toEqual([1, 1, 0, 0, 0]);
    const model = { rank: 3, features: 3, W, d: new Float64Array(3) };
    expect(meanFactorCosine(model)).toBeCloseTo((2 * Math.SQRT1_2) / 6, 15);
    expect(meanFactorCosine(model, { includeDiagonal: true })).toBeCloseTo((2 + 2 * Math.SQRT1_2) / 9, 15);
  });

  it('a model against itself has cosine 1 on the diagonal, symmetric entries in [0, 1]', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 8 }), fc.integer(), (m, k, seed) => {
      const model = randomModel(m, k, seed, 0.2);
      const C = factorCosine(model);
      for (let a = 0; a < k; a++) {
        const live = Array.from({ length: m }, (_, i) => model.W[i * k + a]!).some((v) => v > 0);
        expect(C[a * k + a]).toBe(live ? 1 : 0);
        for (let b = 0; b < k; b++) {
          expect(C[a * k + b]).toBeCloseTo(C[b * k + a]!, 14);
          expect(C[a * k + b]!).toBeGreaterThanOrEqual(0);
          expect(C[a * k + b]!).toBeLessThanOrEqual(1 + 1e-12);
        }
      }
    }));
  });
});

describe('Hungarian assignment', () => {
  it('finds the optimal assignment of a hand-checked 3×3 case', () => {
    const cost = [4, 1, 3, 2, 0, 5, 3, 2, 2];
    const assignment = assignMinCost(cost, 3, 3);
    expect(Array.from(assignment)).toEqual([1, 0, 2]);
    expect(assignmentCost(cost, 3, assignment)).toBe(5);
  });

  it('matches brute force over all permutations for n ≤ 6', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer(), (n, seed) => {
      const rnd = makeRandom(seed);
      const cost = Float64Array.from({ length: n * n }, () => Math.round(rnd.uniform() * 20) / 4);
      let best = Infinity;
      for (const p of permutations(n)) best = Math.min(best, p.reduce((s, c, r) => s + cost[r * n + c]!, 0));
      const assignment = assignMinCost(cost, n, n);
      expect(new Set(assignment).size).toBe(n);
      expect(assignmentCost(cost, n, assignment)).toBeCloseTo(best, 12);
    }), { numRuns: 200 });
  });

  it('handles rectangular costs: more rows than columns leaves rows unassigned', () => {
    const assignment = assignMinCost([5, 1, 0, 9, 2, 2], 3, 2);
    expect(Array.from(assignment).filter((c) => c >= 0).length).toBe(2);
    expect(assignmentCost([5, 1, 0, 9, 2, 2], 2, assignment)).toBe(1);
  });
});

describe('matchModels', () => {
  it('aligning a permuted copy recovers the permutation with robustness 1', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 8 }), fc.integer(), (k, seed) => {
      const model = randomModel(30, k, seed, 0.3);
      const rnd = makeRandom(seed ^ 0x5bd1e995);
      const perm = Int32Array.from({ length: k }, (_, a) => a);
      for (let a = k - 1; a > 0; a--) { const b = Math.floor(rnd.uniform() * (a + 1)); [perm[a], perm[b]] = [perm[b]!, perm[a]!]; }
      const shuffled = permuteFactors(model, perm);
      const match = matchModels(model, shuffled);
      expect(match.robustness).toBeCloseTo(1, 12);
      for (let a = 0; a < k; a++) expect(perm[match.permutation[a]!]).toBe(a);
      expect(Array.from(match.aligned.W)).toEqual(Array.from(model.W));
      expect(Array.from(match.aligned.d)).toEqual(Array.from(model.d));
    }));
  });

  it('permutes H rows with the factors and scores unlike models below 1', () => {
    const a = { rank: 2, features: 2, W: Float64Array.from([1, 0, 0, 1]), d: Float64Array.from([1, 2]), H: Float64Array.from([1, 2, 3, 4, 5, 6]) };
    const b = permuteFactors(a, Int32Array.from([1, 0]));
    expect(Array.from(b.H!)).toEqual([4, 5, 6, 1, 2, 3]);
    const c = { rank: 2, features: 2, W: Float64Array.from([1, 1, 0, 1]), d: Float64Array.from([1, 1]) };
    const match = matchModels(a, c); // c's factors (1,0) and (1,1): best is (1,0)↔(1,0), (0,1)↔(1,1)
    expect(match.robustness).toBeCloseTo((1 + Math.SQRT1_2) / 2, 12);
    expect(() => matchModels(a, randomModel(3, 2, 1))).toThrow(/features/);
  });
});

describe('kmeans', () => {
  it('separates two planted clusters, deterministically for a seed', () => {
    const dense = [[5, 6, 5, 0, 0, 1], [5, 5, 6, 0, 1, 0], [0, 0, 1, 7, 7, 8]];
    const result = kmeans(csc(dense), 2, { seed: 3 });
    const [a0, , , a3] = result.assignment;
    expect(Array.from(result.assignment)).toEqual([a0, a0, a0, a3, a3, a3]);
    expect(a0).not.toBe(a3);
    expect(result.centers[0 * 2 + a0!]).toBeCloseTo(16 / 3, 12); // feature 0 mean over samples 0..2
    expect(Array.from(kmeans(csc(dense), 2, { seed: 3 }).centers)).toEqual(Array.from(result.centers));
    // a model whose factors are the centroids is maximally similar to the clustering
    const model = { rank: 2, features: 3, W: result.centers, d: Float64Array.from([1, 1]) };
    expect(kmeansSimilarity(model, result.centers, 2)).toBeCloseTo(1, 12);
  });
});

describe('rankOne', () => {
  it('recovers u, v and σ of an exact rank-1 matrix', () => {
    const u = [1, 2, 3], v = [2, 0, 1, 1];
    const dense = u.map((ui) => v.map((vj) => ui * vj));
    const r = rankOne(csc(dense));
    const norm = (x: number[]): number => Math.hypot(...x);
    expect(r.sigma).toBeCloseTo(norm(u) * norm(v), 10);
    r.u.forEach((x, i) => expect(x).toBeCloseTo(u[i]! / 6, 10));
    const model = { rank: 2, features: 3, W: Float64Array.from([1, 0, 2, 0, 3, 1]), d: Float64Array.from([1, 1]) };
    expect(rankOneSimilarity(model, r.u)).toBeCloseTo((1 + 3 / Math.sqrt(14)) / 2, 10);
  });
});

describe('losses and solveH', () => {
  const W = Float64Array.from([0.5, 0, 0.5, 0.25, 0, 0.75]); // 3×2, unit column sums
  const d = Float64Array.from([4, 2]);
  const H = Float64Array.from([1, 0, 2, 0, 1, 1]); // 2×3
  const exact = [0, 1, 2].map((i) => [0, 1, 2].map((j) => W[i * 2]! * d[0]! * H[j]! + W[i * 2 + 1]! * d[1]! * H[3 + j]!));

  it('relativeLoss is 0 for an exact factorization and matches the dense formula otherwise', () => {
    expect(relativeLoss(csc(exact), { W, d, H, rank: 2 })).toBeCloseTo(0, 14);
    const noisy = exact.map((row, i) => row.map((x, j) => (i === j ? x + 1 : x)));
    let num = 0, den = 0;
    noisy.forEach((row, i) => row.forEach((x, j) => { num += (x - exact[i]![j]!) ** 2; den += x * x; }));
    expect(relativeLoss(csc(noisy), { W, d, H, rank: 2 })).toBeCloseTo(num / den, 13);
  });

  it('relativeL1Objective matches the dense weighted L1 sum', () => {
    const A = [[3, 0, 1], [0, 0, 2], [1, 4, 0]];
    for (const lambda of [0, 0.3, 1]) {
      let f = 0, sum = 0;
      A.forEach((row, i) => row.forEach((a, j) => { f += a > 0 ? Math.abs(a - exact[i]![j]!) : lambda * exact[i]![j]!; sum += a; }));
      expect(relativeL1Objective(csc(A), { W, d, H, rank: 2 }, lambda)).toBeCloseTo(f / sum, 13);
    }
  });

  it('solveH recovers the codes of an exactly factorizable matrix', () => {
    const model = { rank: 2, features: 3, W, d };
    const solved = solveH(csc(exact), model);
    expect(relativeLoss(csc(exact), { W, d, H: solved, rank: 2 })).toBeLessThan(1e-20);
    solved.forEach((x, p) => expect(x).toBeCloseTo(H[p]!, 10));
    const l1 = solveH(csc(exact), { ...model, loss: 'l1' });
    expect(relativeL1Objective(csc(exact), { W, d, H: l1, rank: 2 })).toBeLessThan(1e-10);
  });
});

describe('evaluateModel and the sweep', () => {
  it('evaluates a fitted model on its data', async () => {
    const rnd = makeRandom(7);
    const data = Float64Array.from({ length: 20 * 30 }, () => (rnd.uniform() < 0.5 ? rnd.uniform() : 0));
    const source = fromDense(data, 20, 30);
    const model = await fitModel(source, { rank: 3, seed: 1, keepH: true });
    const e = evaluateModel(model, source.matrix);
    expect(e.relativeLoss).toBeCloseTo(model.relativeLoss, 8);
    expect(e.sparsityW).toBe(sparsity(model.W));
    expect(e.cosine.length).toBe(3);
    expect(e.kmeansSimilarity).toBeGreaterThan(0);
    expect(e.rankOneSimilarity).toBeGreaterThan(0);
    expect(evaluateModel(model).relativeLoss).toBeUndefined();
  });

  it('scores robustness against the unpenalised model of the same seed and agreement across seeds', () => {
    const base = randomModel(12, 3, 1), other = randomModel(12, 3, 2);
    const rows = sweepRows([
      { label: 'a', model: base, seed: 1 }, { label: 'b', model: permuteFactors(base, Int32Array.from([2, 0, 1])), l1: 0.1, seed: 1 },
      { label: 'c', model: other, seed: 2 }, { label: 'd', model: base, l1: 0.1, seed: 2 },
    ]);
    expect(rows.map((r) => r.penalty)).toEqual(['none', 'L1', 'none', 'L1']);
    expect(rows[1]!.robustness).toBeCloseTo(1, 12);
    expect(rows[1]!.replicateAgreement).toBeCloseTo(1, 12);
    expect(rows[3]!.robustness).toBeLessThan(1);
    const summary = summarizeSweep(rows);
    expect(summary.map((s) => [s.penalty, s.replicates])).toEqual([['none', 2], ['L1', 2]]);
    expect(summary[1]!.sparsitySd).toBe(0);
  });
});
