/**
 * A data chunk with the entries of a mask made missing (issue #15, `maskSource`): every entry the mask stores
 * becomes a NaN entry of the data — the value of a stored data entry is replaced, an absent one is added — so the
 * chunk is the one the same data with NaN at those places gives, and the masked engine (model/l2/masked-column.ts)
 * leaves them out as it does with `missing: 'nan'`. Columns are merged by row (both sorted: data and mask chunks
 * go through sum-duplicates.ts first), so the result is canonical. The mask's chunks may be cut anywhere: the
 * caller passes those that overlap the data chunk's samples. Cost O(data nonzeros + mask entries) of the chunk.
 */
import { DataError } from '../errors.js';
import { checkChunk } from './check-chunk.js';
import { makeCscChunk, type CscChunk } from './csc-chunk.js';
import { markCanonical, sumDuplicates, type CscArrays } from './sum-duplicates.js';

/** The chunk's arrays with every column strictly increasing (duplicates summed). */
const sorted = (c: CscChunk): CscArrays => sumDuplicates(c, c.n) ?? c;

/**
 * Checks a chunk of the mask source `maskName` against the data's m (SHAPE_MISMATCH naming the option) and its
 * structure (check-chunk.ts); returns it with sorted columns.
 */
export function checkMaskChunk(mask: CscChunk, m: number, maskName: string): CscChunk {
  if (mask.m !== m) {
    throw new DataError('SHAPE_MISMATCH', `maskSource: the mask has ${mask.m} features but the data ${m}`, { source: maskName, batch: mask.position });
  }
  checkChunk(mask, maskName);
  return makeCscChunk({ m, colStart: mask.colStart, position: mask.position, ...sorted(mask) });
}

/** `data` (checked) with the entries of `masks` (checked, sorted; in column order, overlapping its samples) as NaN. */
export function applyMask(data: CscChunk, masks: readonly CscChunk[]): CscChunk {
  const d = sorted(data);
  const c0 = data.colStart, n = data.n;
  let extra = 0;
  for (const k of masks) {
    const from = Math.max(0, c0 - k.colStart), to = Math.min(k.n, c0 + n - k.colStart);
    if (to > from) extra += k.colPtr[to]! - k.colPtr[from]!;
  }
  if (extra === 0) return data;
  const nnz = d.colPtr[n]!;
  const colPtr = new Int32Array(n + 1), rowIdx = new Int32Array(nnz + extra), values = new Float64Array(nnz + extra);
  let w = 0, q = 0;
  for (let j = 0; j < n; j++) {
    const g = c0 + j;
    while (q < masks.length && masks[q]!.colStart + masks[q]!.n <= g) q++;
    const k = masks[q];
    let a = d.colPtr[j]!, b = 0, bEnd = 0;
    const aEnd = d.colPtr[j + 1]!;
    if (k !== undefined && k.colStart <= g) { b = k.colPtr[g - k.colStart]!; bEnd = k.colPtr[g - k.colStart + 1]!; }
    while (a < aEnd || b < bEnd) {
      const ra = a < aEnd ? d.rowIdx[a]! : Infinity, rb = b < bEnd ? k!.rowIdx[b]! : Infinity;
      if (rb <= ra) {
        rowIdx[w] = rb; values[w++] = Number.NaN; b++;
        if (ra === rb) a++;
      } else {
        rowIdx[w] = ra; values[w++] = d.values[a]!; a++;
      }
    }
    colPtr[j + 1] = w;
  }
  return markCanonical(makeCscChunk({ m: data.m, colStart: c0, position: data.position, colPtr, rowIdx: rowIdx.subarray(0, w), values: values.subarray(0, w) }));
}
