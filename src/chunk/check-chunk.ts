/**
 * Validation at the boundary: a chunk that passes can be fed to the kernels without further checks.
 * Checks shape, monotone colPtr, row indices in [0, m), values finite and ≥ 0. O(nnz), no allocation
 * (a chunk marked by `markChecked` was checked in the thread that made it).
 */
import { DataError } from '../errors.js';
import type { CscChunk } from './csc-chunk.js';

/** Chunks checked elsewhere, and whether NaN values (missing entries) were let through there. */
const checked = new WeakMap<CscChunk, boolean>();

/**
 * Marks a chunk that has passed this check elsewhere (a reader's worker thread checks the chunks it makes, and
 * the main thread rebuilds them around the same arrays): checkChunk then returns at once, unless NaN was let
 * through there (`nanMissing`) and is not here. Returns the chunk.
 */
export function markChecked(chunk: CscChunk, nanMissing = false): CscChunk {
  checked.set(chunk, nanMissing);
  return chunk;
}

/**
 * Checks a chunk's structure and values (colPtr, row indices, finite nonnegative values); throws a DataError naming
 * `sourceName`, the chunk and the sample. `nanMissing` (the fit's `missing: 'nan'`): a NaN value is a missing entry, not an error.
 */
export function checkChunk(chunk: CscChunk, sourceName: string, nanMissing = false): void {
  const before = checked.get(chunk);
  if (before === false || (before === true && nanMissing)) return;
  const { m, n, colPtr, rowIdx, values, colStart } = chunk;
  const where = { source: sourceName, batch: chunk.position };
  if (!Number.isInteger(m) || m < 1) {
    throw new DataError('MALFORMED_CHUNK', `chunk has ${m} features; expected an integer ≥ 1`, where);
  }
  if (!Number.isInteger(colStart) || colStart < 0) {
    throw new DataError('MALFORMED_CHUNK', `chunk colStart is ${colStart}; expected an integer ≥ 0`, where);
  }
  if (colPtr.length !== n + 1 || colPtr[0] !== 0) {
    throw new DataError('MALFORMED_CHUNK', `colPtr must have length n + 1 = ${n + 1} and start at 0`, where);
  }
  const nnz = colPtr[n] ?? 0;
  if (rowIdx.length < nnz || values.length < nnz) {
    throw new DataError('MALFORMED_CHUNK', `colPtr says ${nnz} nonzeros but rowIdx has ${rowIdx.length} and values ${values.length}`, where);
  }
  for (let j = 0; j < n; j++) {
    const start = colPtr[j]!;
    const end = colPtr[j + 1]!;
    if (end < start) {
      throw new DataError('MALFORMED_CHUNK', `colPtr decreases at column ${j}`, { ...where, sample: colStart + j });
    }
    for (let p = start; p < end; p++) {
      const i = rowIdx[p]!;
      if (i < 0 || i >= m) {
        throw new DataError('INDEX_OUT_OF_RANGE', `feature index ${i} is outside [0, ${m})`,
          { ...where, feature: i, sample: colStart + j });
      }
      const v = values[p]!;
      if ((!(v >= 0) || v === Infinity) && !(nanMissing && Number.isNaN(v))) {
        throw new DataError('INVALID_VALUE', `value ${v} is not finite and nonnegative${Number.isNaN(v) ? " (a missing entry? fit with missing: 'nan')" : ''}`,
          { ...where, feature: i, sample: colStart + j });
      }
    }
  }
}
