/** The main thread's side of mtx-thread.ts: readMtx in the decoder's worker. */
import type { MemoryBudget } from '../memory-limit.js';
import { rebuildError } from './convert-thread.js';
import type { CscMatrix } from './from-csc.js';
import type { MtxReply } from './mtx-thread.js';
import { DecoderWorker } from './parquet-worker.js';
import { readMtx, type ReadMtxOptions } from './read-mtx.js';

/** readMtx in the decoder's worker (same arrays, same errors); on this thread when the budget cannot cross. */
export async function readMtxOffThread(path: string, options: ReadMtxOptions = {}): Promise<CscMatrix> {
  const budget: MemoryBudget | undefined = options.budget;
  if (budget && !budget.costs) return readMtx(path, options);
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
