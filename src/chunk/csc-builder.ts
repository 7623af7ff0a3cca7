/**
 * Concatenates consecutive chunks into one in-memory CSC matrix (for algorithms that need the
 * whole matrix, such as the in-memory sCD). Arrays grow geometrically; chunks must arrive in
 * column order with no gaps (empty samples are chunks' empty columns).
 */
import { DataError } from '../errors.js';
import type { CscMatrix } from './csc-matrix.js';
import type { CscChunk } from './csc-chunk.js';

export interface CscBuilder {
  append(chunk: CscChunk, sourceName: string): void;
  finish(): CscMatrix;
}

export function makeCscBuilder(m: number): CscBuilder {
  let colPtr = new Int32Array(1025);
  let rowIdx = new Int32Array(4096);
  let values = new Float64Array(4096);
  let n = 0;
  let nnz = 0;
  return {
    append(chunk, sourceName) {
      if (chunk.colStart !== n) {
        throw new DataError('UNSORTED_INPUT', `chunk starts at sample ${chunk.colStart}, expected ${n}`, { source: sourceName, batch: chunk.position });
      }
      const add = chunk.colPtr[chunk.n]!;
      if (n + chunk.n + 1 > colPtr.length) colPtr = grow(colPtr, n + chunk.n + 1);
      if (nnz + add > rowIdx.length) { rowIdx = grow(rowIdx, nnz + add); values = grow(values, nnz + add); }
      for (let j = 1; j <= chunk.n; j++) colPtr[n + j] = nnz + chunk.colPtr[j]!;
      rowIdx.set(chunk.rowIdx.subarray(0, add), nnz);
      values.set(chunk.values.subarray(0, add), nnz);
      n += chunk.n;
      nnz += add;
    },
    finish: () => ({ m, n, colPtr: colPtr.slice(0, n + 1), rowIdx: rowIdx.slice(0, nnz), values: values.slice(0, nnz) }),
  };
}

function grow<T extends Int32Array | Float64Array>(a: T, need: number): T {
  const next = new (a.constructor as new (len: number) => T)(Math.max(need, a.length * 2));
  next.set(a);
  return next;
}
