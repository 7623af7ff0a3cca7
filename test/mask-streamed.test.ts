import { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { makeCscChunk, type CscChunk } from '../src/chunk/csc-chunk.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromCsc, splitColumns, type CscMatrix } from '../src/source/from-csc.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** A streamed source (no in-memory matrix, shape unknown up front): every pass emits fresh copies of the chunks. */
function streamed(A: CscMatrix, chunkSize: number): MatrixSource {
  return {
    name: 'streamed', rereadable: true,
    chunks: () => new Observable<CscChunk>((subscriber) => {
      for (const c of splitColumns(A, chunkSize)) {
        const nnz = c.colPtr[c.n]!, p0 = A.colPtr[c.colStart]!;
        subscriber.next(makeCscChunk({
          m: c.m, colStart: c.colStart, colPtr: c.colPtr.slice(), position: c.position,
          rowIdx: A.rowIdx.slice(p0, p0 + nnz), values: A.values.slice(p0, p0 + nnz),
        }));
      }
      subscriber.complete();
    }),
  };
}

describe('masked fits out of core (issue #15)', () => {
  it('a streamed source gives the bytes of the in-memory matrix, for mask zeros and each treatment of zeros', async () => {
    const A = loadSharedMtx('movielens');
    for (const extra of [{ mask: 'zeros' }, { testZeros: 'sampled' }, { testZeros: 'none' }] as const) {
      const options = { rank: 5, seed: 2, testFraction: 0.05, maxIterations: 3, tol: 0, ...extra };
      const memory = await fitModel(fromCsc(A), options);
      const stream = await fitModel(streamed(A, 97), options);
      expect(same(stream.W, memory.W) && same(stream.d, memory.d)).toBe(true);
      expect(stream.trace.map((t) => [t.trainLoss, t.testLoss])).toEqual(memory.trace.map((t) => [t.trainLoss, t.testLoss]));
    }
  });
});
