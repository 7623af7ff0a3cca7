/**
 * Matrix Market files parsed off the main thread (issue #17): the decoder's worker (parquet-thread.ts) runs readMtx
 * (read, gunzip, parse, COO → CSC) and posts the matrix with its arrays transferred; the main thread (`readMtxOffThread`,
 * mtx-off-thread.ts, used by from-mtx.ts) gets the same arrays, or the same error (code, message, file and line) rebuilt from data.
 * A consumer's budget crosses as what it was made from (memory-limit.ts `costs`); one without is read on the main thread.
 */
import { memoryBudget, type Costs } from '../memory-limit.js';
import { errorEvent, type ErrorEvent } from './convert-thread.js';
import { readMtx } from './read-mtx.js';

export interface MtxRequest {
  readonly type: 'mtx';
  readonly path: string;
  readonly name: string | undefined;
  readonly memoryLimit: number | undefined;
  readonly budget: { readonly limit: number; readonly costs: Costs } | undefined;
  readonly missing: 'error' | 'nan' | undefined;
}

export type MtxReply = { type: 'matrix'; m: number; n: number; colPtr: Int32Array; rowIdx: Int32Array; values: Float64Array }
  // Not an ErrorEvent itself: those are a conversion's events (parquet-worker.ts routes them to its listener, not to a call).
  | { type: 'mtx-failed'; error: ErrorEvent };

/** The worker's side: the matrix and the buffers to transfer, or the error as data. */
export async function mtxCall(msg: MtxRequest): Promise<{ reply: MtxReply; transfer: ArrayBuffer[] }> {
  try {
    const budget = msg.budget && memoryBudget(msg.budget.limit, msg.budget.costs);
    const { m, n, colPtr, rowIdx, values } = await readMtx(msg.path, { name: msg.name, memoryLimit: msg.memoryLimit, budget, missing: msg.missing });
    const buffers = [colPtr.buffer, rowIdx.buffer, values.buffer] as ArrayBuffer[];
    // Arrays that share a buffer cannot all be transferred: copy them (toCsc gives each its own).
    const shared = new Set(buffers).size < 3;
    return { reply: { type: 'matrix', m, n, colPtr, rowIdx, values }, transfer: shared ? [] : buffers };
  } catch (err) {
    return { reply: { type: 'mtx-failed', error: errorEvent(err) }, transfer: [] };
  }
}
