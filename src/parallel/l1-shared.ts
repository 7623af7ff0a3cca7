/** Shared memory of the threaded sCD (l1-pool.ts, l1-worker.ts). */
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
}
