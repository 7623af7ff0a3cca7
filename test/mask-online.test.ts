/**
 * Online least squares with masks and held-out sets (issue #15; model/l2/online-masked.ts): one step over the whole
 * matrix equals the masked batch iterations, the fit is blind to held-out values, mask 'zeros' with a test set equals
 * the fit of the data without the held-out entries for any chunk size, and a test loss comes with every chunk.
 */
import fc from 'fast-check';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { CscMatrix } from '../src/chunk/csc-matrix.js';
import { DataError, OptionError } from '../src/errors.js';
import { isHeldOut } from '../src/kernel/holdout.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fitOnline } from '../src/pipeline/fit-online.js';
import { fromCsc } from '../src/source/from-csc.js';
import { seededSparse } from './helpers/seeded-sparse.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** A without its held-out nonzeros (hash below f). */
function withoutHeldOut(A: CscMatrix, f: number, seed: number): CscMatrix {
  const colPtr = new Int32Array(A.n + 1), rows: number[] = [], values: number[] = [];
  for (let j = 0; j < A.n; j++) {
    for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) if (!isHeldOut(A.rowIdx[p]!, j, seed, f)) { rows.push(A.rowIdx[p]!); values.push(A.values[p]!); }
    colPtr[j + 1] = rows.length;
  }
  return { m: A.m, n: A.n, colPtr, rowIdx: Int32Array.from(rows), values: Float64Array.from(values) };
}

describe('masked online least squares (issue #15)', () => {
  for (const solver of ['exact', 'fast'] as const) {
    for (const how of [{ testFraction: 0.2, testSeed: 4 }, { testFraction: 0.2, testZeros: 'all' }, { mask: 'zeros', testFraction: 0.15 }] as const) {
      it(`one chunk holding the whole matrix, window 1: the step is the masked batch iterations (${solver}, ${JSON.stringify(how)})`, async () => {
        const A = seededSparse(25, 60, 0.3, 31);
        const common = { rank: 3, seed: 2, solver, ...how } as const;
        const batch = await fitModel(fromCsc(A), { ...common, maxIterations: 3, tol: 0 });
        const online = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: A.n }), { ...common, window: 1, sweeps: 3, warmupIterations: 0, buffer: 0 }));
        expect(same(online.W, batch.W) && same(online.d, batch.d)).toBe(true);
        expect(online.trainLoss).toBe(batch.trainLoss);
        expect(online.testLoss).toBe(batch.testLoss);
      });
    }
  }

  it('changing held-out values leaves the online model the same bytes; the test loss moves; every chunk reports one', async () => {
    const A = seededSparse(30, 70, 0.3, 32);
    const changed = { ...A, values: A.values.slice() };
    for (let j = 0; j < A.n; j++) for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) if (isHeldOut(A.rowIdx[p]!, j, 6, 0.2)) changed.values[p] = 9;
    const options = { rank: 3, seed: 5, window: 3, testFraction: 0.2, testSeed: 6, buffer: 0 } as const;
    const a = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 9 }), options).pipe(toArray()));
    const b = await lastValueFrom(fitOnline(fromCsc(changed, { chunkSize: 9 }), options).pipe(toArray()));
    expect(same(a.at(-1)!.W, b.at(-1)!.W) && same(a.at(-1)!.d, b.at(-1)!.d)).toBe(true);
    expect(a.map((s) => s.trainLoss)).toEqual(b.map((s) => s.trainLoss));
    expect(a.at(-1)!.testLoss).not.toBe(b.at(-1)!.testLoss);
    expect(a.length).toBe(9); // 8 chunks and the final snapshot
    expect(a.every((s) => Number.isFinite(s.testLoss) && Number.isFinite(s.trainLoss))).toBe(true);
  });

  it("mask 'zeros' with a test set equals the mask 'zeros' fit of the data without the held-out entries, for any chunk size and forgetting", async () => {
    const A = seededSparse(20, 40, 0.35, 33);
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 40 }), fc.constantFrom(1, 0.9), async (chunkSize, forgetting) => {
      const options = { rank: 2, seed: 3, window: 2, mask: 'zeros', forgetting, buffer: 0 } as const;
      const held = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize }), { ...options, testFraction: 0.25, testSeed: 8 }).pipe(toArray()));
      const plain = await lastValueFrom(fitOnline(fromCsc(withoutHeldOut(A, 0.25, 8), { chunkSize }), options).pipe(toArray()));
      expect(same(held.at(-1)!.W, plain.at(-1)!.W) && same(held.at(-1)!.d, plain.at(-1)!.d)).toBe(true);
      expect(held.map((s) => s.trainLoss)).toEqual(plain.map((s) => s.trainLoss));
    }), { numRuns: 6, examples: [[1, 1], [40, 0.9]] });
  });

  it('typed errors: checkpoints of a masked online fit; a stream whose features grow', async () => {
    expect(() => fitOnline(fromCsc(seededSparse(5, 5, 0.5, 1)), { rank: 2, testFraction: 0.1, checkpoint: { dir: 'x' } })).toThrow(OptionError);
    const small = seededSparse(6, 4, 0.5, 2), big = seededSparse(8, 4, 0.5, 3);
    const chunks = [small, big].map((M, q) => ({ ...M, colStart: 4 * q, position: q }));
    const { from } = await import('rxjs');
    await expect(lastValueFrom(fitOnline(from(chunks), { rank: 2, testFraction: 0.1, buffer: 0 }))).rejects.toThrow(DataError);
  });
});
