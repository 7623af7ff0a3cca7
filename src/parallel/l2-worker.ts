/**
 * A worker thread of the least-squares fit: waits on the shared control block, runs its share of
 * a phase (l2-phases.ts) on the shared arrays, reports on the barrier. Its range: columns
 * [RANGES+t, RANGES+t+1) in the H phase; rows [t·m/T, (t+1)·m/T) in the B and W phases.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { clearFactorCache } from '../kernel/nnls-support.js';
import { makeNnlsWorkspace } from '../kernel/nnls-workspace.js';
import { rankKernels } from '../kernel/rank-kernels.js';
import { solveColumns, solveRows, type NnlsSettings } from '../update/l2-phases.js';
import {
  CMD_ACCUMULATE_B, CMD_REBIND, CMD_SOLVE_H, CMD_SOLVE_W, COLSTART, GVERSION, N,
  P_L1H, P_L1W, P_METHOD, P_SWEEPS, P_TOL, RANGES, THREADS, WARM, smallViews, type SharedBuffers,
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
let W = new Float64Array(shared.W), B = new Float64Array(shared.B), Bn = new Float64Array(shared.Bn), H = new Float64Array(shared.H);
let small = smallViews(shared.small, k);
let { colPtr, rowIdx, values } = chunkViews(shared);
const ws = makeNnlsWorkspace(k);
const b = new Float64Array(k);
const { rhs, rows } = rankKernels(k);
let seenVersion = -1;
serveCommands(ctrl, (command) => {
  if (command === CMD_REBIND) {
    shared = receiveMessageOnPort(port)!.message as SharedBuffers;
    m = shared.m;
    W = new Float64Array(shared.W); B = new Float64Array(shared.B); Bn = new Float64Array(shared.Bn); H = new Float64Array(shared.H);
    small = smallViews(shared.small, k);
    ({ colPtr, rowIdx, values } = chunkViews(shared));
  } else {
    if (ctrl[GVERSION] !== seenVersion) { seenVersion = ctrl[GVERSION]!; clearFactorCache(ws.cache); }
    const threads = ctrl[THREADS]!;
    const nnls: NnlsSettings = { maxSweeps: params[P_SWEEPS]!, tol: params[P_TOL]!, method: params[P_METHOD]! };
    ws.counts.fill(0);
    if (command === CMD_SOLVE_H) {
      solveColumns(W, small.G, small.invDiag, small.warmScale, ctrl[WARM] === 1, k, colPtr, rowIdx, values, ctrl[COLSTART]!,
        ctrl[RANGES + index]!, ctrl[RANGES + index + 1]!, H, ws, b, rhs, params[P_L1H]!, nnls);
    } else if (command === CMD_ACCUMULATE_B) {
      rows(k, colPtr, rowIdx, values, ctrl[N]!, ctrl[COLSTART]!, H, B,
        Math.floor((index * m) / threads), Math.floor(((index + 1) * m) / threads));
    } else if (command === CMD_SOLVE_W) {
      solveRows(W, B, Bn, small.inv, small.hSum, small.Gw, small.invDiagW, k, params[P_L1W]!,
        Math.floor((index * m) / threads), Math.floor(((index + 1) * m) / threads), ws, b, nnls);
    }
    for (let c = 0; c < 3; c++) counts[index * 3 + c] = counts[index * 3 + c]! + ws.counts[c]!;
  }
});
