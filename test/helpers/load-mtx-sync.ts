// Test helper: a tiny synchronous Matrix Market reader (coordinate real general, 1-based) for
// the shared data sets, independent of src/ so that src readers can be tested against it.
import { readFileSync } from 'node:fs';
import type { CscMatrix } from '../../src/source/from-csc.js';

export const SHARED_DATA = new URL('../../../shared/data/', import.meta.url).pathname;

export function loadSharedMtx(name: string): CscMatrix {
  const lines = readFileSync(`${SHARED_DATA}${name}.mtx`, 'utf8').split('\n');
  let p = 0;
  while (lines[p]!.startsWith('%')) p++;
  const [m, n, nnz] = lines[p++]!.trim().split(/\s+/).map(Number) as [number, number, number];
  const rows = new Int32Array(nnz), cols = new Int32Array(nnz), vals = new Float64Array(nnz);
  for (let e = 0; e < nnz; e++) {
    const f = lines[p++]!.trim().split(/\s+/);
    rows[e] = Number(f[0]) - 1; cols[e] = Number(f[1]) - 1; vals[e] = Number(f[2]);
  }
  const colPtr = new Int32Array(n + 1);
  for (let e = 0; e < nnz; e++) colPtr[cols[e]! + 1]!++;
  for (let j = 0; j < n; j++) colPtr[j + 1] = colPtr[j + 1]! + colPtr[j]!;
  const next = colPtr.slice(0, n);
  const order = Array.from({ length: nnz }, (_, e) => e).sort((a, b) => cols[a]! - cols[b]! || rows[a]! - rows[b]!);
  const rowIdx = new Int32Array(nnz), values = new Float64Array(nnz);
  for (const e of order) { const q = next[cols[e]!]!++; rowIdx[q] = rows[e]!; values[q] = vals[e]!; }
  return { m, n, colPtr, rowIdx, values };
}
