/**
 * The phases of a least-squares pass on the pool (l2-pool.ts, state in l2-pool-core.ts): one chunk's H phase
 * and its statistics, the B phase's row ranges, the W phase, the end of the pass's last O(m·k) work, growing m.
 */
import type { CscChunk } from '../chunk/csc-chunk.js';
import { DataError } from '../errors.js';
import { accumulateOuter } from '../kernel/accumulate-stats.js';
import type { FinishInParallel } from '../model/l2/end-pass.js';
import { accumulateUnitRows, solveColumns, solveRows } from '../model/l2/phases.js';
import { makeUnitSums, openUnit, unitOf } from '../model/l2/units.js';
import { makeWasmBlocksL2 } from '../model/l2/wasm-blocks.js';
import {
  CHUNKV, CMD_ACCUMULATE_B, CMD_FINISH, CMD_SOLVE_H, CMD_SOLVE_W, COLSTART, GVERSION, N, NEXT, P_CROSS, P_SWEEPS, P_TOL_OUT, RANGES, SEQ,
  TIME_LAST, TIME_LOAD, TIME_SLOTS, TIME_SUMS, WARM, blockSize,
} from './l2-shared.js';
import { clock, ensureCapacity, rebind, runCommand, share, type PoolCore } from './l2-pool-core.js';
import { sharedBuffer as sab } from './shared-chunk.js';

/** Largest block of the H phase (columns) and of the W phase (rows). */
const COLUMN_BLOCK = 64;
const ROW_BLOCK = 256;

/**
 * The B phase's row ranges. Its cost is not proportional to the rows (nonzeros per row differ, the main
 * thread is slower): after each chunk each boundary moves half-way to where the last measured times, spread
 * evenly over each range, would make the threads equal.
 */
function rebalance(core: PoolCore): void {
  const { T, times, cuts, target } = core;
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
}

/** HHᵀ, hSum and ‖A‖² of the solved blocks that follow the summed ones, column by column, unit by unit (units.ts). */
function sumSolvedBlocks(core: PoolCore, chunk: { n: number; colStart: number; seq: number; size: number; blocks: number }, summed: number): number {
  const { state, k, flags, chunkBuffers: { colPtr, values } } = core;
  const { n, colStart, seq, size, blocks } = chunk;
  for (; summed < blocks && Atomics.load(flags, summed) === seq; summed++) {
    for (let j = summed * size, end = Math.min(n, j + size); j < end; j++) {
      const sums = openUnit(state, unitOf(colStart + j));
      accumulateOuter(state.H, (colStart + j) * k, k, sums.S, sums.hSum);
      let sq = 0;
      for (let p = colPtr[j]!, stop = colPtr[j + 1]!; p < stop; p++) sq += values[p]! * values[p]!;
      sums.normA2 += sq;
    }
  }
  return summed;
}

/** One chunk: the H phase (blocks of columns, statistics summed here as blocks come in), then the B phase. */
export function stepPool(core: PoolCore, chunk: CscChunk, sourceName: string): void {
  const { state, ctrl, T, k, options, nnls, chunkBuffers } = core;
  if (chunk.m !== state.m) {
    throw new DataError('SHAPE_MISMATCH', `chunk has ${chunk.m} features but the model has ${state.m}`, { source: sourceName, batch: chunk.position });
  }
  const n = chunk.n, colStart = chunk.colStart;
  const size = blockSize(n, T, COLUMN_BLOCK);
  ensureCapacity(core, chunk, Math.ceil(n / size));
  const loading = performance.now();
  if (chunkBuffers.load(chunk)) ctrl[CHUNKV] = ctrl[CHUNKV]! + 1;
  clock(core, TIME_LOAD, loading);
  const chunkVersion = ctrl[CHUNKV]!;
  const { colPtr, rowIdx, values } = chunkBuffers;
  ctrl[N] = n; ctrl[COLSTART] = colStart; ctrl[WARM] = state.iteration > 0 && state.warmStart ? 1 : 0;
  if (core.lastGram !== state.iteration) { core.lastGram = state.iteration; ctrl[GVERSION] = ctrl[GVERSION]! + 1; }
  const blocks = share(core, n, size);
  const done = { n, colStart, seq: ctrl[SEQ] = ctrl[SEQ]! + 1, size, blocks };
  const H = state.H;
  let summed = 0;
  runCommand(core, CMD_SOLVE_H, () => {
    for (let block = Atomics.add(ctrl, NEXT, 1); block < blocks; block = Atomics.add(ctrl, NEXT, 1)) {
      const j0 = block * size, j1 = Math.min(n, (block + 1) * size);
      if (core.fast) {
        core.fast.solveColumns(ctrl[GVERSION]!, state.W, state.G, state.invDiag, state.warmScale, ctrl[WARM] === 1, chunkVersion, colPtr, rowIdx, values,
          n, colStart, j0, j1, H, options.l1H, nnls.maxSweeps, nnls.tol, state.ws.counts);
      } else {
        solveColumns(state.W, state.G, state.invDiag, state.warmScale, ctrl[WARM] === 1, k,
          colPtr, rowIdx, values, colStart, j0, j1, H, state.ws, state.b, state.kernels.rhs, options.l1H, nnls);
      }
      Atomics.store(core.flags, block, done.seq);
      summed = sumSolvedBlocks(core, done, summed);
    }
  });
  const summing = performance.now();
  sumSolvedBlocks(core, done, summed); // every block is solved now
  clock(core, TIME_SUMS, summing);
  for (let t = 0; t <= T; t++) ctrl[RANGES + t] = Math.round(core.cuts[t]! * state.m);
  runCommand(core, CMD_ACCUMULATE_B, () => {
    const { Bu, last } = state.units;
    if (core.fast) core.fast.accumulateRows(chunkVersion, colPtr, rowIdx, values, n, colStart, H, state.B, Bu, last, ctrl[RANGES]!, ctrl[RANGES + 1]!);
    else accumulateUnitRows(state.kernels.rows, k, colPtr, rowIdx, values, n, colStart, H, state.B, Bu, last, ctrl[RANGES]!, ctrl[RANGES + 1]!);
  });
  rebalance(core);
  state.passNnz += chunk.colPtr[n]!;
  state.passSamples = Math.max(state.passSamples, colStart + n);
}

/** The W phase: blocks of rows claimed from the counter; `maxSweeps` for these solves (online 'fast': fewer after the warm-up). */
export function solveWPool(core: PoolCore, maxSweeps = core.options.nnlsMaxSweeps): void {
  const { ctrl, params, state, options, T, k, nnls } = core;
  params[P_SWEEPS] = maxSweeps; // the workers read it at the start of the command
  ctrl[GVERSION] = ctrl[GVERSION]! + 1;
  const m = state.m;
  const size = blockSize(m, T, ROW_BLOCK);
  const blocks = share(core, m, size);
  runCommand(core, CMD_SOLVE_W, () => {
    for (let block = Atomics.add(ctrl, NEXT, 1); block < blocks; block = Atomics.add(ctrl, NEXT, 1)) {
      const i0 = block * size, i1 = Math.min(m, (block + 1) * size);
      if (core.fast) {
        core.fast.solveRows(state.W, state.B, core.Bn, state.inv, state.hSum, state.Gw, state.invDiagW, options.l1W, i0, i1, maxSweeps, nnls.tol, state.ws.counts);
      } else {
        solveRows(state.W, state.B, core.Bn, state.inv, state.hSum, state.Gw, state.invDiagW, k, options.l1W, i0, i1, state.ws, state.b, { ...nnls, maxSweeps });
      }
    }
  });
  params[P_SWEEPS] = options.nnlsMaxSweeps;
}

/** The Gram matrix here; 1 − Pearson(W, Wprev) and the loss's cross term on workers 1 (and 2). */
export function finishPool(core: PoolCore): FinishInParallel {
  return (here) => {
    runCommand(core, CMD_FINISH, here);
    return { tol: core.params[P_TOL_OUT]!, cross: core.params[P_CROSS]! };
  };
}

/** More features (online fitting): W, B and Bn get zero rows; `state` is replaced. Workers must be ready. */
export function growPool(core: PoolCore, next: number): void {
  const { state, k, buffers } = core;
  if (next <= state.m) return;
  const grown = (buffer: SharedArrayBuffer): SharedArrayBuffer => {
    const out = sab(8 * next * k);
    new Float64Array(out).set(new Float64Array(buffer, 0, state.m * k));
    return out;
  };
  const B = grown(buffers.B);
  core.buffers = {
    ...buffers, m: next, W: grown(buffers.W), Wprev: grown(buffers.Wprev), B, Bn: core.separateBn ? sab(8 * next * k) : B,
    Bu: sab(8 * next * k), last: sab(4 * next),
  };
  const units = makeUnitSums(next, k, { Bu: new Float64Array(core.buffers.Bu), last: new Int32Array(core.buffers.last) });
  core.state = { ...state, m: next, W: new Float64Array(core.buffers.W), Wprev: new Float64Array(core.buffers.Wprev), B: new Float64Array(B), units };
  core.Bn = new Float64Array(core.buffers.Bn);
  if (core.fast) core.fast = makeWasmBlocksL2(next, k); // sized for m (the workers remake theirs at their next command)
  rebind(core);
}
