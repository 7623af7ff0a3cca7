import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Observable, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import { OptionError } from '../src/errors.js';
import { cholInverse } from '../src/kernel/chol-qr.js';
import { cscTimesDense, cscTransposeTimesDense } from '../src/kernel/csc-times-dense.js';
import { gram } from '../src/kernel/gram.js';
import { makeRandom } from '../src/kernel/random.js';
import { symmetricEigen } from '../src/kernel/symmetric-eigen.js';
import { timesSmall } from '../src/kernel/times-small.js';
import { makeTallProducts } from '../src/kernel/wasm/tall-products.js';
import { makeWasmKernels } from '../src/kernel/wasm/wasm-kernels.js';
import { resolveOptions, type FitOptions } from '../src/options.js';
import { fit, fitModel } from '../src/pipeline/fit.js';
import { fitOnline } from '../src/pipeline/fit-online.js';
import { nndsvdStart, randomizedSvd } from '../src/pipeline/nndsvd-start.js';
import type { Snapshot } from '../src/snapshot/snapshot.js';
import { fromCsc, fromDense, splitColumns, type CscMatrix } from '../src/source/from-csc.js';
import { loadMtx } from '../src/source/from-mtx.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import type { SvdResult } from '../src/model/svd/sketch.js';
import { nmflow } from './helpers/cli.js';
import { SHARED_DATA, loadSharedMtx } from './helpers/load-mtx-sync.js';
import { cscToDense } from './reference/dense-als.js';
import { denseSvd, denseSymmetricEigen } from './reference/dense-svd.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const snapshots = (source: MatrixSource, options: FitOptions): Promise<Snapshot[]> => lastValueFrom(fit(source, options).pipe(toArray()));

const sameSvd = (a: SvdResult, b: SvdResult): boolean => same(a.sigma, b.sigma) && same(a.U, b.U) && same(a.V, b.V) && a.sumA === b.sumA;

/** A re-readable source of A in chunks of the given sizes (cycled); `fresh`: new arrays on every pass (as a file reader makes). */
function chunkedSource(A: CscMatrix, sizes: readonly number[], fresh: boolean): MatrixSource {
  const chunks: CscChunk[] = [];
  for (let start = 0, c = 0; start < A.n; c++) {
    const size = Math.min(sizes[c % sizes.length]!, A.n - start);
    const base = A.colPtr[start]!, end = A.colPtr[start + size]!;
    const colPtr = Int32Array.from({ length: size + 1 }, (_, j) => A.colPtr[start + j]! - base);
    chunks.push({ m: A.m, colStart: start, n: size, colPtr, position: c, rowIdx: A.rowIdx.subarray(base, end), values: A.values.subarray(base, end) });
    start += size;
  }
  return {
    name: 'chunked', rereadable: true, features: A.m, samples: A.n,
    chunks: () => new Observable<CscChunk>((subscriber) => {
      for (const chunk of chunks) {
        subscriber.next(fresh ? { ...chunk, colPtr: chunk.colPtr.slice(), rowIdx: chunk.rowIdx.slice(), values: chunk.values.slice() } : chunk);
      }
      subscriber.complete();
    }),
  };
}

/** A = Σ_a (a + 1)² u_a v_aᵀ + noise·U[0, 1): rank r, distinct singular values, column-major (fromDense). */
function planted(m: number, n: number, r: number, noise: number, seed: number): Float64Array {
  const rnd = makeRandom(seed);
  const U = Float64Array.from({ length: m * r }, () => rnd.uniform());
  const V = Float64Array.from({ length: r * n }, () => rnd.uniform());
  const A = new Float64Array(m * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) {
    let s = 0;
    for (let a = 0; a < r; a++) s += U[i * r + a]! * V[a * n + j]! * (a + 1) ** 2;
    A[j * m + i] = s + noise * rnd.uniform();
  }
  return A;
}

describe('NNDSVD kernels', () => {
  it('symmetricEigen matches the classical-Jacobi reference and gives an orthonormal eigenbasis (l ≤ 12)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.integer(), (l, seed) => {
      const rnd = makeRandom(seed);
      const S = new Float64Array(l * l);
      for (let a = 0; a < l; a++) for (let b = a; b < l; b++) S[a * l + b] = S[b * l + a] = 2 * rnd.uniform() - 1;
      const rows = Array.from({ length: l }, (_, a) => Array.from(S.subarray(a * l, (a + 1) * l)));
      const ref = denseSymmetricEigen(rows);
      const lambda = new Float64Array(l), V = new Float64Array(l * l);
      symmetricEigen(S.slice(), l, lambda, V);
      for (let a = 0; a < l; a++) {
        expect(Math.abs(lambda[a]! - ref.values[a]!)).toBeLessThan(1e-12 * l);
        if (a > 0) expect(lambda[a]!).toBeLessThanOrEqual(lambda[a - 1]!);
        for (let i = 0; i < l; i++) { // S v = λ v
          let sv = 0;
          for (let b = 0; b < l; b++) sv += S[i * l + b]! * V[b * l + a]!;
          expect(Math.abs(sv - lambda[a]! * V[i * l + a]!)).toBeLessThan(1e-12 * l);
        }
        for (let c = 0; c < l; c++) { // VᵀV = I
          let dot = 0;
          for (let i = 0; i < l; i++) dot += V[i * l + a]! * V[i * l + c]!;
          expect(Math.abs(dot - (a === c ? 1 : 0))).toBeLessThan(1e-12 * l);
        }
      }
    }), { numRuns: 60 });
  });

  it('CholeskyQR2 (cholInverse twice) gives orthonormal columns with the same span, and zeroes a dependent column', () => {
    const rows = 30, l = 5, rnd = makeRandom(7);
    const X = Float64Array.from({ length: rows * l }, () => rnd.uniform());
    for (let i = 0; i < rows; i++) X[i * l + 3] = 2 * X[i * l]! - X[i * l + 1]!; // column 3 depends on 0 and 1
    for (let i = 0; i < rows; i++) X[i * l + 4] = 1e6 * X[i * l + 4]!; // and column scales do not matter
    const Q = X.slice(), G = new Float64Array(l * l), M = new Float64Array(l * l), R = new Float64Array(l * l), T = new Float64Array(rows * l);
    const kept: number[] = [];
    for (let round = 0; round < 2; round++) {
      gram(Q, rows, l, G);
      kept.push(cholInverse(G, l, M, R));
      timesSmall(Q, 0, rows, l, M, l, T, 0);
      Q.set(T);
    }
    expect(kept).toEqual([4, 4]);
    for (let i = 0; i < rows; i++) expect(Q[i * l + 3]).toBe(0);
    for (const a of [0, 1, 2, 4]) for (const c of [0, 1, 2, 4]) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += Q[i * l + a]! * Q[i * l + c]!;
      expect(Math.abs(dot - (a === c ? 1 : 0))).toBeLessThan(1e-14);
    }
    for (let c = 0; c < l; c++) { // Q Qᵀ x_c = x_c
      const coef = new Float64Array(l);
      let norm = 0;
      for (let i = 0; i < rows; i++) norm = Math.max(norm, Math.abs(X[i * l + c]!));
      for (let a = 0; a < l; a++) for (let i = 0; i < rows; i++) coef[a] = coef[a]! + Q[i * l + a]! * X[i * l + c]!;
      for (let i = 0; i < rows; i++) {
        let back = 0;
        for (let a = 0; a < l; a++) back += Q[i * l + a]! * coef[a]!;
        expect(Math.abs(back - X[i * l + c]!)).toBeLessThan(1e-13 * norm);
      }
    }
  });

  it('cholInverse drops zero and non-finite pivots without throwing', () => {
    const l = 3, M = new Float64Array(l * l), R = new Float64Array(l * l);
    expect(cholInverse(new Float64Array(l * l), l, M, R)).toBe(0);
    expect([...M]).toEqual(new Array(l * l).fill(0));
    expect(cholInverse(Float64Array.from([4, 0, 0, 0, NaN, 0, 0, 0, 9]), l, M, R)).toBe(2);
    expect([M[0], M[4], M[8]]).toEqual([0.5, 0, 1 / 3]);
  });

  it('the WebAssembly tall products (gram, times, timesInPlace) give the bytes of gram.ts and timesSmall', () => {
    const wasm = makeWasmKernels();
    if (wasm === undefined) return; // no WebAssembly SIMD here: nothing to compare
    fc.assert(fc.property(fc.integer({ min: 0, max: 1300 }), fc.integer({ min: 1, max: 23 }), fc.integer({ min: 1, max: 30 }), fc.integer(), (rows, l, cols, seed) => {
      wasm.reset();
      const rnd = makeRandom(seed);
      const X = Float64Array.from({ length: rows * l }, () => (rnd.uniform() < 0.3 ? 0 : rnd.uniform() * 4 - 1));
      const Ml = Float64Array.from({ length: l * l }, () => (rnd.uniform() < 0.3 ? 0 : rnd.uniform() - 0.5));
      const Mc = Float64Array.from({ length: l * cols }, () => rnd.uniform() - 0.5);
      const tall = makeTallProducts(wasm, l);
      const at = wasm.put(X);
      const G1 = new Float64Array(l * l), G2 = new Float64Array(l * l);
      tall.gram(at, rows, G1);
      gram(X, rows, l, G2);
      expect(same(G1, G2)).toBe(true);
      const O1 = new Float64Array(rows * cols), O2 = new Float64Array(rows * cols);
      tall.times(at, rows, Mc, cols, O1);
      timesSmall(X, 0, rows, l, Mc, cols, O2, 0);
      expect(same(O1, O2)).toBe(true);
      const P = new Float64Array(rows * l);
      tall.timesInPlace(at, rows, Ml);
      timesSmall(X, 0, rows, l, Ml, l, P, 0);
      expect(same(wasm.f64(at, rows * l).slice(), P)).toBe(true);
    }), { numRuns: 60 });
  });

  it('cscTimesDense and cscTransposeTimesDense equal the dense products', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 4 }), fc.integer(), (m, n, l, seed) => {
      const rnd = makeRandom(seed);
      const dense = Float64Array.from({ length: m * n }, () => (rnd.uniform() < 0.5 ? 0 : rnd.uniform()));
      const { matrix } = fromDense(dense, m, n);
      const X = Float64Array.from({ length: n * l }, () => rnd.uniform() - 0.5);
      const Q = Float64Array.from({ length: m * l }, () => rnd.uniform() - 0.5);
      const Y = new Float64Array(m * l), Z = new Float64Array(n * l).fill(9);
      for (const chunk of splitColumns(matrix, 2)) {
        cscTimesDense(chunk.colPtr, chunk.rowIdx, chunk.values, chunk.n, chunk.colStart, X, l, Y);
        cscTransposeTimesDense(chunk.colPtr, chunk.rowIdx, chunk.values, chunk.n, chunk.colStart, Q, l, Z);
      }
      for (let i = 0; i < m; i++) for (let c = 0; c < l; c++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += dense[j * m + i]! * X[j * l + c]!;
        expect(Y[i * l + c]).toBeCloseTo(s, 12);
      }
      for (let j = 0; j < n; j++) for (let c = 0; c < l; c++) {
        let s = 0;
        for (let i = 0; i < m; i++) s += dense[j * m + i]! * Q[i * l + c]!;
        expect(Z[j * l + c]).toBeCloseTo(s, 12);
      }
    }), { numRuns: 100 });
  });
});

describe('randomized SVD', () => {
  it('matches a dense SVD on a planted low-rank matrix: singular values and vectors', async () => {
    const m = 80, n = 50, r = 6, k = 6;
    const A = planted(m, n, r, 1e-3, 11);
    const ref = denseSvd(A, m, n);
    const svd = await lastValueFrom(randomizedSvd(fromDense(A, m, n, { chunkSize: 7 }), { rank: k, seed: 3 }));
    expect([svd.m, svd.n, svd.k, svd.passes]).toEqual([m, n, k, 4]);
    for (let c = 0; c < k; c++) {
      expect(Math.abs(svd.sigma[c]! - ref.sigma[c]!) / ref.sigma[0]!).toBeLessThan(1e-10);
      let du = 0, dv = 0;
      for (let i = 0; i < m; i++) du += svd.U[i * k + c]! * ref.u[c]![i]!;
      for (let j = 0; j < n; j++) dv += svd.V[j * k + c]! * ref.v[c]![j]!;
      expect(Math.abs(Math.abs(du) - 1)).toBeLessThan(1e-8);
      expect(Math.abs(Math.abs(dv) - 1)).toBeLessThan(1e-8);
      expect(Math.sign(du)).toBe(Math.sign(dv)); // the same rank-1 term σ u vᵀ
    }
  });

  it('gives the same bytes in WebAssembly and TypeScript, for any chunking, and with q = 0, 1, 2', async () => {
    const A = loadSharedMtx('hawaiibirds');
    for (const q of [0, 1, 2]) {
      const reference = await lastValueFrom(randomizedSvd(fromCsc(A), { rank: 4, seed: 5, powerIterations: q, wasm: false }));
      expect(reference.passes).toBe(2 * q + 2);
      await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: A.n }), { minLength: 1, maxLength: 6 }), fc.boolean(), async (sizes, wasm) => {
        const svd = await lastValueFrom(randomizedSvd(chunkedSource(A, sizes, false), { rank: 4, seed: 5, powerIterations: q, wasm }));
        expect(sameSvd(svd, reference)).toBe(true);
      }), { numRuns: 8 });
    }
  });

  it('gives the same bytes whether the chunks come again as the same arrays or as fresh copies each pass', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const results = [];
    for (const fresh of [false, true]) for (const wasm of [true, false]) {
      results.push(await lastValueFrom(randomizedSvd(chunkedSource(A, [50, 1, 120], fresh), { rank: 5, seed: 8, wasm })));
    }
    for (const other of results.slice(1)) expect(sameSvd(other, results[0]!)).toBe(true);
    // one start after another (the second reuses the first's WebAssembly memory) and two at once
    const again = await lastValueFrom(randomizedSvd(chunkedSource(A, [50, 1, 120], false), { rank: 5, seed: 8 }));
    const both = await Promise.all([9, 8].map((seed) => lastValueFrom(randomizedSvd(chunkedSource(A, [7], false), { rank: 5, seed }))));
    expect(sameSvd(again, results[0]!) && sameSvd(both[1]!, results[0]!)).toBe(true);
  });

  it('gives the same bytes for chunks of 1, 7 and all samples', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const results = await Promise.all([1, 7, A.n].map((chunkSize) => lastValueFrom(randomizedSvd(fromCsc(A, { chunkSize }), { rank: 4, seed: 5 }))));
    for (const other of results.slice(1)) {
      expect(same(other.sigma, results[0]!.sigma)).toBe(true);
      expect(same(other.U, results[0]!.U)).toBe(true);
      expect(same(other.V, results[0]!.V)).toBe(true);
    }
  });
});

describe('NNDSVD start', () => {
  it('gives nonnegative W and H; NNDSVDa has no zeros and fills them with the mean of A over all m·n entries', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const k = 6;
    const plain = await lastValueFrom(nndsvdStart(fromCsc(A, { chunkSize: 100 }), { rank: k, seed: 1, fill: false }));
    const filled = await lastValueFrom(nndsvdStart(fromCsc(A, { chunkSize: 100 }), { rank: k, seed: 1, fill: true }));
    expect(plain.W.every((x) => x >= 0) && plain.H.every((x) => x >= 0)).toBe(true);
    expect(plain.W.some((x) => x === 0) && plain.H.some((x) => x === 0)).toBe(true);
    let sum = 0;
    for (const v of A.values) sum += v;
    const mean = sum / (A.m * A.n);
    for (const [x, y] of [[plain.W, filled.W], [plain.H, filled.H]] as const) {
      expect(y.every((v) => v > 0)).toBe(true);
      for (let q = 0; q < x.length; q++) expect(y[q]).toBe(x[q] === 0 ? mean : x[q]);
    }
    expect(plain.seconds).toBeGreaterThan(0);
    const withoutH = await lastValueFrom(nndsvdStart(fromCsc(A, { chunkSize: 100 }), { rank: k, seed: 1, fill: true, withH: false }));
    expect(same(withoutH.W, filled.W) && withoutH.H.length === 0).toBe(true);
  });

  it('reproduces an exactly rank-1 nonnegative matrix: W h = A (sparse w and h)', async () => {
    const m = 40, n = 30, rnd = makeRandom(4);
    const w = Float64Array.from({ length: m }, () => (rnd.uniform() < 0.3 ? 0 : rnd.uniform() + 0.1));
    const h = Float64Array.from({ length: n }, () => (rnd.uniform() < 0.3 ? 0 : rnd.uniform() + 0.1));
    const A = new Float64Array(m * n);
    for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) A[j * m + i] = w[i]! * h[j]!;
    for (const k of [1, 3]) {
      const start = await lastValueFrom(nndsvdStart(fromDense(A, m, n, { chunkSize: 4 }), { rank: k, seed: 9, fill: false }));
      let scale = 0;
      for (const v of A) scale = Math.max(scale, v);
      for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) {
        let s = 0;
        for (let a = 0; a < k; a++) s += start.W[i * k + a]! * start.H[a * n + j]!;
        expect(Math.abs(s - A[j * m + i]!)).toBeLessThan(1e-12 * scale);
      }
    }
  });

  it('gives the same bytes for chunks of 1, 7 and all samples, and so does the fit from it', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const starts = await Promise.all([1, 7, A.n].map((chunkSize) => lastValueFrom(nndsvdStart(fromCsc(A, { chunkSize }), { rank: 5, seed: 2, fill: true }))));
    for (const other of starts.slice(1)) expect(same(other.W, starts[0]!.W) && same(other.H, starts[0]!.H)).toBe(true);
    for (const loss of ['l2', 'l1'] as const) {
      const models = await Promise.all([1, 7, A.n].map((chunkSize) => fitModel(fromCsc(A, { chunkSize }),
        { rank: 5, loss, init: 'nndsvd', seed: 2, maxIterations: 3, tol: 0, keepH: true, threads: 1 })));
      for (const other of models.slice(1)) expect(same(other.W, models[0]!.W) && same(other.H!, models[0]!.H!)).toBe(true);
    }
  });
});

describe("fit with init 'nndsvd' / 'nndsvda'", () => {
  it("init 'random' gives the bytes of the default start (l2 and l1)", async () => {
    const A = loadSharedMtx('hawaiibirds');
    for (const loss of ['l2', 'l1'] as const) {
      const base: FitOptions = { rank: 4, loss, seed: 3, maxIterations: 3, tol: 0, keepH: true, warmupIterations: 2 };
      const plain = await fitModel(fromCsc(A, { chunkSize: 200 }), base);
      const random = await fitModel(fromCsc(A, { chunkSize: 200 }), { ...base, init: 'random' });
      expect(same(plain.W, random.W) && same(plain.d, random.d) && same(plain.H!, random.H!)).toBe(true);
    }
  });

  it('lowers the loss after one iteration below the random start on movielens (l2: three seeds; l1: against a random start without warm-up)', async () => {
    const source = await loadMtx(`${SHARED_DATA}movielens.mtx`);
    for (const seed of [1, 2, 3]) {
      const first = async (options: Omit<FitOptions, 'rank'>): Promise<number> =>
        (await snapshots(source, { seed, maxIterations: 1, tol: 0, ...options, rank: 10 })).find((s) => s.iteration === 1)!.objective;
      const random = await first({});
      expect(await first({ init: 'nndsvd' })).toBeLessThan(random);
      expect(await first({ init: 'nndsvda' })).toBeLessThan(random);
      if (seed === 1) {
        // l1: the SVD start goes straight into sCD (an explicit start), so it is compared with a random
        // start that does too; the default random start's 10 least-squares warm-up passes do better.
        const randomL1 = await first({ loss: 'l1', warmupIterations: 0 });
        expect(await first({ loss: 'l1', init: 'nndsvd' })).toBeLessThan(randomL1);
        expect(await first({ loss: 'l1', init: 'nndsvda' })).toBeLessThan(randomL1);
      }
    }
  });

  it('l1 starts exactly at the NNDSVD factors (an iteration-0 snapshot) and keeps them nonnegative', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const all = await snapshots(fromCsc(A, { chunkSize: 300 }), { rank: 4, loss: 'l1', init: 'nndsvd', maxIterations: 2, tol: 0, keepH: true });
    expect(all.map((s) => s.iteration)).toEqual([0, 1, 2, 2]);
    const model = all.at(-1)!;
    expect(model.W.every((x) => x >= 0) && model.H!.every((x) => x >= 0)).toBe(true);
    expect(model.trace!.map((t) => t.iteration)).toEqual([0, 1, 2]);
  });

  it('counts the SVD start in elapsedSeconds and reports it as initSeconds', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const all = await snapshots(fromCsc(A), { rank: 4, init: 'nndsvda', maxIterations: 2, tol: 0 });
    for (const s of all) {
      expect(s.initSeconds).toBeGreaterThan(0);
      expect(s.elapsedSeconds).toBeGreaterThanOrEqual(s.initSeconds!);
    }
    expect((await fitModel(fromCsc(A), { rank: 4, maxIterations: 1 })).initSeconds).toBeUndefined();
  });

  it('is validated synchronously; fitOnline refuses it (a live stream is read once)', () => {
    expect(() => resolveOptions({ rank: 2, init: 'svd' as never })).toThrow(/expected 'random', 'nndsvd', 'nndsvda' or explicit arrays/);
    expect(() => resolveOptions({ rank: 2, init: 3 as never })).toThrow(OptionError);
    expect(resolveOptions({ rank: 2, init: 'nndsvda' }).initMethod).toBe('nndsvda');
    expect(resolveOptions({ rank: 2, init: { W: [1, 2] } }).initMethod).toBe('explicit');
    expect(() => fitOnline(new Observable<CscChunk>(), { rank: 2, init: 'nndsvd' })).toThrow(OptionError);
    expect(() => fitOnline(new Observable<CscChunk>(), { rank: 2, init: 'random' })).not.toThrow();
  });

  it('checkpoints resume only with the same init, to the bytes of an uninterrupted fit', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-nndsvd-'));
    const base: FitOptions = { rank: 4, init: 'nndsvd', seed: 6, tol: 0, keepH: true };
    const whole = await fitModel(fromCsc(A, { chunkSize: 300 }), { ...base, maxIterations: 6 });
    await fitModel(fromCsc(A, { chunkSize: 300 }), { ...base, maxIterations: 3, checkpoint: { dir } });
    const resumed = await fitModel(fromCsc(A, { chunkSize: 300 }), { ...base, maxIterations: 6, resumeFrom: dir });
    expect(same(resumed.W, whole.W) && same(resumed.H!, whole.H!)).toBe(true);
    expect(resumed.initSeconds).toBeUndefined(); // W came from the checkpoint
    await expect(fitModel(fromCsc(A), { ...base, init: 'random', maxIterations: 6, resumeFrom: dir })).rejects.toThrow(/init = "random"/);
    await expect(fitModel(fromCsc(A), { ...base, init: 'nndsvda', maxIterations: 6, resumeFrom: dir })).rejects.toThrow(OptionError);
  });

  it('unsubscribing during the SVD start stops its reading', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const chunks = splitColumns(A, 100);
    let subscriptions = 0, active = 0, emitted = 0;
    const source: MatrixSource = {
      name: 'slow', rereadable: true, features: A.m, samples: A.n,
      chunks: () => new Observable<CscChunk>((subscriber) => {
        subscriptions++;
        active++;
        let c = 0;
        const timer = setInterval(() => {
          if (c === chunks.length) { subscriber.complete(); return; }
          emitted++;
          subscriber.next(chunks[c++]!);
        }, 1);
        return () => { active--; clearInterval(timer); };
      }),
    };
    const subscription = fit(source, { rank: 3, init: 'nndsvd', threads: 1 }).subscribe();
    while (subscriptions < 2) await new Promise((resolve) => setTimeout(resolve, 2)); // in the second pass
    subscription.unsubscribe();
    const seen = emitted;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(active).toBe(0);
    expect(subscriptions).toBe(2);
    expect(emitted).toBe(seen);
  });

  it('a bad chunk during the SVD start is a typed error on the error channel', async () => {
    const A: CscMatrix = loadSharedMtx('hawaiibirds');
    const good = splitColumns(A, 500);
    const bad = { ...good[1]!, m: A.m + 1 };
    const source: MatrixSource = {
      name: 'grows', rereadable: true,
      chunks: () => new Observable<CscChunk>((subscriber) => { subscriber.next(good[0]!); subscriber.next(bad); subscriber.complete(); }),
    };
    await expect(fitModel(source, { rank: 3, init: 'nndsvd', threads: 1 })).rejects.toMatchObject({ code: 'SHAPE_MISMATCH' });
  });

  it('CLI: --init nndsvd fits and reports initSeconds; --init other than random conflicts with --init-w', async () => {
    const run = await nmflow('fit', `${SHARED_DATA}hawaiibirds.mtx`, '--rank', '3', '--init', 'nndsvd', '--max-iterations', '2', '--tol', '0', '--json');
    expect(run.code).toBe(0);
    const done = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { done: boolean; initSeconds: number; iterations: number };
    expect(done.done && done.iterations === 2 && done.initSeconds > 0).toBe(true);
    const conflict = await nmflow('fit', `${SHARED_DATA}hawaiibirds.mtx`, '--rank', '3', '--init', 'nndsvda', '--init-w', 'W0.csv');
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toMatch(/--init/);
    const bad = await nmflow('fit', `${SHARED_DATA}hawaiibirds.mtx`, '--rank', '3', '--init', 'svd');
    expect([bad.code, /'random', 'nndsvd' or 'nndsvda'/.test(bad.stderr)]).toEqual([2, true]);
  });
});

// the dense reference agrees with cscToDense's orientation (column-major m×n), which `planted` uses too
it('test reference: denseSvd reconstructs A', () => {
  const A = loadSharedMtx('aml');
  const small = cscToDense(A.m, Math.min(A.n, 12), A.colPtr, A.rowIdx, A.values);
  const m = A.m, n = Math.min(A.n, 12);
  const ref = denseSvd(small, m, n);
  for (let j = 0; j < n; j++) for (let i = 0; i < m; i += 97) {
    let s = 0;
    for (let c = 0; c < n; c++) s += ref.sigma[c]! * ref.u[c]![i]! * ref.v[c]![j]!;
    expect(s).toBeCloseTo(small[j * m + i]!, 8);
  }
});
