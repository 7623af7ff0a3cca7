/**
 * Worker threads for the least-squares fit. The pool owns the shared memory (l2-shared.ts), makes
 * the model state on it, and runs each phase of a pass (model/l2/phases.ts) with the main thread as
 * worker 0 and T − 1 worker threads, joined by an Atomics barrier:
 *   H phase — blocks of columns claimed one at a time from a shared counter (work sharing: the
 *   threads that are ahead take more);  B phase — rows of AHᵀ in one range per thread (each entry
 *   summed over columns in ascending order), the ranges moved after every chunk toward equal measured
 *   times;  W phase — blocks of rows of W claimed like the H phase's columns.
 * HHᵀ, the H row sums and ‖A‖² are summed by the main thread in column order, block by block as the
 * blocks are solved (between its own blocks; the last ones after the barrier). A column's h and a
 * row's w do not depend on which thread solves them, so every entry sees the same operations in
 * the same order as with one thread: the model is the same bytes for any thread count
 * (test/threads.test.ts).
 * Workers start once per fit and stop on `close()` (completion, error, unsubscribe); they are
 * unref'ed, so a forgotten pool cannot keep the process alive.
 */
import type { CscChunk } from '../chunk/csc-chunk.js';
import { endPassL2, type PassResult } from '../model/l2/end-pass.js';
import type { L2State } from '../model/l2/state.js';
import type { ResolvedOptions } from '../options.js';
import { CMD_SOLVE_W, TIME_END, TIME_WAIT } from './l2-shared.js';
import { clock, makePoolCore } from './l2-pool-core.js';
import { finishPool, growPool, solveWPool, stepPool } from './l2-pool-phases.js';
import { stopWorkers } from './workers.js';

export interface L2Pool {
  readonly threads: number;
  /** The model state on shared memory (a new object after `grow`). */
  readonly state: L2State;
  /** The normalised AHᵀ of the W-update, shared: B itself, or its own array for online fitting. */
  readonly Bn: Float64Array;
  /** Resolves when every worker has loaded and bound the shared memory. */
  readonly ready: Promise<void>;
  step(chunk: CscChunk, sourceName: string): void;
  endPass(): PassResult;
  /** The rows of the W-update split over the threads (model/l2/end-pass.ts `solveRowsInParallel`); `maxSweeps`
   * replaces options.nnlsMaxSweeps for these solves (online 'fast': fewer sweeps after the warm-up). */
  solveW(maxSweeps?: number): void;
  /** More features (online fitting): W, B and Bn get zero rows; `state` is replaced. Workers must be ready. */
  grow(m: number): void;
  /** NNLS counters (solves, sweeps, support hits) of all threads since the last reset. */
  counts(): Float64Array;
  resetCounts(): void;
  /** Milliseconds per thread and phase since the last reset: thread t's slots at t·TIME_SLOTS (l2-shared.ts). */
  phaseTimes(): Float64Array;
  resetPhaseTimes(): void;
  close(): void;
}

/** `separateBn`: the W-update writes the normalised AHᵀ to its own array and keeps B (online fitting). */
export function makeL2Pool(m: number, options: ResolvedOptions, threads: number, separateBn = false): L2Pool {
  const core = makePoolCore(m, options, threads, separateBn);
  const { times, counts } = core;
  const solveW = (maxSweeps?: number): void => solveWPool(core, maxSweeps);
  return {
    threads: core.T,
    get state() { return core.state; },
    get Bn() { return core.Bn; },
    ready: core.ready,
    step: (chunk, sourceName) => stepPool(core, chunk, sourceName),
    endPass: () => {
      const started = performance.now();
      const before = times[CMD_SOLVE_W]! + times[TIME_WAIT + CMD_SOLVE_W]!;
      const result = endPassL2(core.state, options, solveW, finishPool(core));
      clock(core, TIME_END, started);
      times[TIME_END] = times[TIME_END]! - (times[CMD_SOLVE_W]! + times[TIME_WAIT + CMD_SOLVE_W]! - before);
      return result;
    },
    solveW,
    grow: (next) => growPool(core, next),
    counts() {
      const total = Float64Array.from(core.state.ws.counts);
      for (let t = 1; t < core.T; t++) for (let c = 0; c < 3; c++) total[c] = total[c]! + counts[t * 3 + c]!;
      return total;
    },
    resetCounts() {
      core.state.ws.counts.fill(0);
      counts.fill(0);
    },
    phaseTimes: () => times.slice(),
    resetPhaseTimes() {
      times.fill(0);
    },
    close() {
      stopWorkers(core.ctrl, core.workers, core.ports, core.failures);
    },
  };
}
