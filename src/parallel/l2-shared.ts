/**
 * The memory a least-squares fit shares with its worker threads: the model arrays (W, B, H, the
 * Gram matrices and per-component vectors) and a copy of the current chunk live in
 * SharedArrayBuffers; a small Int32 control block carries commands and an Atomics barrier.
 * Layout of the control block and the command codes are shared by l2-pool.ts and l2-worker.ts.
 * (Command 1 is unused: buffers are rebound through BUFFERS, without a command.)
 */
import type { ChunkBuffers } from './shared-chunk.js';
export { GEN, CMD, DONE, ERR } from './workers.js'; // generation, command, barrier count, failure flag
export const N = 4;         // chunk: samples
export const COLSTART = 5;  // chunk: global index of the first sample
export const WARM = 6;      // H phase: 1 = warm start
export const GVERSION = 7;  // bumped whenever G or Gw changes (workers clear their factor caches)
export const THREADS = 8;
export const NEXT = 9;      // H and W phases: the next block to claim (Atomics.add)
export const BLOCK = 10;    // H and W phases: columns / rows per block
export const BLOCKS = 11;   // H and W phases: number of blocks
export const SEQ = 12;      // H phase: the step's number, written to flags[block] when the block is solved
export const BUFFERS = 13;
export const CHUNKV = 14;   // counted up whenever the shared chunk's content changes (threads keep copies of it)  // counted up after new buffers are posted to the workers (they rebind before their next command)
export const RANGES = 16;   // RANGES + t: first row of thread t in the B phase (t = 0..THREADS)
export const CTRL_LENGTH = 16 + 65;

export const CMD_STOP = 0;
export const CMD_SOLVE_H = 2;
export const CMD_ACCUMULATE_B = 3;
export const CMD_SOLVE_W = 4;
export const CMD_FINISH = 5;

/**
 * Phase timings (performance.now(), milliseconds, summed until reset): thread t's slot
 * t·TIME_SLOTS + command holds its time in that command (commands 1–5); the main thread also
 * records its wait at the barrier after each command (TIME_WAIT + command) and its serial parts.
 */
export const TIME_SLOTS = 16;
export const TIME_WAIT = 8;       // + command (≤ 5)
export const TIME_LOAD = 6;       // copying the chunk into shared memory
export const TIME_SUMS = 7;       // HHᵀ, hSum, ‖A‖² of the blocks left after the H phase's barrier
export const TIME_END = 14;       // end of pass less the W phase: normalisation, scaling, Gram, loss, tol
export const TIME_LAST = 15;      // the thread's time in its last command (not summed)

/** Float parameters: l1H, l1W, NNLS max sweeps, NNLS tol, NNLS method, wasm; results of CMD_FINISH: tol, cross term. */
export const P_L1H = 0;
export const P_L1W = 1;
export const P_SWEEPS = 2;
export const P_TOL = 3;
export const P_METHOD = 4;
export const P_TOL_OUT = 5;
export const P_CROSS = 6;
export const P_WASM = 7;     // 1: the 'fast' solver's phases in WebAssembly (model/l2/wasm-blocks.ts)

/** The SharedArrayBuffers a worker binds to (sent again after any of them is reallocated). */
export interface SharedBuffers extends ChunkBuffers {
  readonly m: number;
  readonly k: number;
  readonly ctrl: SharedArrayBuffer;
  readonly params: SharedArrayBuffer;
  readonly counts: SharedArrayBuffer;
  /** W, Wprev, B (m×k each); G, Gw (k×k); invDiag, invDiagW, warmScale, hSum, inv, d (k each). */
  readonly W: SharedArrayBuffer;
  readonly Wprev: SharedArrayBuffer;
  readonly B: SharedArrayBuffer;
  /** The W-update's normalised B: the same buffer as B, or its own (online fitting keeps B). */
  readonly Bn: SharedArrayBuffer;
  readonly small: SharedArrayBuffer;
  readonly H: SharedArrayBuffer;
  /** model/l2/units.ts: the rows' pending unit sums of AHᵀ (Float64 m×k) and their units (Int32 m). */
  readonly Bu: SharedArrayBuffer;
  readonly last: SharedArrayBuffer;
  /** Float64, TIME_SLOTS per thread: milliseconds spent per command (TIME_* slots for the main thread's serial parts). */
  readonly times: SharedArrayBuffer;
  /** Int32 per column block of the H phase: SEQ once the block is solved. */
  readonly flags: SharedArrayBuffer;
}

/** Views of the `small` buffer, in a fixed order. */
export function smallViews(buffer: SharedArrayBuffer | ArrayBuffer, k: number) {
  const kk = k * k;
  return {
    G: new Float64Array(buffer, 0, kk),
    Gw: new Float64Array(buffer, 8 * kk, kk),
    invDiag: new Float64Array(buffer, 16 * kk, k),
    invDiagW: new Float64Array(buffer, 16 * kk + 8 * k, k),
    warmScale: new Float64Array(buffer, 16 * kk + 16 * k, k),
    hSum: new Float64Array(buffer, 16 * kk + 24 * k, k),
    inv: new Float64Array(buffer, 16 * kk + 32 * k, k),
    d: new Float64Array(buffer, 16 * kk + 40 * k, k),
  };
}

export function smallBytes(k: number): number {
  return 16 * k * k + 48 * k;
}

/**
 * Block size for work sharing over T threads: about 24 blocks per thread, so that the last block
 * claimed is a small part of a thread's work, and at most `largest` (columns or rows) per block.
 */
export function blockSize(count: number, threads: number, largest: number): number {
  return Math.max(1, Math.min(largest, Math.ceil(count / (24 * threads))));
}
