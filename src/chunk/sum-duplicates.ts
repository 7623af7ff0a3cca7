/**
 * The one rule for repeated (feature, sample) entries, in every layout: they are SUMMED, as Matrix
 * Market readers do (src/source/read-mtx.ts). A column whose rows are not strictly increasing is sorted
 * by row — stably, so equal rows keep their input order — and each run of equal rows becomes one nonzero
 * holding their sum, added left to right: the same arrays, to the bit, as read-mtx.ts gives for the same
 * entries in the same order. Columns are never split between chunks, so the result does not depend on
 * the chunk size.
 *
 * Cost: one scan, O(nnz), and nothing allocated when every column is strictly increasing (the usual
 * case: a group-by or a CSC writer emits sorted rows); otherwise one copy of the arrays, and a sort of
 * each column that needs one. Chunks made by this project's converters (chunk-builder.ts, from-csc.ts) are
 * marked as done, so that the fit drivers apply the rule to other chunks (a custom source's) without a
 * second scan of theirs (`canonicalChunk`).
 */
import { checkChunk } from './check-chunk.js';
import { makeCscChunk, type CscChunk } from './csc-chunk.js';

export interface CscArrays {
  readonly colPtr: Int32Array;
  readonly rowIdx: Int32Array;
  readonly values: Float64Array;
}

/** Positions within a column that a sort key holds (2²¹); longer columns are sorted by `sortedPositions`. */
const POSITIONS = 2 ** 21;
let scratch = new Float64Array(1024);

/** A scratch array of `length` sort keys (reused: sumDuplicates is synchronous). */
function sortKeys(length: number): Float64Array {
  if (scratch.length < length) scratch = new Float64Array(Math.max(length, 2 * scratch.length));
  return scratch.subarray(0, length);
}

/** Index of the first column (< n) whose rows are not strictly increasing, or n. */
function firstUnsortedColumn(colPtr: Int32Array, rowIdx: Int32Array, n: number): number {
  for (let j = 0; j < n; j++) {
    const end = colPtr[j + 1]!;
    for (let p = colPtr[j]! + 1; p < end; p++) if (rowIdx[p]! <= rowIdx[p - 1]!) return j;
  }
  return n;
}

/**
 * `arrays` with every column sorted by row and repeated rows summed (see the header), or `null` when
 * every column of the n columns is already strictly increasing (the arrays are then used as they are).
 */
export function sumDuplicates(arrays: CscArrays, n: number): CscArrays | null {
  const { colPtr, rowIdx, values } = arrays;
  const first = firstUnsortedColumn(colPtr, rowIdx, n);
  if (first === n) return null;
  const nnz = colPtr[n]!;
  const outPtr = colPtr.slice(0, n + 1);
  const outRows = rowIdx.slice(0, nnz);
  const outValues = values.slice(0, nnz);
  let w = colPtr[first]!;
  for (let j = first; j < n; j++) {
    const start = colPtr[j]!;
    const end = colPtr[j + 1]!;
    const columnStart = w;
    let increasing = true;
    for (let p = start + 1; p < end && increasing; p++) increasing = rowIdx[p]! > rowIdx[p - 1]!;
    if (increasing) {
      for (let p = start; p < end; p++) { outRows[w] = rowIdx[p]!; outValues[w] = values[p]!; w++; }
    } else if (end - start < POSITIONS) {
      // Sort keys row·2²¹ + position (exact in a double: row < 2³¹): by row, equal rows in input order — the
      // order of a stable sort by row, by the engine's numeric sort of a typed array (no comparator calls).
      const keys = sortKeys(end - start);
      for (let p = start; p < end; p++) keys[p - start] = rowIdx[p]! * POSITIONS + (p - start);
      keys.sort();
      for (let t = 0; t < keys.length; t++) {
        const p = start + (keys[t]! % POSITIONS);
        if (w > columnStart && outRows[w - 1] === rowIdx[p]) outValues[w - 1]! += values[p]!;
        else { outRows[w] = rowIdx[p]!; outValues[w] = values[p]!; w++; }
      }
    } else {
      const order = sortedPositions(rowIdx, start, end);
      for (let t = 0; t < order.length; t++) {
        const p = order[t]!;
        if (w > columnStart && outRows[w - 1] === rowIdx[p]) outValues[w - 1]! += values[p]!;
        else { outRows[w] = rowIdx[p]!; outValues[w] = values[p]!; w++; }
      }
    }
    outPtr[j + 1] = w;
  }
  return { colPtr: outPtr, rowIdx: outRows.subarray(0, w), values: outValues.subarray(0, w) };
}

const canonical = new WeakSet<CscChunk>();

/** Marks a chunk whose columns are known to be strictly increasing (made by this module's rule); returns it. */
export function markCanonical(chunk: CscChunk): CscChunk {
  canonical.add(chunk);
  return chunk;
}

/**
 * The chunk with the rule of the header applied: itself when marked or found strictly increasing, else a
 * new chunk. An unmarked chunk is validated first (check-chunk.ts), so that bad arrays are reported as such.
 */
export function canonicalChunk(chunk: CscChunk, sourceName: string): CscChunk {
  if (canonical.has(chunk)) return chunk;
  checkChunk(chunk, sourceName);
  const summed = sumDuplicates(chunk, chunk.n);
  return markCanonical(summed ? makeCscChunk({ m: chunk.m, colStart: chunk.colStart, position: chunk.position, ...summed }) : chunk);
}

/** Positions start..end−1 ordered by row, equal rows in input order (Array.prototype.sort is stable). */
function sortedPositions(rowIdx: Int32Array, start: number, end: number): number[] {
  const order: number[] = [];
  let sorted = true;
  for (let p = start; p < end; p++) {
    if (p > start && rowIdx[p]! <= rowIdx[p - 1]!) sorted = false;
    order.push(p);
  }
  return sorted ? order : order.sort((a, b) => rowIdx[a]! - rowIdx[b]! || a - b);
}
