/**
 * In-memory sources: a whole CSC matrix (or a dense array) served as chunks of `chunkSize`
 * columns. Chunks are zero-copy views of the caller's arrays where the storage allows it.
 * The matrix is validated once, when the source is made; a bad matrix throws a DataError.
 * Rows need not be sorted within a column; repeated (feature, sample) entries are summed, the rule of
 * every layout (chunk/sum-duplicates.ts), in a copy of the arrays (the caller's are never written).
 */
import { Observable } from 'rxjs';
import { checkChunk } from '../chunk/check-chunk.js';
import { makeCscChunk, type CscChunk } from '../chunk/csc-chunk.js';
import { markCanonical, sumDuplicates } from '../chunk/sum-duplicates.js';
import type { CscMatrix } from '../chunk/csc-matrix.js';
import { DataError, OptionError } from '../errors.js';
import type { MatrixSource } from './matrix-source.js';
import { validate } from '../options/validate.js';

export type { CscMatrix } from '../chunk/csc-matrix.js';

export interface InMemoryOptions {
  /** Samples per chunk (default: all of them in one chunk). */
  readonly chunkSize?: number;
  /** Name used in error messages (default "in-memory CSC"). */
  readonly name?: string;
  /** Feature names, length m. */
  readonly featureNames?: readonly string[];
  /** 'nan': NaN values are missing entries (fit them with `missing: 'nan'` too); default 'error'. */
  readonly missing?: 'error' | 'nan';
  /** Sample names, length n: they name H's columns in the final snapshot (`sampleNames`) and in H files. */
  readonly sampleNames?: readonly string[];
}

/**
 * An in-memory source over a whole CSC matrix (features × samples), served as chunks of `chunkSize` columns.
 * The matrix is checked here, when the source is made: a bad matrix (or names of the wrong count) throws a
 * DataError (OptionError) synchronously, not on the error channel — it is the caller's own array.
 */
export function fromCsc(given: CscMatrix, options: InMemoryOptions = {}): MatrixSource & { readonly matrix: CscMatrix } {
  const v = validate('csc', options);
  const name = v.name as string;
  const chunkSize = (v.chunkSize as number | undefined) ?? Math.max(1, given.n);
  if (options.featureNames && options.featureNames.length !== given.m) {
    throw new OptionError('featureNames', `${given.m} names (one per feature)`, `${options.featureNames.length} names`);
  }
  if (options.sampleNames && options.sampleNames.length !== given.n) {
    throw new OptionError('sampleNames', `${given.n} names (one per sample)`, `${options.sampleNames.length} names`);
  }
  checkChunk(makeCscChunk({ ...given, colStart: 0 }), name, v.missing === 'nan');
  // Repeated (feature, sample) entries are summed, as in every file layout (chunk/sum-duplicates.ts).
  const summed = sumDuplicates(given, given.n);
  const matrix: CscMatrix = summed ? { m: given.m, n: given.n, ...summed } : given;
  const chunks = splitColumns(matrix, chunkSize).map(markCanonical);
  return {
    name,
    rereadable: true,
    features: matrix.m,
    samples: matrix.n,
    matrix,
    ...(options.featureNames ? { featureNames: options.featureNames } : {}),
    ...(options.sampleNames ? { sampleNames: options.sampleNames } : {}),
    chunks: () => new Observable<CscChunk>((subscriber) => {
      for (let c = 0; c < chunks.length && !subscriber.closed; c++) subscriber.next(chunks[c]!);
      subscriber.complete();
    }),
  };
}

/** Dense column-major (`layout: 'col'`, default) or row-major m×n array → in-memory source (checked when made, like fromCsc: a bad value throws). */
export function fromDense(
  data: ArrayLike<number>, m: number, n: number,
  options: InMemoryOptions & { readonly layout?: 'col' | 'row' } = {},
): MatrixSource & { readonly matrix: CscMatrix } {
  const { layout, ...inMemory } = validate('dense', options);
  if (!Number.isInteger(m) || m < 1) throw new OptionError('m', 'an integer ≥ 1', m);
  if (!Number.isInteger(n) || n < 1) throw new OptionError('n', 'an integer ≥ 1', n);
  if (data.length !== m * n) throw new OptionError('data', `an array of m·n = ${m * n} numbers`, `${data.length} numbers`);
  const rowMajor = layout === 'row';
  const name = options.name ?? 'in-memory dense';
  const colPtr = new Int32Array(n + 1);
  let nnz = 0;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      const v = data[rowMajor ? i * n + j : j * m + i]!;
      if ((!(v >= 0) || v === Infinity) && !(options.missing === 'nan' && Number.isNaN(v))) {
        throw new DataError('INVALID_VALUE', `value ${v} is not finite and nonnegative`, { source: name, feature: i, sample: j });
      }
      if (v !== 0) nnz++;
    }
    colPtr[j + 1] = nnz;
  }
  const rowIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let p = 0;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      const v = data[rowMajor ? i * n + j : j * m + i]!;
      if (v !== 0) { rowIdx[p] = i; values[p] = v; p++; }
    }
  }
  return fromCsc({ m, n, colPtr, rowIdx, values }, { ...withoutUndefined(inMemory), name });
}

/** The options that were given (validate's result has every row, undefined where not given). */
const withoutUndefined = (values: Record<string, unknown>): InMemoryOptions =>
  Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as InMemoryOptions;

/** Views of `chunkSize` columns each; colPtr is rebased to 0 (the only copy, n + 1 integers). */
export function splitColumns(matrix: CscMatrix, chunkSize: number): CscChunk[] {
  const out: CscChunk[] = [];
  for (let start = 0, position = 0; start < matrix.n || (start === 0 && matrix.n === 0); start += chunkSize, position++) {
    const end = Math.min(matrix.n, start + chunkSize);
    const base = matrix.colPtr[start]!;
    const colPtr = new Int32Array(end - start + 1);
    for (let j = start; j <= end; j++) colPtr[j - start] = matrix.colPtr[j]! - base;
    const nnz = matrix.colPtr[end]! - base;
    out.push(makeCscChunk({
      m: matrix.m, colStart: start, colPtr, position,
      rowIdx: matrix.rowIdx.subarray(base, base + nnz),
      values: matrix.values.subarray(base, base + nnz),
    }));
    if (matrix.n === 0) break;
  }
  return out;
}
