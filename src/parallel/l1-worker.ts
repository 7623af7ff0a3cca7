/**
 * A worker thread of the sCD (l1-pool.ts): takes the latest problem and factors posted on its port
 * (a new binding arrives before the command that uses it), then runs its share of each half-sweep —
 * rows [t·m/T, (t+1)·m/T) of W, columns [t·n/T, (t+1)·n/T) of H (writing each column's objective
 * term to `f`) — and reports on the barrier.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { scdLineObjective, scdUpdateLine } from '../kernel/scd-update.js';
import { ensureScdWorkspace, makeScdWorkspace } from '../kernel/scd-workspace.js';
import { serveCommands } from './workers.js';
import { CMD_H_HALF, CMD_W_HALF, maskedLinesOf, type L1Shared } from './l1-shared.js';
import { maskedSweep } from '../model/l1/masked-lines.js';

const { index, threads, k, ctrl: ctrlBuffer, port } = workerData as { index: number; threads: number; k: number; ctrl: SharedArrayBuffer; port: MessagePort };
const ctrl = new Int32Array(ctrlBuffer);
const ws = makeScdWorkspace(k, 16);
let bound: ReturnType<typeof bind> | undefined;

function bind(shared: L1Shared) {
  ensureScdWorkspace(ws, k, shared.maxLine);
  const arrays = {
    colPtr: new Int32Array(shared.colPtr), rowIdx: new Int32Array(shared.rowIdx), values: new Float64Array(shared.values),
    rowPtr: new Int32Array(shared.rowPtr), colIdx: new Int32Array(shared.colIdx), rowValues: new Float64Array(shared.rowValues),
  };
  return {
    m: shared.m, n: shared.n, lambda: shared.lambda, ...arrays, masked: maskedLinesOf(shared, arrays),
    W: new Float64Array(shared.W), H: new Float64Array(shared.H), allSums: new Float64Array(shared.allSums), f: new Float64Array(shared.f),
  };
}

serveCommands(ctrl, (command) => {
  for (let got = receiveMessageOnPort(port); got; got = receiveMessageOnPort(port)) bound = bind(got.message as L1Shared);
  const p = bound!;
  ws.allSums.set(p.allSums);
  if (p.masked !== undefined) {
    // a masked fit (model/l1/masked-lines.ts): the zero breakpoint per line from the fixed factor's sums in p.allSums
    if (command === CMD_W_HALF) maskedSweep(p.masked.rows, Math.floor((index * p.m) / threads), Math.floor(((index + 1) * p.m) / threads), 0, p.W, p.H, k, p.lambda, ws, p.allSums);
    else if (command === CMD_H_HALF) maskedSweep(p.masked.cols, Math.floor((index * p.n) / threads), Math.floor(((index + 1) * p.n) / threads), 0, p.H, p.W, k, p.lambda, ws, p.allSums, p.f);
    return;
  }
  if (command === CMD_W_HALF) {
    const i1 = Math.floor(((index + 1) * p.m) / threads);
    for (let i = Math.floor((index * p.m) / threads); i < i1; i++) {
      scdUpdateLine(p.colIdx, p.rowValues, p.rowPtr[i]!, p.rowPtr[i + 1]!, p.W, i * k, p.H, k, p.lambda, ws);
    }
  } else if (command === CMD_H_HALF) {
    const j1 = Math.floor(((index + 1) * p.n) / threads);
    for (let j = Math.floor((index * p.n) / threads); j < j1; j++) {
      const start = p.colPtr[j]!, end = p.colPtr[j + 1]!;
      scdUpdateLine(p.rowIdx, p.values, start, end, p.H, j * k, p.W, k, p.lambda, ws);
      p.f[j] = scdLineObjective(p.values, start, end, p.H, j * k, k, p.lambda, ws);
    }
  }
});
