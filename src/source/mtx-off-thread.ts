/** The main thread's side of mtx-thread.ts: readMtx in the decoder's worker. */
import { stat } from 'node:fs/promises';
import type { MemoryBudget } from '../memory-limit.js';
import { rebuildError } from './convert-thread.js';
import type { CscMatrix } from './from-csc.js';
import type { MtxReply } from './mtx-thread.js';
import { DecoderWorker } from './parquet-worker.js';
import { readMtx, type ReadMtxOptions } from './read-mtx.js';

/**
 * Files below this size are read on the main thread: starting the decoder's worker (compiling parquet-wasm, seconds on a
 * loaded machine) costs more than parsing them. Arrow IPC files use the same threshold (from-arrow.ts).
 */
export const WORKER_MIN_BYTES = 8 * 2 ** 20;

/**
 * readMtx in the decoder's worker (same arrays, same errors) for files of at least `minBytes`; on this thread for
 * smaller ones, and when the budget cannot cross.
 */
export async function readMtxOffThread(path: string, options: ReadMtxOptions = {}, minBytes = WORKER_MIN_BYTES): Promise<CscMatrix> {
  const budget: MemoryBudget | undefined = options.budget;
  if (budget && !budget.costs) return readMtx(path, options);
  // A file that cannot be stat'ed: readMtx raises its error, as it always did.
  const size = await stat(path).then((s) => s.size, () => 0);
  if (size < minBytes) return readMtx(path, options);
  const worker = await DecoderWorker.acquire();
  let reply: MtxReply;
  try {
    reply = await worker.call({ type: 'mtx', path, name: options.name, memoryLimit: options.memoryLimit,
      budget: budget && { limit: budget.limit, costs: budget.costs! }, missing: options.missing }) as MtxReply;
  } catch {
    // The worker died (or could not start): read here, where any error is raised as it always was.
    worker.terminate();
    return readMtx(path, options);
  }
  worker.release();
  if (reply.type !== 'matrix') throw rebuildError(reply.error);
  return { m: reply.m, n: reply.n, colPtr: reply.colPtr, rowIdx: reply.rowIdx, values: reply.values };
}
