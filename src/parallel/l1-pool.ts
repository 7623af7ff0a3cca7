/**
 * Threads for the sCD: workers start when the pool is made; `bind` copies a problem (CSC and the
 * transposed index) and W, H into SharedArrayBuffers and posts them to the workers, which take the
 * latest binding before their next command — the in-memory fit binds once, online l1 once per chunk
 * (its window). Each iteration runs the W half-sweep on row ranges and the H half-sweep on column
 * ranges (rows of W are independent given H, columns of H given W), with Σ over the fixed factor
 * computed here between the two, and the objective summed here in column order — so the iterates and
 * objective are the same bytes for any thread count. `iterate` needs the workers ready (`ready`).
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { scdLineObjective, scdUpdateLine } from '../kernel/scd-update.js';
import { ensureScdWorkspace, makeScdWorkspace } from '../kernel/scd-workspace.js';
import type { L1Problem } from '../model/l1/problem.js';
import type { L1Runner } from '../model/l1/engine.js';
import { factorSums } from '../model/l1/iteration.js';
import { CMD_H_HALF, CMD_W_HALF, maskedLinesOf, type L1Shared } from './l1-shared.js';
import { maskedSweep, type MaskedLines } from '../model/l1/masked-lines.js';
import type { MaskedL1Problem } from '../model/l1/masked-problem.js';
import type { ScdWorkspace } from '../kernel/scd-workspace.js';
import { sharedBuffer } from './shared-chunk.js';
import { runOnAll, startWorkers, stopWorkers } from './workers.js';

export function makeL1Pool(threads: number, k: number): L1Runner {
  const ctrlBuffer = sharedBuffer(64);
  const ctrl = new Int32Array(ctrlBuffer);
  const ports: MessagePort[] = [];
  const url = new URL(import.meta.url.endsWith('.ts') ? './l1-worker.ts' : './l1-worker.js', import.meta.url);
  const pool = startWorkers(url, threads, (index) => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1);
    return { workerData: { index, threads, k, ctrl: ctrlBuffer, port: port2 }, transferList: [port2] };
  });
  const ws = makeScdWorkspace(k, 16);
  let iterate: (() => number) | undefined;
  return {
    threads,
    ready: pool.ready,
    bind(problem: L1Problem, W0: Float64Array, H0: Float64Array, masked?: MaskedL1Problem) {
      const { m, n } = problem;
      const copy = <T extends Int32Array | Float64Array>(a: T): SharedArrayBuffer => {
        const buffer = sharedBuffer(a.byteLength);
        new (a.constructor as new (b: SharedArrayBuffer) => T)(buffer).set(a);
        return buffer;
      };
      const shared: L1Shared = {
        m, n, lambda: problem.lambda, maxLine: problem.maxLine,
        colPtr: copy(problem.colPtr), rowIdx: copy(problem.rowIdx.subarray(0, problem.nnz)),
        values: copy(problem.values.subarray(0, problem.nnz)), rowPtr: copy(problem.rowPtr), colIdx: copy(problem.colIdx),
        rowValues: copy(problem.rowValues), W: copy(W0), H: copy(H0), allSums: sharedBuffer(8 * k), f: sharedBuffer(8 * n),
        ...(masked === undefined ? {} : { masked: {
          colMaskPtr: copy(masked.cols.maskPtr), colMaskIdx: copy(masked.cols.maskIdx), rowMaskPtr: copy(masked.rows.maskPtr), rowMaskIdx: copy(masked.rows.maskIdx),
        } }),
      };
      for (const port of ports) port.postMessage(shared);
      ensureScdWorkspace(ws, k, problem.maxLine);
      const W = new Float64Array(shared.W), H = new Float64Array(shared.H);
      const allSums = new Float64Array(shared.allSums), f = new Float64Array(shared.f);
      const { rowPtr, colIdx, rowValues, colPtr, rowIdx, values, lambda } = problem;
      const lines = maskedLinesOf(shared, problem);
      if (lines !== undefined) {
        iterate = () => iterateMasked(lines, m, n, threads, ctrl, pool.failures, W, H, k, lambda, ws, allSums, f);
        return { W, H };
      }
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
      return { W, H };
    },
    iterate: () => iterate!(),
    close: () => stopWorkers(ctrl, pool.workers, ports, pool.failures),
  };
}

/** One masked iteration on the threads (the calling thread takes the first range): masked-problem.ts scdIterationMasked's sums. */
function iterateMasked(
  lines: { cols: MaskedLines; rows: MaskedLines }, m: number, n: number, threads: number, ctrl: Int32Array, failures: Parameters<typeof runOnAll>[4],
  W: Float64Array, H: Float64Array, k: number, lambda: number, ws: ScdWorkspace, allSums: Float64Array, f: Float64Array,
): number {
  factorSums(H, n, k, allSums);
  runOnAll(ctrl, threads, CMD_W_HALF, () => { maskedSweep(lines.rows, 0, Math.floor(m / threads), 0, W, H, k, lambda, ws, allSums); }, failures);
  factorSums(W, m, k, allSums);
  runOnAll(ctrl, threads, CMD_H_HALF, () => { maskedSweep(lines.cols, 0, Math.floor(n / threads), 0, H, W, k, lambda, ws, allSums, f); }, failures);
  let total = 0;
  for (let j = 0; j < n; j++) total += f[j]!;
  return total;
}
