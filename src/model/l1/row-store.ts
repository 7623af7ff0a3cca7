/**
 * What the out-of-core l1 fit (model/l1/stream-engine.ts) needs from a feature-major copy of A: the
 * rows of A in blocks, samples ascending. io/feature-major.ts implements it with temporary Arrow IPC files.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';

export interface RowBlock {
  readonly rowStart: number;
  readonly rowEnd: number;
  /** rowPtr[i − rowStart] .. rowPtr[i − rowStart + 1]: feature i's nonzeros, samples ascending. */
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly values: Float64Array;
}

export interface FeatureMajorStore {
  readonly dir: string;
  append(chunk: CscChunk): void;
  finish(): void;
  /** Longest row, in nonzeros (after finish). */
  readonly maxRow: number;
  forEachBlock(visit: (block: RowBlock) => void): void;
  close(): void;
}
