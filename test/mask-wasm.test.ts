/**
 * The masked pass in WebAssembly (model/l2/masked-wasm.ts, wasm/masked.ts) against the TypeScript path (wasm: false):
 * the same bytes of W, d, H and the same train and test losses, for every treatment of zeros, mask zeros, NaN
 * entries, penalties and diag: false, over one unit and over several (the per-row Grams' unit order), for any
 * chunking; and after a fit cut short mid-pass (its module instance reused dirty by the next fit).
 */
import { concat, throwError, take, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import type { FitOptions } from '../src/options.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromCsc, fromDense } from '../src/source/from-csc.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';
import { seededSparse } from './helpers/seeded-sparse.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

async function expectSameFit(source: () => MatrixSource, options: FitOptions, chunked: MatrixSource[] = []): Promise<void> {
  const ts = await fitModel(source(), { ...options, wasm: false });
  for (const s of [source(), ...chunked]) {
    const fast = await fitModel(s, options);
    expect(same(fast.W, ts.W) && same(fast.d, ts.d) && same(fast.H!, ts.H!)).toBe(true);
    expect(fast.trace.map((t) => [t.trainLoss, t.testLoss, t.relativeLoss, t.tol])).toEqual(ts.trace.map((t) => [t.trainLoss, t.testLoss, t.relativeLoss, t.tol]));
  }
}

const TREATMENTS: Partial<FitOptions>[] = [
  { testFraction: 0.05 },
  { testFraction: 0.1, testZeros: 'none' },
  { testFraction: 0.1, testZeros: 'all' },
  { mask: 'zeros' },
  { mask: 'zeros', testFraction: 0.1, l1: 0.05, l2: 0.01 },
  { testFraction: 0.05, diag: false, l2: [0.01, 0.02] },
  { testFraction: 0.1, l1: [0.1, 0.05], testSeed: 7 },
];

describe('masked least squares in WebAssembly', () => {
  it('the bytes of the TypeScript path on hawaiibirds, every treatment of zeros (one unit)', async () => {
    const A = loadSharedMtx('hawaiibirds');
    for (const extra of TREATMENTS) {
      await expectSameFit(() => fromCsc(A), { rank: 6, seed: 2, maxIterations: 4, tol: 0, keepH: true, ...extra }, [fromCsc(A, { chunkSize: 100 })]);
    }
  });

  it('mask zeros and held-out entries at ranks 1, 2, 11 and 21 (the Gram kernel\'s blocks of 10 columns and odd tails)', async () => {
    const A = loadSharedMtx('hawaiibirds');
    for (const rank of [1, 2, 11, 21]) {
      for (const extra of [{ mask: 'zeros' }, { testFraction: 0.1 }] as Partial<FitOptions>[]) {
        await expectSameFit(() => fromCsc(A), { rank, seed: 4, maxIterations: 2, tol: 0, keepH: true, ...extra });
      }
    }
  });

  it('the bytes of the TypeScript path over three units of 4096 samples, for chunk sizes that cut units', async () => {
    const A = seededSparse(60, 9000, 0.08, 11);
    for (const extra of [{ testFraction: 0.05 }, { mask: 'zeros' }, { testFraction: 0.1, testZeros: 'all' }] as Partial<FitOptions>[]) {
      await expectSameFit(() => fromCsc(A), { rank: 4, seed: 1, maxIterations: 3, tol: 0, keepH: true, ...extra },
        [fromCsc(A, { chunkSize: 1000 }), fromCsc(A, { chunkSize: 4103 })]);
    }
  }, 60_000);

  it('NaN entries (missing: nan) and samples with no observed nonzero give the bytes of the TypeScript path', async () => {
    const m = 30, n = 40, dense = new Float64Array(m * n);
    for (let q = 0; q < dense.length; q++) dense[q] = q % 7 === 0 ? NaN : q % 3 === 0 ? 0 : 1 + (q % 11);
    dense.fill(NaN, 0, m); // sample 0 all missing, sample 1 all zero: samples without observed nonzeros (b = ±0)
    dense.fill(0, m, 2 * m);
    for (const extra of [{ testFraction: 0.1 }, { mask: 'zeros' }, { mask: 'zeros', l1: 0.05 }] as Partial<FitOptions>[]) {
      await expectSameFit(() => fromDense(dense, m, n, { missing: 'nan' }), { rank: 3, maxIterations: 4, tol: 0, keepH: true, missing: 'nan', ...extra });
    }
  });

  it('a fit cut short mid-pass leaves its module dirty; the next masked fit still gives the bytes of the TypeScript path', async () => {
    const A = seededSparse(50, 300, 0.1, 5);
    const options: FitOptions = { rank: 3, maxIterations: 3, tol: 0, keepH: true, testFraction: 0.1 };
    let passes = 0;
    const inner = fromCsc(A, { chunkSize: 100 });
    const failing: MatrixSource = {
      name: 'fails in pass 2', rereadable: true, features: A.m, samples: A.n,
      chunks: (): Observable<CscChunk> => (++passes < 2 ? inner.chunks() : concat(inner.chunks().pipe(take(2)), throwError(() => new Error('cut short')))),
    };
    await expect(fitModel(failing, options)).rejects.toThrow(/cut short/);
    expect(passes).toBe(2);
    await expectSameFit(() => fromCsc(A), options);
  });
});
