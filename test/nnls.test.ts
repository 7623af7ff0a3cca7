import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NNLS_ACTIVE_SET, NNLS_CD, invertDiagonal, nnlsSolve } from '../src/kernel/nnls-solve.js';
import { nnlsCd } from '../src/kernel/nnls-cd.js';
import { makeNnlsWorkspace } from '../src/kernel/nnls-workspace.js';
import { bruteForceNnls, objective } from './reference/brute-nnls.js';

/** A random NNLS problem G = XᵀX + εI (positive definite), b arbitrary sign. */
const problem = fc.integer({ min: 1, max: 6 }).chain((k) => fc.record({
  k: fc.constant(k),
  X: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: (k + 2) * k, maxLength: (k + 2) * k }),
  b: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: k, maxLength: k }),
  warm: fc.array(fc.double({ min: 0, max: 2, noNaN: true }), { minLength: k, maxLength: k }),
}));

function gramOf(X: number[], k: number): Float64Array {
  const rows = X.length / k;
  const G = new Float64Array(k * k);
  for (let r = 0; r < rows; r++) for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) G[a * k + c]! += X[r * k + a]! * X[r * k + c]!;
  for (let a = 0; a < k; a++) G[a * k + a]! += 1e-3;
  return G;
}

function solve(G: Float64Array, b: Float64Array, k: number, start: Float64Array, method = NNLS_ACTIVE_SET): Float64Array {
  const inv = new Float64Array(k);
  invertDiagonal(G, k, inv);
  const x = Float64Array.from(start);
  nnlsSolve(G, inv, k, b, 0, x, 0, makeNnlsWorkspace(k), 100, 1e-8, method);
  return x;
}

describe('nnlsSolve', () => {
  it('matches the brute-force solution for k ≤ 6, from cold and warm starts, with both methods', () => {
    fc.assert(fc.property(problem, ({ k, X, b, warm }) => {
      const G = gramOf(X, k);
      const bb = Float64Array.from(b);
      const expected = bruteForceNnls(G, bb, k);
      for (const [start, method] of [[new Float64Array(k), NNLS_ACTIVE_SET], [Float64Array.from(warm), NNLS_ACTIVE_SET],
        [new Float64Array(k), NNLS_CD], [Float64Array.from(warm), NNLS_CD]] as const) {
        const x = solve(G, bb, k, start, method);
        const fx = objective(G, bb, x, k), fe = objective(G, bb, expected, k);
        expect(Math.abs(fx - fe)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(fe)));
        // (a component of the size of the bound itself — b = 1e-9 on G = 1e-3·I gives 1e-6 plus one rounding — may be
        // left at 0 by the solver's tolerance: the bound carries one part in 10¹² for that rounding)
        for (let a = 0; a < k; a++) expect(Math.abs(x[a]! - expected[a]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(expected[a]!)) * (1 + 1e-12));
      }
    }), { numRuns: 300 });
  });

  it('the property\'s counterexample of 2026-12-07 (G = 1e-3·I, b₀ = 1e-9): within the bounds with both methods, cold and warm', () => {
    const k = 5, G = gramOf(new Array<number>((k + 2) * k).fill(0), k), b = Float64Array.from([1e-9, 0, 0, 0, 0.1264911064067352]);
    const expected = bruteForceNnls(G, b, k);
    for (const method of [NNLS_ACTIVE_SET, NNLS_CD]) {
      for (const start of [new Float64Array(k), Float64Array.from([0.5, 1, 0, 2, 0.1])]) {
        const x = solve(G, b, k, start, method);
        expect(Math.abs(objective(G, b, x, k) - objective(G, b, expected, k))).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(objective(G, b, expected, k))));
        for (let a = 0; a < k; a++) expect(Math.abs(x[a]! - expected[a]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(expected[a]!)) * (1 + 1e-12));
      }
    }
  });

  it('satisfies the KKT conditions: x ≥ 0, gradient ≥ 0, complementary slackness', () => {
    fc.assert(fc.property(problem, ({ k, X, b, warm }) => {
      const G = gramOf(X, k);
      const bb = Float64Array.from(b);
      const x = solve(G, bb, k, Float64Array.from(warm));
      for (let a = 0; a < k; a++) {
        let g = -bb[a]!;
        for (let c = 0; c < k; c++) g += G[a * k + c]! * x[c]!;
        expect(x[a]!).toBeGreaterThanOrEqual(0);
        expect(g).toBeGreaterThanOrEqual(-1e-9);
        expect(Math.abs(x[a]! * g)).toBeLessThan(1e-9);
      }
    }), { numRuns: 300 });
  });

  it('holds a coordinate with a zero Gram diagonal (a dead component) at 0 and solves the rest', () => {
    const k = 3;
    const G = Float64Array.from([2, 0, 0.5, 0, 0, 0, 0.5, 0, 1]);
    const b = Float64Array.from([1, 0.7, 1]);
    const x = solve(G, b, k, new Float64Array(k));
    expect(x[1]).toBe(0);
    const Gs = Float64Array.from([2, 0.5, 0.5, 1]);
    const xs = bruteForceNnls(Gs, Float64Array.from([1, 1]), 2);
    expect(x[0]).toBeCloseTo(xs[0]!, 12);
    expect(x[2]).toBeCloseTo(xs[1]!, 12);
  });

  it('returns 0 when every right-hand side entry is ≤ 0', () => {
    const G = Float64Array.from([1, 0.2, 0.2, 1]);
    expect(Array.from(solve(G, Float64Array.from([-1, 0]), 2, Float64Array.from([3, 3])))).toEqual([0, 0]);
  });
});

describe('nnlsSolve on ill-conditioned problems', () => {
  it('the active-set method is exact where 100 CD sweeps are not enough', () => {
    // Nearly collinear columns: CD converges slowly, the active set does not care.
    const k = 4;
    const X = [1, 1, 1, 0.99, 1, 0.999, 1, 1.001, 0.5, 0.5, 0.501, 0.5, 1, 1, 1, 1.0001];
    const G = gramOf(X, k);
    const b = Float64Array.from([1, 1.2, 0.9, 1.1]);
    const expected = bruteForceNnls(G, b, k);
    const x = solve(G, b, k, new Float64Array(k));
    for (let a = 0; a < k; a++) expect(x[a]!).toBeCloseTo(expected[a]!, 6);
  });
});

describe('nnlsCd', () => {
  it('reaches the exact solution in residual form and stops on the mean relative change', () => {
    fc.assert(fc.property(problem, ({ k, X, b }) => {
      const G = gramOf(X, k);
      const bb = Float64Array.from(b);
      const inv = new Float64Array(k);
      invertDiagonal(G, k, inv);
      const x = new Float64Array(k);
      const r = Float64Array.from(bb);
      const sweeps = nnlsCd(G, inv, k, r, 0, x, 0, 10000, 1e-14);
      expect(sweeps).toBeGreaterThanOrEqual(1);
      const expected = bruteForceNnls(G, bb, k);
      const fx = objective(G, bb, x, k), fe = objective(G, bb, expected, k);
      expect(fx - fe).toBeLessThanOrEqual(1e-8 * (1 + Math.abs(fe)));
      // the residual stayed consistent with x
      for (let a = 0; a < k; a++) {
        let s = bb[a]!;
        for (let c = 0; c < k; c++) s -= G[a * k + c]! * x[c]!;
        expect(r[a]!).toBeCloseTo(s, 9);
      }
    }), { numRuns: 200 });
  });
});
