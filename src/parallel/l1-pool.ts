/**
 * Threads for the in-memory sCD: the problem (CSC and the transposed index) and W, H are copied once
 * into SharedArrayBuffers; each iteration runs the W half-sweep on row ranges and the H half-sweep
 * on column ranges (rows of W are independent given H, columns of H given W), with Σ over the fixed
 * factor computed here between the two, and the objective summed here in column order — so the
 * iterates and objective are the same bytes for any thread count.
 */
import type { MessagePort } from 'node:worker_threads';
import { scdLineObjective, scdUpdateLine } from '../kernel/scd-update.js';
import { makeScdWorkspace } from '../kernel/scd-workspace.js';
import type { L1Problem } from '../update/l1-problem.js';
import type { L1Runner } from '../update/l1-engine.js';
import { factorSums } from '../update/scd-iteration.js';
import { CMD_H_HALF, CMD_W_HALF, type L1Shared } from './l1-shared.js';
import { runOnAll, startWorkers, stopWorkers } from './workers.js';

export function makeL1Pool(threads: number): L1Runner {
  let close = (): void => undefined;
  let iterate: (() => number) | undefined;
  let ready: Promise<void> = Promise.resolve();
  return {
    threads,
    bind(problem: L1Problem, W0: Float64Array, H0: Float64Array, k: number) {
      const { m, n } = problem;
      const copy = <T extends Int32Array | Float64Array>(a: T): SharedArrayBuffer => {
        const buffer = new SharedArrayBuffer(Math.max(8, a.byteLength));
        new (a.constructor as new (b: SharedArrayBuffer) => T)(buffer).set(a);
        return buffer;
      };
      const shared: L1Shared = {
        m, n, k, lambda: problem.lambda, threads, maxLine: problem.maxLine,
        ctrl: new SharedArrayBuffer(64), colPtr: copy(problem.colPtr), rowIdx: copy(problem.rowIdx.subarray(0, problem.nnz)),
        values: copy(problem.values.subarray(0, problem.nnz)), rowPtr: copy(problem.rowPtr), colIdx: copy(problem.colIdx),
        rowValues: copy(problem.rowValues), W: copy(W0), H: copy(H0), allSums: new SharedArrayBuffer(8 * k), f: new SharedArrayBuffer(Math.max(8, 8 * n)),
      };
      const ctrl = new Int32Array(shared.ctrl);
      const W = new Float64Array(shared.W), H = new Float64Array(shared.H);
      const allSums = new Float64Array(shared.allSums), f = new Float64Array(shared.f);
      const ws = makeScdWorkspace(k, problem.maxLine);
      const ports: MessagePort[] = [];
      const url = new URL(import.meta.url.endsWith('.ts') ? './l1-worker.ts' : './l1-worker.js', import.meta.url);
      const pool = startWorkers(url, threads, (index) => ({ workerData: { index, shared }, transferList: [] }));
      ready = pool.ready;
      const { rowPtr, colIdx, rowValues, colPtr, rowIdx, values, lambda } = problem;
      iterate = () => {
        factorSums(H, n, k, allSums);
        runOnAll(ctrl, threads, CMD_W_HALF, () => {
          ws.allSums.set(allSums);
          for (let i = 0, i1 = Math.floor(m / threads); i < i1; i++) scdUpdateLine(colIdx, rowValues, rowPtr[i]!, rowPtr[i + 1]!, W, i * k, H, k, lambda, ws);
        }, pool.failures);
        factorSums(W, m, k, allSums);
        runOnAll(ctrl, threads, CMD_H_HALF, () => {
          ws.allSums.set(allSums);
          for (let j = 0, j1 = Math.floor(n / threads); j < j1; j++) {
            const start = colPtr[j]!, end = colPtr[j + 1]!;
            scdUpdateLine(rowIdx, values, start, end, H, j * k, W, k, lambda, ws);
            f[j] = scdLineObjective(values, start, end, H, j * k, k, lambda, ws);
          }
        }, pool.failures);
        let total = 0;
        for (let j = 0; j < n; j++) total += f[j]!;
        return total;
      };
      close = () => stopWorkers(ctrl, pool.workers, ports, pool.failures);
      return { W, H };
    },
    get ready() { return ready; },
    iterate: () => iterate!(),
    close: () => close(),
  };
}
