/** The transpose of a CSC matrix (n × m), by one counting sort: rows ascending within each column stay ascending. */
import type { CscMatrix } from './csc-matrix.js';

export function transposeCsc(a: CscMatrix): CscMatrix {
  const nnz = a.colPtr[a.n]!;
  const colPtr = new Int32Array(a.m + 1);
  for (let p = 0; p < nnz; p++) colPtr[a.rowIdx[p]! + 1]!++;
  for (let i = 0; i < a.m; i++) colPtr[i + 1]! += colPtr[i]!;
  const next = colPtr.slice(0, a.m);
  const rowIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  for (let j = 0; j < a.n; j++) {
    for (let p = a.colPtr[j]!; p < a.colPtr[j + 1]!; p++) {
      const q = next[a.rowIdx[p]!]!++;
      rowIdx[q] = j;
      values[q] = a.values[p]!;
    }
  }
  return { m: a.n, n: a.m, colPtr, rowIdx, values };
}
