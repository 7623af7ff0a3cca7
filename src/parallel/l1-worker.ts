/**
 * A worker thread of the in-memory sCD (l1-pool.ts): binds the shared problem and factors, then
 * runs its share of each half-sweep — rows [t·m/T, (t+1)·m/T) of W, columns [t·n/T, (t+1)·n/T) of
 * H (writing each column's objective term to `f`) — and reports on the barrier.
 */
import { workerData } from 'node:worker_threads';
import { scdLineObjective, scdUpdateLine } from '../kernel/scd-update.js';
import { makeScdWorkspace } from '../kernel/scd-workspace.js';
import { serveCommands } from './workers.js';
import { CMD_H_HALF, CMD_W_HALF, type L1Shared } from './l1-shared.js';

const { index, shared } = workerData as { index: number; shared: L1Shared };
const { m, n, k, lambda, threads } = shared;
const ctrl = new Int32Array(shared.ctrl);
const colPtr = new Int32Array(shared.colPtr), rowIdx = new Int32Array(shared.rowIdx), values = new Float64Array(shared.values);
const rowPtr = new Int32Array(shared.rowPtr), colIdx = new Int32Array(shared.colIdx), rowValues = new Float64Array(shared.rowValues);
const W = new Float64Array(shared.W), H = new Float64Array(shared.H), allSums = new Float64Array(shared.allSums), f = new Float64Array(shared.f);
const ws = makeScdWorkspace(k, shared.maxLine);
serveCommands(ctrl, (command) => {
  ws.allSums.set(allSums);
  if (command === CMD_W_HALF) {
    const i1 = Math.floor(((index + 1) * m) / threads);
    for (let i = Math.floor((index * m) / threads); i < i1; i++) {
      scdUpdateLine(colIdx, rowValues, rowPtr[i]!, rowPtr[i + 1]!, W, i * k, H, k, lambda, ws);
    }
  } else if (command === CMD_H_HALF) {
    const j1 = Math.floor(((index + 1) * n) / threads);
    for (let j = Math.floor((index * n) / threads); j < j1; j++) {
      const start = colPtr[j]!, end = colPtr[j + 1]!;
      scdUpdateLine(rowIdx, values, start, end, H, j * k, W, k, lambda, ws);
      f[j] = scdLineObjective(values, start, end, H, j * k, k, lambda, ws);
    }
  }
});
