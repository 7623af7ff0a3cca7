/** Shared memory of the threaded in-memory sCD (l1-pool.ts, l1-worker.ts). */
export const CMD_W_HALF = 1;
export const CMD_H_HALF = 2;

export interface L1Shared {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly lambda: number;
  readonly threads: number;
  readonly maxLine: number;
  readonly ctrl: SharedArrayBuffer;
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
