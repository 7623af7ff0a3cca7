import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeCscChunk } from '../src/chunk/csc-chunk.js';
import { entryUniform, forEachHeldOutZero } from '../src/kernel/holdout.js';
import { gram } from '../src/kernel/gram.js';
import { invertDiagonal, nnlsSolve } from '../src/kernel/nnls-solve.js';
import { makeNnlsWorkspace } from '../src/kernel/nnls-workspace.js';
import { clearFactorCache } from '../src/kernel/nnls-support.js';
import { makeRandom } from '../src/kernel/random.js';
import { beginMaskedPass, makeMaskedL2, stepMasked } from '../src/model/l2/masked-pass.js';
import { makeL2State } from '../src/model/l2/state.js';
import { resolveOptions, type FitOptions } from '../src/options.js';
import { EMPTY } from 'rxjs';
import { DataError, OptionError } from '../src/errors.js';
import { fit, fitModel } from '../src/pipeline/fit.js';
import { fitOnline } from '../src/pipeline/fit-online.js';
import { fromCsc, fromDense } from '../src/source/from-csc.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMtx } from '../src/source/from-mtx.js';
import { nmflow } from './helpers/cli.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** A random nonnegative m×n column-major array with about `density` nonzeros, values in (0, 5]. */
function randomDense(seed: number, m: number, n: number, density: number): Float64Array {
  const r = makeRandom(seed);
  return Float64Array.from({ length: m * n }, () => (r.uniform() < density ? Math.ceil(r.uniform() * 50) / 10 : 0));
}

/** The NNLS of one column against the rows `keep` of W only (a dense reference), exact active set from cold. */
function referenceColumn(W: Float64Array, m: number, k: number, a: Float64Array, keep: (i: number) => boolean): Float64Array {
  const rows = Array.from({ length: m }, (_, i) => i).filter(keep);
  const Wk = new Float64Array(rows.length * k);
  rows.forEach((i, r) => Wk.set(W.subarray(i * k, (i + 1) * k), r * k));
  const G = new Float64Array(k * k);
  gram(Wk, rows.length, k, G);
  const b = new Float64Array(k);
  rows.forEach((i, r) => { for (let c = 0; c < k; c++) b[c] = b[c]! + a[i]! * Wk[r * k + c]!; });
  const invDiag = new Float64Array(k), x = new Float64Array(k), ws = makeNnlsWorkspace(k);
  invertDiagonal(G, k, invDiag);
  clearFactorCache(ws.cache);
  nnlsSolve(G, invDiag, k, b, 0, x, 0, ws, 1000, 1e-12, 0);
  return x;
}

describe('masked least squares (issue #15)', () => {
  it('masked NNLS equals a dense reference that drops the masked rows (NaN entries, mask zeros, held-out entries)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom('nan', 'zeros', 'test'), (seed, k, how) => {
      const m = 12, n = 5;
      const dense = randomDense(seed, m, n, 0.7);
      const r = makeRandom(seed + 1);
      if (how === 'nan') for (let p = 0; p < dense.length; p++) if (dense[p]! > 0 && r.uniform() < 0.2) dense[p] = NaN;
      const source = fromDense(dense, m, n, { missing: 'nan' });
      const given: FitOptions = how === 'nan' ? { rank: k, missing: 'nan', solver: 'exact' }
        : how === 'zeros' ? { rank: k, mask: 'zeros', solver: 'exact' } : { rank: k, testFraction: 0.3, testSeed: seed, testZeros: 'all', solver: 'exact' };
      const options = resolveOptions(given);
      const ms = makeMaskedL2(makeL2State(m, options, makeRandom(seed), undefined, { warmUp: false }), options.mask!);
      beginMaskedPass(ms, options);
      const A = source.matrix;
      stepMasked(ms, makeCscChunk({ ...A, colStart: 0 }), options, 'test');
      for (let j = 0; j < n; j++) {
        const col = dense.subarray(j * m, (j + 1) * m);
        const heldZeros = new Set<number>();
        if (how === 'test') forEachHeldOutZero(j, seed, 0.3, m, A.rowIdx, A.colPtr[j]!, A.colPtr[j + 1]!, (i) => heldZeros.add(i));
        const keep = (i: number): boolean => how === 'nan' ? !Number.isNaN(col[i]!) : how === 'zeros' ? col[i]! > 0
          : col[i]! > 0 ? entryUniform(i, j, seed) >= 0.3 : !heldZeros.has(i);
        const ref = referenceColumn(ms.base.W, m, k, col, keep);
        const got = ms.base.H.subarray(j * k, (j + 1) * k);
        for (let a = 0; a < k; a++) expect(Math.abs(got[a]! - ref[a]!)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(ref[a]!)));
      }
    }), { numRuns: 60 });
  });

  it('held-out entries do not change the fit when their values change (the test loss does)', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 1e6 }), fc.boolean(), async (seed, zeros) => {
      const m = 15, n = 20, f = 0.2;
      const dense = randomDense(seed, m, n, 0.5);
      const changed = dense.slice();
      for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) if (dense[j * m + i]! > 0 && entryUniform(i, j, seed) < f) changed[j * m + i] = dense[j * m + i]! + 3;
      const options: FitOptions = { rank: 3, testFraction: f, testSeed: seed, maxIterations: 5, tol: 0, ...(zeros ? { mask: 'zeros' as const } : {}) };
      const a = await fitModel(fromDense(dense, m, n), options);
      const b = await fitModel(fromDense(changed, m, n), options);
      expect(same(a.W, b.W) && same(a.d, b.d)).toBe(true);
      expect(a.trainLoss).toBe(b.trainLoss);
      if (changed.some((v, p) => v !== dense[p])) expect(a.testLoss).not.toBe(b.testLoss);
    }), { numRuns: 15 });
  });

  it('train and test loss equal a brute-force computation over the entries (each treatment of zeros, mask zeros, NaN)', async () => {
    const m = 30, n = 40, f = 0.15, seed = 7;
    const dense = randomDense(3, m, n, 0.3);
    dense[5] = NaN; dense[77] = NaN;
    const cases: FitOptions[] = [
      { rank: 4, testFraction: f, testSeed: seed, testZeros: 'none', missing: 'nan' },
      { rank: 4, testFraction: f, testSeed: seed, testZeros: 'all', missing: 'nan' },
      { rank: 4, testFraction: f, testSeed: seed, testZeros: 'sampled', missing: 'nan' },
      { rank: 4, testFraction: f, testSeed: seed, mask: 'zeros', missing: 'nan' },
    ];
    const source = fromDense(dense, m, n, { missing: 'nan' });
    for (const options of cases) {
      const model = await fitModel(source, { ...options, maxIterations: 4, tol: 0, keepH: true });
      const k = model.rank, { W, d, H } = model;
      let train = 0, observed = 0, test = 0, weights = 0;
      for (let j = 0; j < n; j++) {
        const col = dense.subarray(j * m, (j + 1) * m);
        const stored = Int32Array.from(Array.from({ length: m }, (_, i) => i).filter((i) => col[i] !== 0));
        const nz = Array.from(stored).filter((i) => !Number.isNaN(col[i]!)).length;
        const rate = options.testZeros === 'all' ? f : options.testZeros === 'sampled' ? Math.min(1, f * nz / (m - stored.length)) : 0;
        const zeroWeight = options.testZeros === 'all' ? 1 : f / rate;
        const heldZeros = new Set<number>();
        if (options.mask !== 'zeros') forEachHeldOutZero(j, seed, rate, m, stored, 0, stored.length, (i) => heldZeros.add(i));
        for (let i = 0; i < m; i++) {
          const v = col[i]!;
          if (Number.isNaN(v) || (v === 0 && options.mask === 'zeros')) continue;
          let pred = 0;
          for (let a = 0; a < k; a++) pred += W[i * k + a]! * d[a]! * H![a * n + j]!;
          const e2 = (v - pred) ** 2;
          const held = v > 0 ? entryUniform(i, j, seed) < f : heldZeros.has(i);
          if (held) { const w = v > 0 ? 1 : zeroWeight; test += w * e2; weights += w; } else { train += e2; observed++; }
        }
      }
      expect(model.testLoss!).toBeCloseTo(test / weights, 10);
      expect(Math.abs(model.trainLoss! - train / observed)).toBeLessThanOrEqual(1e-9 * train / observed);
    }
  });

  it('the same bytes for chunk sizes 1 … all and threads 1, 2, 3 (each treatment of zeros and mask zeros)', async () => {
    const A = loadSharedMtx('pbmc_small');
    for (const extra of [{ testZeros: 'sampled' }, { testZeros: 'all' }, { mask: 'zeros' }] as const) {
      const options: FitOptions = { rank: 4, seed: 3, testFraction: 0.1, maxIterations: 4, tol: 0, keepH: true, ...extra };
      const one = await fitModel(fromCsc(A), options);
      for (const [chunkSize, threads] of [[1, 1], [7, 2], [33, 3], [A.n, 2], [4096, 1]] as const) {
        const other = await fitModel(fromCsc(A, { chunkSize }), { ...options, threads });
        expect(same(other.W, one.W) && same(other.d, one.d) && same(other.H!, one.H!)).toBe(true);
        expect(other.trace.map((t) => [t.trainLoss, t.testLoss])).toEqual(one.trace.map((t) => [t.trainLoss, t.testLoss]));
      }
    }
  });

  it("the sampled zeros are about as many as the held-out nonzeros, and their cost follows that count (not m)", () => {
    const m = 1_000_000, rowIdx = Int32Array.from([3, 10, 500, 90_000]);
    let total = 0;
    for (let j = 0; j < 2000; j++) total += forEachHeldOutZero(j, 1, 0.05 * 4 / (m - 4), m, rowIdx, 0, 4, () => undefined);
    // expected 2000 · 0.05 · 4 = 400
    expect(total).toBeGreaterThan(300);
    expect(total).toBeLessThan(500);
  });

  it('bad input: a test fraction outside (0, 1), a rank above min(m, n), NaN without missing: nan, masks where they are not implemented — typed errors naming the option or the entry', async () => {
    const source = fromDense(randomDense(1, 6, 9, 0.5), 6, 9);
    const optionOf = (call: () => unknown): string | undefined => { try { call(); } catch (e) { expect(e).toBeInstanceOf(OptionError); return (e as OptionError).option; } return undefined; };
    for (const f of [0, 1, -0.1, 1.5, Number.NaN]) expect(optionOf(() => fit(source, { rank: 2, testFraction: f }))).toBe('testFraction');
    expect(optionOf(() => fit(source, { rank: 7, testFraction: 0.1 }))).toBe('rank');
    expect(optionOf(() => fit(source, { rank: 2, testFraction: 0.1, testZeros: 'some' as never }))).toBe('testZeros');
    expect(optionOf(() => fit(source, { rank: 2, mask: 'NA' as never }))).toBe('mask');
    expect(optionOf(() => fit(source, { rank: 2, mask: 'zeros', loss: 'l1', checkpoint: { dir: 'x' } }))).toBe('checkpoint');
    expect(optionOf(() => fit(source, { rank: 2, earlyStop: true }))).toBe('earlyStop');
    expect(optionOf(() => fitOnline(EMPTY, { rank: 2, testFraction: 0.1, checkpoint: { dir: 'x' } }))).toBe('checkpoint');
    expect(optionOf(() => fitOnline(EMPTY, { rank: 2, maskSource: source }))).toBe('maskSource');
    const dense = randomDense(1, 6, 9, 0.5);
    dense[2 * 6 + 4] = NaN; // feature 4 of sample 2
    expect(() => fromDense(dense, 6, 9)).toThrow(DataError);
    const withNaN = fromDense(dense, 6, 9, { missing: 'nan' });
    const error = await fitModel(withNaN, { rank: 2 }).catch((e: unknown) => e) as DataError;
    expect(error).toBeInstanceOf(DataError);
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.location).toMatchObject({ feature: 4, sample: 2 });
    expect(error.message).toContain("missing: 'nan'");
    expect((await fitModel(withNaN, { rank: 2, missing: 'nan' })).trainLoss).toBeGreaterThanOrEqual(0);
  });

  it('earlyStop stops a fit at the first iteration whose test loss rose', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const model = await fitModel(fromCsc(A), { rank: 15, testFraction: 0.1, earlyStop: true, tol: 0, maxIterations: 200 });
    const tests = model.trace.map((t) => t.testLoss!);
    expect(model.iteration).toBeLessThan(200);
    expect(tests.at(-1)!).toBeGreaterThan(tests.at(-2)!);
    for (let q = 1; q < tests.length - 1; q++) expect(tests[q]!).toBeLessThanOrEqual(tests[q - 1]!);
  });

  it("a .mtx value nan is an error naming the line unless missing: 'nan' (then a missing entry, equal to a NaN in memory)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-nan-'));
    try {
      const path = join(dir, 'a.mtx');
      writeFileSync(path, '%%MatrixMarket matrix coordinate real general\n3 4 7\n1 1 2\n2 1 NaN\n3 2 1.5\n1 3 4\n2 3 1\n3 4 2\n1 4 nan\n');
      await expect(loadMtx(path)).rejects.toMatchObject({ code: 'INVALID_VALUE', location: { line: 4 } });
      const source = await loadMtx(path, { missing: 'nan' });
      const dense = [2, NaN, 0, 0, 0, 1.5, 4, 1, 0, NaN, 0, 2];
      const a = await fitModel(source, { rank: 1, missing: 'nan', maxIterations: 5, tol: 0 });
      const b = await fitModel(fromDense(dense, 3, 4, { missing: 'nan' }), { rank: 1, missing: 'nan', maxIterations: 5, tol: 0 });
      expect(same(a.W, b.W) && same(a.d, b.d)).toBe(true);
      const bad = await nmflow('fit', path, '--rank', '1', '--json');
      expect(bad.code).toBe(1);
      expect(JSON.parse(bad.stderr.trim()).error.location.line).toBe(4);
      const good = await nmflow('fit', path, '--rank', '1', '--missing', 'nan', '--max-iterations', '5', '--tol', '0', '--json');
      expect(good.code).toBe(0);
      expect(JSON.parse(good.stdout.trim().split('\n').at(-1)!).trainLoss).toBe(a.trainLoss);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
