/**
 * A worker thread of the least-squares fit: waits on the shared control block, runs its share of
 * a phase (model/l2/phases.ts) on the shared arrays, reports on the barrier. Its share: the blocks of
 * columns (H phase) or rows (W phase) it claims from the shared counter, marking each solved column
 * block in `flags`; its row range [RANGES+t, RANGES+t+1) in the B phase. New buffers (posted by the pool,
 * counted in BUFFERS) are bound before the next command.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { crossTerm } from '../kernel/gram-loss.js';
import { clearFactorCache } from '../kernel/nnls-support.js';
import { pearsonTol } from '../kernel/pearson.js';
import { makeNnlsWorkspace } from '../kernel/nnls-workspace.js';
import { rankKernels } from '../kernel/rank-kernels.js';
import { warmUpL2 } from '../model/warm-up.js';
import { accumulateUnitRows, solveColumns, solveRows, type NnlsSettings } from '../model/l2/phases.js';
import { makeWasmBlocksL2, type WasmBlocksL2 } from '../model/l2/wasm-blocks.js';
import {
  BLOCK, BLOCKS, BUFFERS, CHUNKV, CMD_ACCUMULATE_B, CMD_FINISH, CMD_SOLVE_H, CMD_SOLVE_W, COLSTART, GVERSION, N, NEXT,
  P_CROSS, P_L1H, P_L1W, P_METHOD, P_SWEEPS, P_TOL, P_TOL_OUT, P_WASM, RANGES, SEQ, THREADS, TIME_LAST, TIME_SLOTS, WARM, smallViews, type SharedBuffers,
} from './l2-shared.js';
import { chunkViews } from './shared-chunk.js';
import { serveCommands } from './workers.js';

const { index, port } = workerData as { index: number; port: MessagePort };
let shared = (receiveMessageOnPort(port)!.message as SharedBuffers);
const { k } = shared;
let { m } = shared;
const ctrl = new Int32Array(shared.ctrl);
const params = new Float64Array(shared.params);
const counts = new Float64Array(shared.counts);
const times = new Float64Array(shared.times);
let W = new Float64Array(shared.W), Wprev = new Float64Array(shared.Wprev), B = new Float64Array(shared.B), Bn = new Float64Array(shared.Bn), H = new Float64Array(shared.H);
let Bu = new Float64Array(shared.Bu), last = new Int32Array(shared.last);
let flags = new Int32Array(shared.flags);
let small = smallViews(shared.small, k);
let { colPtr, rowIdx, values } = chunkViews(shared);
const ws = makeNnlsWorkspace(k);
const b = new Float64Array(k);
const { rhs, rows } = rankKernels(k);
let seenVersion = -1;
let bound = 0;
/** The 'fast' solver's phases in WebAssembly (params[P_WASM] = 1), made at the first command that needs them. */
let fast: WasmBlocksL2 | undefined;
let fastM = -1;
const fastBlocks = (): WasmBlocksL2 | undefined => {
  if (params[P_WASM] !== 1) return undefined;
  if (fastM !== m) { fast = makeWasmBlocksL2(m, k); fastM = m; }
  return fast;
};
// After reporting ready: the kernels optimised, as on the main thread (makeL2State). Not the phase
// loops too (model/warm-up.ts with phases): that took long enough that the main thread solved pass 1's H phase
// alone and then waited (pass 1 with 2 threads, synthetic: 101–143 ms with the kernels only, 145–197 with both).
const warmUp = (): void => warmUpL2(k, { phases: false });
serveCommands(ctrl, (command) => {
  // Buffers replaced since the last command: the pool posted them before counting BUFFERS up, so they
  // are on the port now; the last one posted is the current one.
  if (Atomics.load(ctrl, BUFFERS) !== bound) {
    bound = Atomics.load(ctrl, BUFFERS);
    for (let got = receiveMessageOnPort(port); got; got = receiveMessageOnPort(port)) shared = got.message as SharedBuffers;
    m = shared.m;
    W = new Float64Array(shared.W); Wprev = new Float64Array(shared.Wprev); B = new Float64Array(shared.B); Bn = new Float64Array(shared.Bn); H = new Float64Array(shared.H);
    Bu = new Float64Array(shared.Bu); last = new Int32Array(shared.last);
    flags = new Int32Array(shared.flags);
    small = smallViews(shared.small, k);
    ({ colPtr, rowIdx, values } = chunkViews(shared));
  }
  if (ctrl[GVERSION] !== seenVersion) { seenVersion = ctrl[GVERSION]!; clearFactorCache(ws.cache); }
  const nnls: NnlsSettings = { maxSweeps: params[P_SWEEPS]!, tol: params[P_TOL]!, method: params[P_METHOD]! };
  ws.counts.fill(0);
  const started = performance.now();
  const size = ctrl[BLOCK]!, blocks = ctrl[BLOCKS]!;
  if (command === CMD_SOLVE_H) {
    const n = ctrl[N]!, seq = ctrl[SEQ]!, warm = ctrl[WARM] === 1, colStart = ctrl[COLSTART]!;
    const wasm = fastBlocks();
    for (let block = Atomics.add(ctrl, NEXT, 1); block < blocks; block = Atomics.add(ctrl, NEXT, 1)) {
      const j0 = block * size, j1 = Math.min(n, (block + 1) * size);
      if (wasm) {
        wasm.solveColumns(ctrl[GVERSION]!, W, small.G, small.invDiag, small.warmScale, warm, ctrl[CHUNKV]!, colPtr, rowIdx, values, n, colStart, j0, j1, H,
          params[P_L1H]!, nnls.maxSweeps, nnls.tol, ws.counts);
      } else {
        solveColumns(W, small.G, small.invDiag, small.warmScale, warm, k, colPtr, rowIdx, values, colStart, j0, j1, H, ws, b, rhs, params[P_L1H]!, nnls);
      }
      Atomics.store(flags, block, seq);
    }
  } else if (command === CMD_ACCUMULATE_B) {
    const wasm = fastBlocks();
    const i0 = ctrl[RANGES + index]!, i1 = ctrl[RANGES + index + 1]!;
    if (wasm) wasm.accumulateRows(ctrl[CHUNKV]!, colPtr, rowIdx, values, ctrl[N]!, ctrl[COLSTART]!, H, B, Bu, last, i0, i1);
    else accumulateUnitRows(rows, k, colPtr, rowIdx, values, ctrl[N]!, ctrl[COLSTART]!, H, B, Bu, last, i0, i1);
  } else if (command === CMD_FINISH) {
    // worker 1: the tol (and the cross term with two threads); worker 2: the cross term
    const threads = ctrl[THREADS]!;
    if (index === 1) params[P_TOL_OUT] = pearsonTol(W, Wprev, m * k);
    if (index === (threads > 2 ? 2 : 1)) params[P_CROSS] = crossTerm(W, m, k, small.d, Bn);
  } else if (command === CMD_SOLVE_W) {
    const wasm = fastBlocks();
    for (let block = Atomics.add(ctrl, NEXT, 1); block < blocks; block = Atomics.add(ctrl, NEXT, 1)) {
      const i0 = block * size, i1 = Math.min(m, (block + 1) * size);
      if (wasm) wasm.solveRows(W, B, Bn, small.inv, small.hSum, small.Gw, small.invDiagW, params[P_L1W]!, i0, i1, nnls.maxSweeps, nnls.tol, ws.counts);
      else solveRows(W, B, Bn, small.inv, small.hSum, small.Gw, small.invDiagW, k, params[P_L1W]!, i0, i1, ws, b, nnls);
    }
  }
  const elapsed = performance.now() - started;
  times[index * TIME_SLOTS + command] = times[index * TIME_SLOTS + command]! + elapsed;
  times[index * TIME_SLOTS + TIME_LAST] = elapsed;
  for (let c = 0; c < 3; c++) counts[index * 3 + c] = counts[index * 3 + c]! + ws.counts[c]!;
}, warmUp);
