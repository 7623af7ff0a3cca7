/** The COO triplets of a Matrix Market file (mtx-parser.ts) → a CscMatrix. */
import type { CscMatrix } from './from-csc.js';

/** COO → CSC: stable counting sorts by row then column, then duplicates summed in file order. */
export function toCsc(m: number, n: number, rows: Int32Array, cols: Int32Array, vals: Float64Array, len: number, sorted: boolean): CscMatrix {
  const colPtr = new Int32Array(n + 1);
  for (let k = 0; k < len; k++) colPtr[cols[k]! + 1]!++;
  for (let j = 0; j < n; j++) colPtr[j + 1]! += colPtr[j]!;
  if (sorted) return { m, n, colPtr, rowIdx: rows.slice(0, len), values: vals.slice(0, len) };
  const rowNext = new Int32Array(m + 1);
  for (let k = 0; k < len; k++) rowNext[rows[k]! + 1]!++;
  for (let i = 0; i < m; i++) rowNext[i + 1]! += rowNext[i]!;
  const byRow = new Int32Array(len);
  for (let k = 0; k < len; k++) byRow[rowNext[rows[k]!]!++] = k;
  const next = colPtr.slice(0, n);
  let rowIdx = new Int32Array(len);
  let values = new Float64Array(len);
  for (let t = 0; t < len; t++) {
    const k = byRow[t]!;
    const q = next[cols[k]!]!++;
    rowIdx[q] = rows[k]!; values[q] = vals[k]!;
  }
  let w = 0;
  for (let j = 0, start = 0; j < n; j++) {
    const end = colPtr[j + 1]!;
    const first = w;
    for (let q = start; q < end; q++) {
      if (w > first && rowIdx[w - 1] === rowIdx[q]) values[w - 1]! += values[q]!;
      else { rowIdx[w] = rowIdx[q]!; values[w] = values[q]!; w++; }
    }
    colPtr[j + 1] = w;
    start = end;
  }
  if (w < len) { rowIdx = rowIdx.slice(0, w); values = values.slice(0, w); }
  return { m, n, colPtr, rowIdx, values };
}
