/**
 * A chunk of a masked weighted L1 fit split by the mask (issue #15; docs/architecture.md, Masks and held-out
 * entries): per sample, its observed positive values (the sCD line), the rows left out of the fit (NaN entries,
 * held-out stored entries, held-out zeros: model/l2/masked-column.ts, the least-squares fit's own rule) and the
 * held-out entries with their weights (the test set). A pure function of the chunk's samples and their global
 * indices, so any chunking — and the feature-major copy, which stores the masked entries as NaN — gives the same
 * split. Columns are put in canonical form first (rows ascending, duplicates summed), as the unmasked fit's problem is.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import type { ResolvedMask } from '../../options.js';
import { makeColumnSplit, splitColumn } from '../l2/masked-column.js';

/** Held-out entries in sample order: rows, columns (indices into H), values (0 for zeros) and weights. */
export interface L1TestList {
  rows: Int32Array;
  cols: Int32Array;
  values: Float64Array;
  weights: Float64Array;
  n: number;
}

export interface L1MaskedChunk {
  /** The observed positive values, canonical (rows strictly ascending), with the chunk's colStart. */
  readonly observed: CscChunk;
  /** Rows left out of the fit, per sample: maskRows[maskPtr[j] .. maskPtr[j + 1]). */
  readonly maskPtr: Int32Array;
  readonly maskRows: Int32Array;
  /** The held-out entries (cols: global sample indices). */
  readonly test: L1TestList;
  /** Entries fitted (zeros counted when they are data): the train loss's denominator. */
  readonly observedCount: number;
}

export function emptyTestList(capacity = 64): L1TestList {
  return { rows: new Int32Array(capacity), cols: new Int32Array(capacity), values: new Float64Array(capacity), weights: new Float64Array(capacity), n: 0 };
}

/** Appends an entry, growing the list ×2 when full. */
export function pushTest(t: L1TestList, row: number, col: number, value: number, weight: number): void {
  if (t.n === t.rows.length) {
    const cap = Math.max(64, t.n * 2);
    const rows = new Int32Array(cap), cols = new Int32Array(cap), values = new Float64Array(cap), weights = new Float64Array(cap);
    rows.set(t.rows); cols.set(t.cols); values.set(t.values); weights.set(t.weights);
    t.rows = rows; t.cols = cols; t.values = values; t.weights = weights;
  }
  t.rows[t.n] = row; t.cols[t.n] = col; t.values[t.n] = value; t.weights[t.n] = weight; t.n++;
}

/** The chunk with each column's rows strictly ascending and duplicates summed (itself when it already is). */
export function canonicalColumns(chunk: CscChunk): CscChunk {
  const { n, colPtr, rowIdx, values } = chunk;
  let sorted = true;
  for (let j = 0; j < n && sorted; j++) for (let p = colPtr[j]! + 1; p < colPtr[j + 1]!; p++) if (rowIdx[p]! <= rowIdx[p - 1]!) { sorted = false; break; }
  if (sorted) return chunk;
  const nnz = colPtr[n]!, outPtr = new Int32Array(n + 1), outIdx = new Int32Array(nnz), outVal = new Float64Array(nnz);
  let q = 0;
  for (let j = 0; j < n; j++) {
    const order = Array.from({ length: colPtr[j + 1]! - colPtr[j]! }, (_, t) => colPtr[j]! + t).sort((a, b) => rowIdx[a]! - rowIdx[b]!);
    const first = q;
    for (const p of order) {
      if (q > first && outIdx[q - 1] === rowIdx[p]) outVal[q - 1] = outVal[q - 1]! + values[p]!;
      else { outIdx[q] = rowIdx[p]!; outVal[q] = values[p]!; q++; }
    }
    outPtr[j + 1] = q;
  }
  return { ...chunk, colPtr: outPtr, rowIdx: outIdx, values: outVal };
}

/** Splits a chunk of an m-feature matrix by the mask (see the header). O(nnz + held-out zeros). */
export function splitL1Chunk(input: CscChunk, mask: ResolvedMask): L1MaskedChunk {
  const chunk = canonicalColumns(input);
  const { m, n, colPtr, rowIdx, values, colStart } = chunk;
  const nnz = colPtr[n]!;
  const s = makeColumnSplit();
  const obsPtr = new Int32Array(n + 1), maskPtr = new Int32Array(n + 1);
  let obsIdx = new Int32Array(nnz), obsVal = new Float64Array(nnz), maskRows = new Int32Array(Math.max(16, nnz >> 2));
  const test = emptyTestList();
  let o = 0, q = 0, observedCount = 0;
  for (let j = 0; j < n; j++) {
    splitColumn(s, mask, m, colStart + j, rowIdx, values, colPtr[j]!, colPtr[j + 1]!);
    for (let t = 0; t < s.nObs; t++) {
      if (!(s.obsValues[t]! > 0)) continue; // an observed zero: the zero breakpoint holds it
      obsIdx[o] = s.obsRows[t]!; obsVal[o] = s.obsValues[t]!; o++;
    }
    if (q + s.nMasked > maskRows.length) { const grown = new Int32Array(Math.max(q + s.nMasked, maskRows.length * 2)); grown.set(maskRows); maskRows = grown; }
    maskRows.set(s.maskedRows.subarray(0, s.nMasked), q);
    q += s.nMasked;
    for (let t = 0; t < s.nTest; t++) pushTest(test, s.testRows[t]!, colStart + j, s.testValues[t]!, s.testWeights[t]!);
    observedCount += s.observed;
    obsPtr[j + 1] = o; maskPtr[j + 1] = q;
  }
  obsIdx = obsIdx.subarray(0, o); obsVal = obsVal.subarray(0, o);
  const observed: CscChunk = { ...chunk, colPtr: obsPtr, rowIdx: obsIdx, values: obsVal };
  return { observed, maskPtr, maskRows: maskRows.subarray(0, q), test, observedCount };
}

/** The observed values and the masked entries (value NaN) of a split chunk, for the feature-major copy. */
export function withMaskedAsNaN(split: L1MaskedChunk): CscChunk {
  const { observed, maskPtr, maskRows } = split;
  const n = observed.n, total = observed.colPtr[n]! + maskPtr[n]!;
  const colPtr = new Int32Array(n + 1), rowIdx = new Int32Array(total), values = new Float64Array(total);
  let q = 0;
  for (let j = 0; j < n; j++) {
    for (let p = observed.colPtr[j]!; p < observed.colPtr[j + 1]!; p++) { rowIdx[q] = observed.rowIdx[p]!; values[q++] = observed.values[p]!; }
    for (let p = maskPtr[j]!; p < maskPtr[j + 1]!; p++) { rowIdx[q] = maskRows[p]!; values[q++] = NaN; }
    colPtr[j + 1] = q;
  }
  return { ...observed, colPtr, rowIdx, values };
}

/** The chunk without stored zeros (the in-memory problem drops them too: λ weighs only true zeros). */
export function withoutZeros(chunk: CscChunk): CscChunk {
  const nnz = chunk.colPtr[chunk.n]!;
  let zeros = 0;
  for (let p = 0; p < nnz; p++) if (chunk.values[p] === 0) zeros++;
  if (zeros === 0) return chunk;
  const colPtr = new Int32Array(chunk.n + 1), rowIdx = new Int32Array(nnz - zeros), values = new Float64Array(nnz - zeros);
  let q = 0;
  for (let j = 0; j < chunk.n; j++) {
    for (let p = chunk.colPtr[j]!; p < chunk.colPtr[j + 1]!; p++) {
      if (chunk.values[p] === 0) continue;
      rowIdx[q] = chunk.rowIdx[p]!;
      values[q++] = chunk.values[p]!;
    }
    colPtr[j + 1] = q;
  }
  return { ...chunk, colPtr, rowIdx, values };
}
