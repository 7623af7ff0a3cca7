/**
 * Values far from 1 — whose squares overflow or underflow, or fall below the absolute floors of the
 * kernels (e.g. kernel/weighted-median.ts WEIGHT_FLOOR, kernel/nnls-cd.ts TINY) — are fitted exactly by
 * scaling the data by a power of two, which changes no digit, and dividing d by it again at the end.
 *
 * The rule, a function of the data alone (the same for any chunk size, thread count and pass): the largest
 * value v of the first sample that has a nonzero sets the scale. When v is in [2^-30, 2^100] nothing is
 * scaled (the bytes of every fit of ordinary data are unchanged); otherwise every value is multiplied by
 * 2^e, e = −2·floor(log2(v) / 2) (even), so that v becomes a number in [1, 4). W, H, the relative loss and the objective
 * are scale-free; d is divided by 2^e in every snapshot. A value that would still be above 2^480 after
 * scaling (its square, summed over 2^31 nonzeros, would overflow) is INVALID_VALUE naming the source, the
 * feature and the sample.
 *
 * Cost: one comparison per value per pass (once for an in-memory matrix); a copy of a chunk's values only
 * when the data is scaled.
 */
import { defer, map, type Observable } from 'rxjs';
import { makeCscChunk, type CscChunk } from '../chunk/csc-chunk.js';
import { canonicalChunk } from '../chunk/sum-duplicates.js';
import { DataError } from '../errors.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { CscMatrix } from '../source/from-csc.js';
import type { MatrixSource } from '../source/matrix-source.js';
import type { MemoryBudget } from '../memory-limit.js';

/** The largest scaled value accepted: 2^480 ≈ 3.1e144. */
export const MAX_SCALED_VALUE = 2 ** 480;
const LOW = 2 ** -30;
const HIGH = 2 ** 100;

/**
 * The exponent e for a first nonempty column whose largest value is `v` (0: no scaling). Even, so that
 * square roots of data sums (the l1 start's scale, update/l1-start.ts) scale exactly too.
 */
export function scaleExponent(v: number): number {
  if (v >= LOW && v <= HIGH) return 0;
  return -2 * Math.floor(Math.log2(v) / 2);
}

/** The largest finite positive value of the first nonempty column of the n columns, or 0 when all are empty. */
function firstColumnMax(colPtr: Int32Array, values: Float64Array, n: number): number {
  for (let j = 0; j < n; j++) {
    let max = 0;
    for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) if (values[p]! > max && values[p]! !== Infinity) max = values[p]!;
    if (max > 0) return max;
  }
  return 0;
}

/** The rule of the header over a stream of chunks: one per fit subscription (fit-online.ts) or per fit() call (fit.ts). */
export interface ChunkScaler {
  /** The chunk with values × 2^e (the chunk itself when e = 0); fixes e at the first nonempty column. */
  chunk(chunk: CscChunk): CscChunk;
  /** The snapshot with d in the data's own units. */
  snapshot(snapshot: Snapshot): Snapshot;
}

export function makeChunkScaler(name: string, known?: number): ChunkScaler {
  let exponent = known;
  return {
    chunk: (given) => {
      // Repeated entries of any source's chunks are summed (a no-op for the project's own sources).
      const chunk = canonicalChunk(given, name);
      if (exponent === undefined) {
        const max = firstColumnMax(chunk.colPtr, chunk.values, chunk.n);
        if (max > 0) exponent = scaleExponent(max);
      }
      return scaled(chunk, exponent ?? 0, name);
    },
    snapshot: (s) => (exponent ? { ...s, d: s.d.map((x) => x * 2 ** -exponent!) } : s),
  };
}

export interface ValueScale {
  /** The source with scaled (and range-checked) values. */
  readonly source: MatrixSource;
  /** The snapshots of a fit of `source`, with d in the data's own units. */
  unscaled(snapshots: Observable<Snapshot>): Observable<Snapshot>;
}

/** Wraps a source with the rule of the header. The exponent, once seen, is kept: it is a function of the data. */
export function makeValueScale(given: MatrixSource): ValueScale {
  const matrix = (given as { matrix?: CscMatrix }).matrix;
  const first = matrix ? firstColumnMax(matrix.colPtr, matrix.values, matrix.n) : 0;
  const exponent = matrix ? (first > 0 ? scaleExponent(first) : 0) : undefined;
  const scaler = makeChunkScaler(given.name, exponent);
  // An in-memory matrix that needs no scaling has its range checked once, not on every pass.
  let checked = false;
  const checkOnce = (): void => { if (!checked) scaled(makeCscChunk({ ...matrix!, colStart: 0 }), 0, given.name); checked = true; };
  // Getters, not copies: a file source learns its features and names as it reads (source/batch-source.ts).
  const source = {
    get name() { return given.name; },
    get rereadable() { return given.rereadable; },
    get features() { return given.features; },
    get samples() { return given.samples; },
    get featureNames() { return given.featureNames; },
    chunks: (budget?: MemoryBudget) => (matrix && exponent === 0 ? defer(() => { checkOnce(); return given.chunks(budget); }) : given.chunks(budget).pipe(map(scaler.chunk))),
  } as MatrixSource;
  // An in-memory matrix is scaled once, when the fit first asks for it (pipeline/fit.ts makeEngine).
  let inMemory: CscMatrix | undefined;
  if (matrix) Object.defineProperty(source, 'matrix', { get: () => (inMemory ??= exponent === 0 ? matrix : scaledMatrix(matrix, exponent!, given.name)) });
  return { source, unscaled: (snapshots) => snapshots.pipe(map(scaler.snapshot)) };
}

/** The chunk with values × 2^e (a copy when e ≠ 0); INVALID_VALUE for a finite value above MAX_SCALED_VALUE after scaling. */
function scaled(chunk: CscChunk, e: number, source: string): CscChunk {
  const { colPtr, rowIdx, values, n } = chunk;
  const f = 2 ** e;
  const out = e === 0 ? null : new Float64Array(colPtr[n]!);
  for (let j = 0; j < n; j++) {
    for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) {
      const v = values[p]!;
      const x = v * f;
      if (x > MAX_SCALED_VALUE && v !== Infinity) {
        throw new DataError('INVALID_VALUE', `value ${v} is above 2^480 ≈ 3.1e144${e === 0 ? '' : ` once scaled by 2^${e} (the scale of the data's first sample)`}`
          + ': its square would overflow; rescale the data', { source, feature: rowIdx[p]!, sample: chunk.colStart + j });
      }
      if (out) out[p] = x;
    }
  }
  return out ? makeCscChunk({ m: chunk.m, colStart: chunk.colStart, position: chunk.position, colPtr, rowIdx, values: out }) : chunk;
}

function scaledMatrix(matrix: CscMatrix, e: number, source: string): CscMatrix {
  const chunk = scaled(makeCscChunk({ ...matrix, colStart: 0 }), e, source);
  return { m: matrix.m, n: matrix.n, colPtr: matrix.colPtr, rowIdx: matrix.rowIdx, values: chunk.values };
}
