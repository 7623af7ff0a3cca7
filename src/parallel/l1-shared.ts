/** Shared memory of the threaded sCD (l1-pool.ts, l1-worker.ts). */
import type { MaskedLines } from '../model/l1/masked-lines.js';

export const CMD_W_HALF = 1;
export const CMD_H_HALF = 2;

/** One binding: a problem and its factors (posted to the workers' ports; rank, threads and the control block are fixed per pool). */
export interface L1Shared {
  readonly m: number;
  readonly n: number;
  readonly lambda: number;
  readonly maxLine: number;
  readonly colPtr: SharedArrayBuffer;
  readonly rowIdx: SharedArrayBuffer;
  readonly values: SharedArrayBuffer;
  readonly rowPtr: SharedArrayBuffer;
  readonly colIdx: SharedArrayBuffer;
  readonly rowValues: SharedArrayBuffer;
  readonly W: SharedArrayBuffer;
  readonly H: SharedArrayBuffer;
  /** Σ over the fixed factor, per component (set by the main thread before each half-sweep). */
  readonly allSums: SharedArrayBuffer;
  /** Objective term of each column (H half-sweep), summed by the main thread in column order. */
  readonly f: SharedArrayBuffer;
  /** A masked fit (model/l1/masked-problem.ts): the masked entries by sample and by feature. */
  readonly masked?: {
    readonly colMaskPtr: SharedArrayBuffer;
    readonly colMaskIdx: SharedArrayBuffer;
    readonly rowMaskPtr: SharedArrayBuffer;
    readonly rowMaskIdx: SharedArrayBuffer;
  };
}

/** The masked lines of a binding: observed values by sample and by feature, with their masked entries. */
export function maskedLinesOf(
  shared: L1Shared, arrays: { colPtr: Int32Array; rowIdx: Int32Array; values: Float64Array; rowPtr: Int32Array; colIdx: Int32Array; rowValues: Float64Array },
): { cols: MaskedLines; rows: MaskedLines } | undefined {
  const mk = shared.masked;
  if (mk === undefined) return undefined;
  return {
    cols: { ptr: arrays.colPtr, idx: arrays.rowIdx, values: arrays.values, maskPtr: new Int32Array(mk.colMaskPtr), maskIdx: new Int32Array(mk.colMaskIdx) },
    rows: { ptr: arrays.rowPtr, idx: arrays.colIdx, values: arrays.rowValues, maskPtr: new Int32Array(mk.rowMaskPtr), maskIdx: new Int32Array(mk.rowMaskIdx) },
  };
}
