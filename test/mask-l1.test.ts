/**
 * Masks and held-out sets of weighted L1 (issue #15): masked sCD against a dense reference that leaves the masked
 * entries out, the fit blind to held-out values, losses against brute force, the same bytes for any chunking,
 * thread count and in memory / out of core, mask 'zeros' as λ = 0, and cross-validation with loss 'l1'.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { CscMatrix } from '../src/chunk/csc-matrix.js';
import { forEachHeldOutZero, isHeldOut } from '../src/kernel/holdout.js';
import { makeRandom } from '../src/kernel/random.js';
import { makeScdWorkspace } from '../src/kernel/scd-workspace.js';
import { makeMaskedL1Problem, scdIterationMasked } from '../src/model/l1/masked-problem.js';
import { splitL1Chunk } from '../src/model/l1/masked-split.js';
import { resolveOptions, type FitOptions } from '../src/options.js';
import { crossValidate, type CvEvent } from '../src/pipeline/cross-validate.js';
import { fit, fitModel } from '../src/pipeline/fit.js';
import { nmflow } from './helpers/cli.js';
import { fitOnline } from '../src/pipeline/fit-online.js';
import { fromCsc } from '../src/source/from-csc.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import { seededSparse } from './helpers/seeded-sparse.js';
import { denseL1CdIteration, denseL1Objective } from './reference/dense-l1-cd.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const relClose = (a: number, b: number, tol: number): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

/** A re-readable source that is not an in-memory matrix: the engine streams it (out of core for l1). */
function streamed(A: CscMatrix, chunkSize: number): MatrixSource {
  const inner = fromCsc(A, { chunkSize, missing: 'nan' });
  return { name: 'streamed', rereadable: true, features: A.m, chunks: () => inner.chunks() };
}

/** CSC of a row-major dense m×n array (NaN entries stored, zeros not). */
function cscOf(A: Float64Array, m: number, n: number): CscMatrix {
  const colPtr = new Int32Array(n + 1), rows: number[] = [], values: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) { const v = A[i * n + j]!; if (v !== 0) { rows.push(i); values.push(v); } }
    colPtr[j + 1] = rows.length;
  }
  return { m, n, colPtr, rowIdx: Int32Array.from(rows), values: Float64Array.from(values) };
}

/**
 * The entries a masked fit leaves out, enumerated from the held-out rule's primitives (kernel/holdout.ts):
 * NaN; zeros with mask 'zeros'; stored entries whose hash is below f; zeros drawn at rate f ('all').
 */
function maskedSet(A: Float64Array, m: number, n: number, how: 'nan' | 'zeros' | 'all' | 'none', f: number, seed: number): Set<number> {
  const out = new Set<number>();
  const csc = cscOf(A, m, n);
  for (let j = 0; j < n; j++) {
    for (let p = csc.colPtr[j]!; p < csc.colPtr[j + 1]!; p++) {
      const i = csc.rowIdx[p]!;
      if (Number.isNaN(csc.values[p]!) || (how !== 'nan' && how !== 'zeros' && isHeldOut(i, j, seed, f))) out.add(i * n + j);
    }
    if (how === 'zeros') for (let i = 0; i < m; i++) { if (A[i * n + j] === 0) out.add(i * n + j); }
    if (how === 'all') forEachHeldOutZero(j, seed, f, m, csc.rowIdx, csc.colPtr[j]!, csc.colPtr[j + 1]!, (i) => out.add(i * n + j));
  }
  return out;
}

/** A without its NaN entries and its held-out nonzeros (hash below f). */
const without = (A: CscMatrix, f: number, seed: number): CscMatrix => {
  const colPtr = new Int32Array(A.n + 1), rows: number[] = [], values: number[] = [];
  for (let j = 0; j < A.n; j++) {
    for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) {
      if (!Number.isNaN(A.values[p]!) && !isHeldOut(A.rowIdx[p]!, j, seed, f)) { rows.push(A.rowIdx[p]!); values.push(A.values[p]!); }
    }
    colPtr[j + 1] = rows.length;
  }
  return { m: A.m, n: A.n, colPtr, rowIdx: Int32Array.from(rows), values: Float64Array.from(values) };
};

describe('masked weighted L1 (issue #15)', () => {
  it('a masked sCD iteration follows the dense coordinate descent that gives the masked entries weight 0', () => {
    const kinds = ['nan', 'zeros', 'all', 'none'] as const;
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(...kinds), fc.constantFrom(0, 0.3, 1), (seed, k, how, lambda) => {
      const m = 9, n = 7, f = 0.3;
      const r = makeRandom(seed);
      const A = Float64Array.from({ length: m * n }, () => (r.uniform() < 0.55 ? 0.5 + 4 * r.uniform() : 0));
      if (how === 'nan') for (let p = 0; p < A.length; p++) if (A[p]! > 0 && r.uniform() < 0.25) A[p] = NaN;
      const given: FitOptions = how === 'nan' ? { rank: k, missing: 'nan' } : how === 'zeros' ? { rank: k, mask: 'zeros' }
        : { rank: k, testFraction: f, testSeed: seed, testZeros: how };
      const mask = resolveOptions({ ...given, loss: 'l1', lambda }).mask!;
      const mp = makeMaskedL1Problem([splitL1Chunk({ ...cscOf(A, m, n), colStart: 0, position: 0 }, mask)], m, mask.zeros ? 0 : lambda);
      const out = maskedSet(A, m, n, how, f, seed);
      const keep = (i: number, j: number): boolean => !out.has(i * n + j);
      const W = Float64Array.from({ length: m * k }, () => r.uniform()), H = Float64Array.from({ length: n * k }, () => r.uniform());
      const Wd = W.slice(), Hd = H.slice();
      const ws = makeScdWorkspace(k, 1), base = new Float64Array(k), fCols = new Float64Array(n);
      for (let t = 0; t < 4; t++) {
        const fm = scdIterationMasked(mp, W, H, k, ws, base, fCols);
        const fd = denseL1CdIteration(A, m, n, Wd, Hd, k, lambda, keep);
        expect(relClose(fm, fd, 1e-9)).toBe(true);
        expect(relClose(fm, denseL1Objective(A, m, n, W, H, k, lambda, keep), 1e-9)).toBe(true);
        const close = (x: Float64Array, y: Float64Array): boolean => x.every((v, q) => relClose(v, y[q]!, 1e-8));
        // a flat 1-D minimum (ties) may let the two take different ends of it: equally good, the paths part there
        if (!close(W, Wd) || !close(H, Hd)) break;
      }
    }), { numRuns: 150 });
  });

  it('the fit does not see held-out values: changing them leaves W, d, H the same bytes (in memory and out of core); the test loss moves', async () => {
    const A = seededSparse(40, 60, 0.3, 3);
    const options = { rank: 3, loss: 'l1', lambda: 0.5, seed: 2, maxIterations: 6, tol: 0, keepH: true, testFraction: 0.2, testSeed: 9, warmupIterations: 2 } as const;
    const changed = { ...A, values: A.values.slice() };
    let moved = 0;
    for (let j = 0; j < A.n; j++) {
      for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) if (isHeldOut(A.rowIdx[p]!, j, 9, 0.2)) { changed.values[p] = changed.values[p]! * 3 + 1; moved++; }
    }
    expect(moved).toBeGreaterThan(50);
    for (const make of [(M: CscMatrix) => fromCsc(M), (M: CscMatrix) => streamed(M, 13)]) {
      const a = await fitModel(make(A), options), b = await fitModel(make(changed), options);
      expect(same(a.W, b.W) && same(a.d, b.d) && same(a.H!, b.H!)).toBe(true);
      expect(a.trainLoss).toBe(b.trainLoss);
      expect(a.testLoss).not.toBe(b.testLoss);
    }
  });

  for (const testZeros of ['all', 'sampled'] as const) {
    it(`trainLoss and testLoss (testZeros '${testZeros}') equal brute-force sums over the final model`, async () => {
      const m = 30, n = 40, f = 0.15, seed = 4, lambda = 0.7;
      const A = seededSparse(m, n, 0.35, 11);
      const model = await fitModel(fromCsc(A), { rank: 3, loss: 'l1', lambda, seed: 1, maxIterations: 4, tol: 0, keepH: true, testFraction: f, testSeed: seed, testZeros });
      const k = 3, pred = (i: number, j: number): number => { let s = 0; for (let a = 0; a < k; a++) s += model.W[i * k + a]! * model.d[a]! * model.H![a * n + j]!; return s; };
      let train = 0, count = 0, test = 0, weights = 0;
      for (let j = 0; j < n; j++) {
        const stored = new Map<number, number>();
        for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) stored.set(A.rowIdx[p]!, A.values[p]!);
        const rate = testZeros === 'all' ? f : Math.min(1, f * stored.size / (m - stored.size));
        const zeroWeight = testZeros === 'all' ? 1 : f / rate;
        const heldZeros = new Set<number>();
        forEachHeldOutZero(j, seed, rate, m, A.rowIdx, A.colPtr[j]!, A.colPtr[j + 1]!, (i) => heldZeros.add(i));
        for (let i = 0; i < m; i++) {
          const a = stored.get(i) ?? 0, x = pred(i, j), loss = a > 0 ? Math.abs(a - x) : lambda * x;
          if (a > 0 && isHeldOut(i, j, seed, f)) { test += loss; weights += 1; } else if (a === 0 && heldZeros.has(i)) { test += zeroWeight * loss; weights += zeroWeight; } else { train += loss; count++; }
        }
      }
      expect(relClose(model.testLoss!, test / weights, 1e-9)).toBe(true);
      expect(relClose(model.trainLoss!, train / count, 1e-9)).toBe(true);
      expect(relClose(model.objective, train / A.values.reduce((s, v, p) => s + (isHeldOut(A.rowIdx[p]!, colOf(A, p), seed, f) ? 0 : v), 0), 1e-9)).toBe(true);
    });
  }

  it('the same bytes for any chunk size (out of core) and thread count (in memory), with NaN entries and a test set; files removed', async () => {
    const A = seededSparse(25, 48, 0.3, 5);
    const values = A.values.slice();
    for (let p = 0; p < values.length; p += 7) values[p] = NaN;
    const M = { ...A, values };
    const tempDir = mkdtempSync(join(tmpdir(), 'nmflow-l1mask-'));
    try {
      const options = { rank: 3, loss: 'l1', lambda: 0.4, seed: 3, maxIterations: 4, tol: 0, keepH: true, testFraction: 0.1, missing: 'nan', warmupIterations: 2, tempDir } as const;
      const one = await fitModel(fromCsc(M, { missing: 'nan' }), { ...options, threads: 1 });
      for (const threads of [2, 3]) {
        const t = await fitModel(fromCsc(M, { missing: 'nan' }), { ...options, threads });
        expect(same(t.W, one.W) && same(t.H!, one.H!) && t.testLoss === one.testLoss && t.trainLoss === one.trainLoss).toBe(true);
      }
      await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 48 }), async (chunkSize) => {
        const s = await fitModel(streamed(M, chunkSize), options);
        expect(same(s.W, one.W) && same(s.H!, one.H!)).toBe(true);
        expect(s.trace.map((p) => [p.objective, p.trainLoss, p.testLoss])).toEqual(one.trace.map((p) => [p.objective, p.trainLoss, p.testLoss]));
      }), { numRuns: 8, examples: [[1], [48]] });
      expect(readdirSync(tempDir)).toEqual([]);
    } finally { rmSync(tempDir, { recursive: true, force: true }); }
  });

  it("mask 'zeros' is weighted L1 with λ = 0 (which already ignores zeros): with held-out and NaN entries, the plain λ = 0 fit of the data without them", async () => {
    const A = seededSparse(30, 40, 0.3, 8);
    const values = A.values.slice();
    for (let p = 2; p < values.length; p += 9) values[p] = NaN;
    const M = { ...A, values };
    const options = { rank: 3, loss: 'l1', seed: 4, maxIterations: 5, tol: 0, keepH: true } as const;
    const plain = await fitModel(fromCsc(without(M, 0.25, 7)), { ...options, lambda: 0 });
    const masked = await fitModel(fromCsc(M, { missing: 'nan' }), { ...options, lambda: 0.8, mask: 'zeros', missing: 'nan', testFraction: 0.25, testSeed: 7 });
    expect(same(plain.W, masked.W) && same(plain.d, masked.d) && same(plain.H!, masked.H!)).toBe(true);
    expect(masked.trace.map((p) => p.objective)).toEqual(plain.trace.map((p) => p.objective));
    expect(masked.testLoss).toBeGreaterThan(0);
  });

  it('an explicit start: out of core equals in memory, iteration 0 included (its objective over the observed entries)', async () => {
    const A = seededSparse(20, 30, 0.35, 14), k = 2, r = makeRandom(3);
    const init = { W: Float64Array.from({ length: A.m * k }, () => r.uniform()), H: Float64Array.from({ length: k * A.n }, () => r.uniform()) };
    const options = { rank: k, loss: 'l1', lambda: 0.6, init, maxIterations: 3, tol: 0, keepH: true, testFraction: 0.2, emit: 'every' } as const;
    const memory = await lastValueFrom(fit(fromCsc(A), options).pipe(toArray()));
    const outOfCore = await lastValueFrom(fit(streamed(A, 7), options).pipe(toArray()));
    expect(memory[0]!.iteration).toBe(0);
    expect(outOfCore.map((s) => [s.iteration, s.objective, s.trainLoss, s.testLoss])).toEqual(memory.map((s) => [s.iteration, s.objective, s.trainLoss, s.testLoss]));
    expect(same(outOfCore.at(-1)!.W, memory.at(-1)!.W) && same(outOfCore.at(-1)!.H!, memory.at(-1)!.H!)).toBe(true);
  });

  it('nmflow cv --loss l1 prints a test loss per rank and the chosen rank', async () => {
    const r = await nmflow('cv', 'examples/data/hawaiibirds.mtx.gz', '--ranks', '1:3', '--loss', 'l1', '--lambda', '0.5', '--replicates', '1', '--max-iterations', '3', '--json');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { rank?: number; testLoss: number | number[]; done?: boolean; bestRank?: number });
    expect(lines.filter((l) => l.rank !== undefined && typeof l.testLoss === 'number' && l.testLoss > 0).length).toBe(3);
    expect(lines.at(-1)!.done).toBe(true);
    expect([1, 2, 3]).toContain(lines.at(-1)!.bestRank);
  }, 60_000);

  it("crossValidate with loss 'l1': a test loss per rank and replicate, and the table", async () => {
    const A = seededSparse(30, 50, 0.35, 12);
    const events = await lastValueFrom(crossValidate(fromCsc(A), { ranks: [1, 2, 3], replicates: 2, loss: 'l1', lambda: 0.5, maxIterations: 3, tol: 0 }).pipe(toArray())) as CvEvent[];
    const fits = events.filter((e) => e.kind === 'fit');
    expect(fits.length).toBe(6);
    for (const e of fits) expect(Number.isFinite(e.testLoss) && e.testLoss > 0 && Number.isFinite(e.trainLoss)).toBe(true);
    const table = events.at(-1)!;
    expect(table.kind).toBe('table');
    if (table.kind === 'table') expect([1, 2, 3]).toContain(table.bestRank);
  });
});

describe('masked online weighted L1 (issue #15)', () => {
  it("mask 'zeros' + testFraction + NaN equals the plain online fit (λ = 0) of the data with those entries removed, for any chunk size; a test loss per chunk", async () => {
    const A = seededSparse(20, 45, 0.35, 21);
    const values = A.values.slice();
    for (let p = 3; p < values.length; p += 11) values[p] = NaN;
    const M = { ...A, values };
    const options = { rank: 3, loss: 'l1', seed: 6, window: 3, sweeps: 2, warmupIterations: 2, buffer: 0, threads: 1 } as const;
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 45 }), async (chunkSize) => {
      const masked = await lastValueFrom(fitOnline(fromCsc(M, { chunkSize, missing: 'nan' }), { ...options, mask: 'zeros', missing: 'nan', testFraction: 0.2, testSeed: 5, lambda: 0.9 }).pipe(toArray()));
      const plain = await lastValueFrom(fitOnline(fromCsc(without(M, 0.2, 5), { chunkSize }), { ...options, lambda: 0 }).pipe(toArray()));
      const a = masked.at(-1)!, b = plain.at(-1)!;
      expect(same(a.W, b.W) && same(a.d, b.d)).toBe(true);
      expect(masked.map((s) => s.objective)).toEqual(plain.map((s) => s.objective));
      // every chunk's snapshot carries the window's losses (a window without held-out entries has no test loss)
      expect(masked.every((s) => Number.isFinite(s.trainLoss))).toBe(true);
      expect(masked.some((s) => Number.isFinite(s.testLoss))).toBe(true);
    }), { numRuns: 6, examples: [[1], [45]] });
  });

  it('the held-out set of a stream is the same for any chunking, and threads give the same bytes', async () => {
    const A = seededSparse(30, 40, 0.3, 22);
    const mask = resolveOptions({ rank: 2, loss: 'l1', testFraction: 0.2, testSeed: 3 }).mask!;
    const entries = (chunkSize: number): string[] => {
      const out: string[] = [];
      for (let c0 = 0; c0 < A.n; c0 += chunkSize) {
        const n = Math.min(chunkSize, A.n - c0), p0 = A.colPtr[c0]!;
        const colPtr = Int32Array.from({ length: n + 1 }, (_, j) => A.colPtr[c0 + j]! - p0);
        const split = splitL1Chunk({ m: A.m, n, colStart: c0, position: 0, colPtr, rowIdx: A.rowIdx.subarray(p0), values: A.values.subarray(p0) }, mask);
        for (let q = 0; q < split.test.n; q++) out.push(`${split.test.rows[q]},${split.test.cols[q]},${split.test.values[q]},${split.test.weights[q]}`);
      }
      return out;
    };
    const all = entries(A.n);
    expect(all.length).toBeGreaterThan(40);
    for (const c of [1, 3, 7, 16]) expect(entries(c)).toEqual(all);
    const options = { rank: 3, loss: 'l1', seed: 6, window: 4, warmupIterations: 1, buffer: 0, testFraction: 0.15, lambda: 0.5 } as const;
    const one = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 8 }), { ...options, threads: 1 }));
    const two = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 8 }), { ...options, threads: 2 }));
    expect(same(one.W, two.W) && one.testLoss === two.testLoss && Number.isFinite(one.testLoss)).toBe(true);
  });
});

function colOf(A: CscMatrix, p: number): number {
  let j = 0;
  while (A.colPtr[j + 1]! <= p) j++;
  return j;
}
