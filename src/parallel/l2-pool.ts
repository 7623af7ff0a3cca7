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
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { DataError } from '../errors.js';
import { makeSharedChunk, sharedBuffer } from './shared-chunk.js';
import { runOnAll, startWorkers, stopWorkers } from './workers.js';
import { accumulateOuter } from '../kernel/accumulate-stats.js';
import { makeRandom } from '../kernel/random.js';
import type { ResolvedOptions } from '../options.js';
import { endPassL2, type FinishInParallel, type PassResult } from '../model/l2/end-pass.js';
import { accumulateUnitRows, solveColumns, solveRows, type NnlsSettings } from '../model/l2/phases.js';
import { makeUnitSums, openUnit, unitOf } from '../model/l2/units.js';
import { makeL2State, type L2State } from '../model/l2/state.js';
import { makeWasmBlocksL2 } from '../model/l2/wasm-blocks.js';
import { NNLS_CD_WARM } from '../kernel/nnls-solve.js';
import {
  BLOCK, BLOCKS, BUFFERS, CHUNKV, CMD_ACCUMULATE_B, CMD_FINISH, CMD_SOLVE_H, CMD_SOLVE_W, COLSTART, CTRL_LENGTH, GVERSION, N, NEXT,
  P_CROSS, P_L1H, P_L1W, P_METHOD, P_SWEEPS, P_TOL, P_TOL_OUT, P_WASM, RANGES, SEQ, THREADS, TIME_END, TIME_LAST, TIME_LOAD, TIME_SLOTS, TIME_SUMS, TIME_WAIT, WARM,
  blockSize, smallBytes, smallViews, type SharedBuffers,
} from './l2-shared.js';

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

const MAX_THREADS = 64;
/** Largest block of the H phase (columns) and of the W phase (rows). */
const COLUMN_BLOCK = 64;
const ROW_BLOCK = 256;

/** `separateBn`: the W-update writes the normalised AHᵀ to its own array and keeps B (online fitting). */
export function makeL2Pool(m: number, options: ResolvedOptions, threads: number, separateBn = false): L2Pool {
  const k = options.rank;
  const T = Math.min(threads, MAX_THREADS);
  const sab = sharedBuffer;
  const chunkBuffers = makeSharedChunk();
  const B0 = sab(8 * m * k);
  let buffers: SharedBuffers = {
    m, k, ctrl: sab(4 * CTRL_LENGTH), params: sab(8 * 8), counts: sab(8 * 3 * T), times: sab(8 * TIME_SLOTS * T),
    W: sab(8 * m * k), Wprev: sab(8 * m * k), B: B0, Bn: separateBn ? sab(8 * m * k) : B0, small: sab(smallBytes(k)), H: sab(8 * 1024 * k),
    Bu: sab(8 * m * k), last: sab(4 * m),
    flags: sab(4 * 1024), ...chunkBuffers.buffers,
  };
  // Workers first: they load and warm up while this thread makes the state (and warms up its kernels).
  const ports: MessagePort[] = [];
  const url = new URL(import.meta.url.endsWith('.ts') ? './l2-worker.ts' : './l2-worker.js', import.meta.url);
  const { workers, failures, ready } = startWorkers(url, T, (t) => {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(buffers);
    ports.push(port1);
    return { workerData: { index: t, port: port2 }, transferList: [port2] };
  });
  let flags = new Int32Array(buffers.flags);
  const ctrl = new Int32Array(buffers.ctrl);
  const params = new Float64Array(buffers.params);
  const counts = new Float64Array(buffers.counts);
  const times = new Float64Array(buffers.times);
  const clock = (slot: number, since: number): void => { times[slot] = times[slot]! + performance.now() - since; };
  const small = smallViews(buffers.small, k);
  // The 'fast' solver (batch and online): every thread runs its share of the phases in WebAssembly, this one too.
  let fast = options.nnlsMethod === NNLS_CD_WARM && options.wasm ? makeWasmBlocksL2(m, k) : undefined;
  let state = makeL2State(m, options, makeRandom(options.seed), {
    W: new Float64Array(buffers.W), Wprev: new Float64Array(buffers.Wprev), B: new Float64Array(buffers.B), H: new Float64Array(buffers.H), ...small,
    Bu: new Float64Array(buffers.Bu), last: new Int32Array(buffers.last),
  }, { warmUp: fast === undefined });
  let Bn = new Float64Array(buffers.Bn);
  params[P_L1H] = options.l1H; params[P_L1W] = options.l1W;
  params[P_SWEEPS] = options.nnlsMaxSweeps; params[P_TOL] = options.nnlsTol; params[P_METHOD] = options.nnlsMethod;
  ctrl[THREADS] = T;
  const nnls: NnlsSettings = { maxSweeps: options.nnlsMaxSweeps, tol: options.nnlsTol, method: options.nnlsMethod };
  params[P_WASM] = fast === undefined ? 0 : 1;


  /** Run one command on every worker and the main thread's share; wait at the barrier. */
  const run = (command: number, mainShare: () => void): void => {
    const started = performance.now();
    let shared = started;
    runOnAll(ctrl, T, command, () => {
      mainShare();
      shared = performance.now();
      clock(command, started);
      times[TIME_LAST] = shared - started;
    }, failures);
    clock(TIME_WAIT + command, shared);
  };
  /**
   * New buffers for the workers: posted, then BUFFERS counted up; each worker binds them at the start
   * of its next command. No barrier, so a worker still warming up does not hold this thread back.
   */
  const rebind = (): void => {
    buffers = { ...buffers };
    for (const port of ports) port.postMessage(buffers);
    Atomics.add(ctrl, BUFFERS, 1);
  };
  const ensureCapacity = (chunk: CscChunk, blocks: number): void => {
    let changed = false;
    if (flags.length < blocks) {
      buffers = { ...buffers, flags: sab(4 * Math.max(blocks, flags.length * 2)) };
      flags = new Int32Array(buffers.flags);
      changed = true;
    }
    const needH = (chunk.colStart + chunk.n) * k * 8;
    // H is replaced by a larger shared one when it is too small, and also when it is not the shared
    // one any more (resuming from a checkpoint sets state.H to an ordinary array).
    if (state.H.byteLength < needH || state.H.buffer !== buffers.H) {
      const next = sab(Math.max(needH, state.H.byteLength * 2));
      const view = new Float64Array(next);
      view.set(state.H);
      state.H = view;
      buffers = { ...buffers, H: next };
      changed = true;
    }
    if (chunkBuffers.reserve(chunk)) { buffers = { ...buffers, ...chunkBuffers.buffers }; changed = true; }
    if (changed) rebind();
  };
  let lastGram = -1;
  const ws = state.ws;
  const b = state.b;

  // The B phase's row ranges as fractions of m. Its cost is not proportional to the rows (nonzeros
  // per row differ, the main thread is slower): after each chunk each boundary moves half-way to
  // where the last measured times, spread evenly over each range, would make the threads equal.
  const cuts = Float64Array.from({ length: T + 1 }, (_, t) => t / T);
  const target = new Float64Array(T + 1);
  const rebalance = (): void => {
    let total = 0;
    for (let t = 0; t < T; t++) total += times[t * TIME_SLOTS + TIME_LAST]!;
    if (!(total > 0.5)) return; // too short to tell noise from cost
    for (let s = 1, t = 0, before = 0; s < T; s++) {
      const goal = (total * s) / T;
      let spent = times[t * TIME_SLOTS + TIME_LAST]!;
      while (before + spent < goal && t < T - 1) { before += spent; t++; spent = times[t * TIME_SLOTS + TIME_LAST]!; }
      target[s] = cuts[t]! + (spent > 0 ? Math.min(1, (goal - before) / spent) : 0) * (cuts[t + 1]! - cuts[t]!);
    }
    for (let s = 1; s < T; s++) cuts[s] = 0.5 * cuts[s]! + 0.5 * target[s]!;
  };
  /** Blocks of `size` out of `count` columns or rows: the counter at 0, the sizes in the control block. */
  const share = (count: number, size: number): number => {
    const blocks = Math.ceil(count / size);
    ctrl[BLOCK] = size;
    ctrl[BLOCKS] = blocks;
    Atomics.store(ctrl, NEXT, 0);
    return blocks;
  };
  const solveW = (maxSweeps = options.nnlsMaxSweeps): void => {
    params[P_SWEEPS] = maxSweeps; // the workers read it at the start of the command
    ctrl[GVERSION] = ctrl[GVERSION]! + 1;
    const m = state.m;
    const size = blockSize(m, T, ROW_BLOCK);
    const blocks = share(m, size);
    run(CMD_SOLVE_W, () => {
      for (let block = Atomics.add(ctrl, NEXT, 1); block < blocks; block = Atomics.add(ctrl, NEXT, 1)) {
        const i0 = block * size, i1 = Math.min(m, (block + 1) * size);
        if (fast) fast.solveRows(state.W, state.B, Bn, state.inv, state.hSum, state.Gw, state.invDiagW, options.l1W, i0, i1, maxSweeps, nnls.tol, ws.counts);
        else solveRows(state.W, state.B, Bn, state.inv, state.hSum, state.Gw, state.invDiagW, k, options.l1W, i0, i1, ws, b, { ...nnls, maxSweeps });
      }
    });
    params[P_SWEEPS] = options.nnlsMaxSweeps;
  };

  /** The Gram matrix here; 1 − Pearson(W, Wprev) and the loss's cross term on workers 1 (and 2). */
  const finish: FinishInParallel = (here) => {
    run(CMD_FINISH, here);
    return { tol: params[P_TOL_OUT]!, cross: params[P_CROSS]! };
  };

  return {
    threads: T,
    get state() { return state; },
    get Bn() { return Bn; },
    ready,
    step(chunk, sourceName) {
      const m = state.m;
      if (chunk.m !== m) {
        throw new DataError('SHAPE_MISMATCH', `chunk has ${chunk.m} features but the model has ${m}`, { source: sourceName, batch: chunk.position });
      }
      const n = chunk.n;
      const size = blockSize(n, T, COLUMN_BLOCK);
      ensureCapacity(chunk, Math.ceil(n / size));
      const nnz = chunk.colPtr[n]!;
      const loading = performance.now();
      if (chunkBuffers.load(chunk)) ctrl[CHUNKV] = ctrl[CHUNKV]! + 1;
      clock(TIME_LOAD, loading);
      const chunkVersion = ctrl[CHUNKV]!;
      const { colPtr, rowIdx, values } = chunkBuffers;
      const colStart = chunk.colStart;
      ctrl[N] = n; ctrl[COLSTART] = colStart; ctrl[WARM] = state.iteration > 0 && state.warmStart ? 1 : 0;
      if (lastGram !== state.iteration) { lastGram = state.iteration; ctrl[GVERSION] = ctrl[GVERSION]! + 1; }
      const blocks = share(n, size);
      const seq = ctrl[SEQ] = ctrl[SEQ]! + 1;
      const H = state.H;
      // HHᵀ, hSum and ‖A‖² of the chunk, in column order: the solved blocks that follow the summed ones.
      let summed = 0;
      const sumSolved = (): void => {
        for (; summed < blocks && Atomics.load(flags, summed) === seq; summed++) {
          for (let j = summed * size, end = Math.min(n, j + size); j < end; j++) {
            // unit by unit (model/l2/units.ts): each unit's sums from zero, added to the totals in unit order
            const sums = openUnit(state, unitOf(colStart + j));
            accumulateOuter(H, (colStart + j) * k, k, sums.S, sums.hSum);
            let sq = 0;
            for (let p = colPtr[j]!, stop = colPtr[j + 1]!; p < stop; p++) sq += values[p]! * values[p]!;
            sums.normA2 += sq;
          }
        }
      };
      run(CMD_SOLVE_H, () => {
        for (let block = Atomics.add(ctrl, NEXT, 1); block < blocks; block = Atomics.add(ctrl, NEXT, 1)) {
          const j0 = block * size, j1 = Math.min(n, (block + 1) * size);
          if (fast) {
            fast.solveColumns(ctrl[GVERSION]!, state.W, state.G, state.invDiag, state.warmScale, ctrl[WARM] === 1, chunkVersion, colPtr, rowIdx, values,
              n, colStart, j0, j1, H, options.l1H, nnls.maxSweeps, nnls.tol, ws.counts);
          } else {
            solveColumns(state.W, state.G, state.invDiag, state.warmScale, ctrl[WARM] === 1, k,
              colPtr, rowIdx, values, colStart, j0, j1, H, ws, b, state.kernels.rhs, options.l1H, nnls);
          }
          Atomics.store(flags, block, seq);
          sumSolved();
        }
      });
      const summing = performance.now();
      sumSolved(); // every block is solved now
      clock(TIME_SUMS, summing);
      for (let t = 0; t <= T; t++) ctrl[RANGES + t] = Math.round(cuts[t]! * m);
      run(CMD_ACCUMULATE_B, () => {
        if (fast) fast.accumulateRows(chunkVersion, colPtr, rowIdx, values, n, colStart, H, state.B, state.units.Bu, state.units.last, ctrl[RANGES]!, ctrl[RANGES + 1]!);
        else accumulateUnitRows(state.kernels.rows, k, colPtr, rowIdx, values, n, colStart, H, state.B, state.units.Bu, state.units.last, ctrl[RANGES]!, ctrl[RANGES + 1]!);
      });
      rebalance();
      state.passNnz += nnz;
      state.passSamples = Math.max(state.passSamples, chunk.colStart + n);
    },
    endPass: () => {
      const started = performance.now();
      const before = times[CMD_SOLVE_W]! + times[TIME_WAIT + CMD_SOLVE_W]!;
      const result = endPassL2(state, options, solveW, finish);
      clock(TIME_END, started);
      times[TIME_END] = times[TIME_END]! - (times[CMD_SOLVE_W]! + times[TIME_WAIT + CMD_SOLVE_W]! - before);
      return result;
    },
    solveW,
    grow(next) {
      if (next <= state.m) return;
      const grown = (buffer: SharedArrayBuffer): SharedArrayBuffer => {
        const out = sab(8 * next * k);
        new Float64Array(out).set(new Float64Array(buffer, 0, state.m * k));
        return out;
      };
      const B = grown(buffers.B);
      buffers = { ...buffers, m: next, W: grown(buffers.W), Wprev: grown(buffers.Wprev), B, Bn: separateBn ? sab(8 * next * k) : B, Bu: sab(8 * next * k), last: sab(4 * next) };
      const units = makeUnitSums(next, k, { Bu: new Float64Array(buffers.Bu), last: new Int32Array(buffers.last) });
      state = { ...state, m: next, W: new Float64Array(buffers.W), Wprev: new Float64Array(buffers.Wprev), B: new Float64Array(B), units };
      Bn = new Float64Array(buffers.Bn);
      if (fast) fast = makeWasmBlocksL2(next, k); // sized for m (the workers remake theirs at their next command)
      rebind();
    },
    counts() {
      const total = Float64Array.from(ws.counts);
      for (let t = 1; t < T; t++) for (let c = 0; c < 3; c++) total[c] = total[c]! + counts[t * 3 + c]!;
      return total;
    },
    resetCounts() {
      ws.counts.fill(0);
      counts.fill(0);
    },
    phaseTimes: () => times.slice(),
    resetPhaseTimes() {
      times.fill(0);
    },
    close() {
      stopWorkers(ctrl, workers, ports, failures);
    },
  };
}
