/**
 * A chunk in shared memory, for the pools that split a chunk's columns over worker threads
 * (l2-pool.ts, project-pool.ts): growable SharedArrayBuffers for colPtr, rowIdx and values, and
 * the split of the columns into ranges of about equal work (nonzeros + one per column).
 */
import type { CscChunk } from '../chunk/csc-chunk.js';

export interface ChunkBuffers {
  readonly colPtr: SharedArrayBuffer;
  readonly rowIdx: SharedArrayBuffer;
  readonly values: SharedArrayBuffer;
}

export const sharedBuffer = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(Math.max(8, bytes));

export interface SharedChunk {
  buffers: ChunkBuffers;
  colPtr: Int32Array;
  rowIdx: Int32Array;
  values: Float64Array;
  /** Makes room for `chunk` (doubling); true when a buffer was replaced (workers must rebind). */
  reserve(chunk: CscChunk): boolean;
  /**
   * Copies the chunk in (after `reserve`), unless these buffers already hold it: the chunk loaded
   * last, or one with the same arrays (chunks are immutable; an in-memory source gives the same
   * chunks every pass).
   */
  load(chunk: CscChunk): boolean;
}

export function makeSharedChunk(columns = 1024, nonzeros = 4096): SharedChunk {
  let loaded: { colPtr: Int32Array; rowIdx: Int32Array; values: Float64Array; n: number } | undefined;
  const buffers: ChunkBuffers = { colPtr: sharedBuffer(4 * (columns + 1)), rowIdx: sharedBuffer(4 * nonzeros), values: sharedBuffer(8 * nonzeros) };
  const shared: SharedChunk = {
    buffers,
    ...chunkViews(buffers),
    reserve(chunk) {
      const nnz = chunk.colPtr[chunk.n]!;
      let next = shared.buffers;
      if (shared.colPtr.length < chunk.n + 1) next = { ...next, colPtr: sharedBuffer(4 * Math.max(chunk.n + 1, shared.colPtr.length * 2)) };
      if (shared.rowIdx.length < nnz) {
        const cap = Math.max(nnz, shared.rowIdx.length * 2);
        next = { ...next, rowIdx: sharedBuffer(4 * cap), values: sharedBuffer(8 * cap) };
      }
      if (next === shared.buffers) return false;
      shared.buffers = next;
      Object.assign(shared, chunkViews(next));
      loaded = undefined;
      return true;
    },
    load(chunk) {
      const n = chunk.n;
      if (loaded !== undefined && loaded.colPtr === chunk.colPtr && loaded.rowIdx === chunk.rowIdx && loaded.values === chunk.values && loaded.n === n) return false;
      const nnz = chunk.colPtr[n]!;
      shared.colPtr.set(chunk.colPtr.subarray(0, n + 1));
      shared.rowIdx.set(chunk.rowIdx.subarray(0, nnz));
      shared.values.set(chunk.values.subarray(0, nnz));
      loaded = { colPtr: chunk.colPtr, rowIdx: chunk.rowIdx, values: chunk.values, n };
      return true;
    },
  };
  return shared;
}

/** Views of chunk buffers received by a worker. */
export function chunkViews(b: ChunkBuffers): { colPtr: Int32Array; rowIdx: Int32Array; values: Float64Array } {
  return { colPtr: new Int32Array(b.colPtr), rowIdx: new Int32Array(b.rowIdx), values: new Float64Array(b.values) };
}

/**
 * Column ranges for T threads, about the same work each (nonzeros + one per column): thread t gets
 * columns [ranges[at + t], ranges[at + t + 1]).
 */
export function balanceColumns(colPtr: Int32Array, n: number, threads: number, ranges: Int32Array, at: number): void {
  const nnz = colPtr[n]!;
  for (let t = 0, j = 0; t <= threads; t++) {
    const target = ((nnz + n) * t) / threads;
    while (j < n && colPtr[j]! + j < target) j++;
    ranges[at + t] = t === threads ? n : j;
  }
}
