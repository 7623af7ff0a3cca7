/**
 * A whole chunk split by the mask (masked-column.ts, column by column) into flat lists, for the masked pass in
 * WebAssembly (masked-wasm.ts): per column its observed nonzeros (obsPtr: CSC offsets, obsRows, obsValues), the
 * rows left out of its fit (maskPtr, maskRows: held-out nonzeros, NaN entries, held-out zeros), ‖A_obs,j‖², and
 * the chunk's held-out entries in sample order. The split is a pure function of the chunk and the mask, so the
 * lists of a chunk seen again (an in-memory source delivers the same arrays every pass; the data watch,
 * source/watch-data.ts, fails a pass whose data changed) are made once. Cost O(nnz + held-out) per new chunk.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import type { ResolvedMask } from '../../options.js';
import { makeColumnSplit, splitColumn } from './masked-column.js';

export interface ChunkSplit {
  readonly obsPtr: Int32Array;
  readonly obsRows: Int32Array;
  readonly obsValues: Float64Array;
  readonly maskPtr: Int32Array;
  readonly maskRows: Int32Array;
  /** Per column: Σ of its observed nonzeros' squares (masked-column.ts normA2). */
  readonly normA2: Float64Array;
  /** Observed entries of the chunk (zeros counted when they are data). */
  readonly observed: number;
  /** Held-out entries in sample order (global sample indices in cols). */
  readonly test: { readonly rows: Int32Array; readonly cols: Int32Array; readonly values: Float64Array; readonly weights: Float64Array };
}

/** Growable typed lists. */
class List<T extends Int32Array | Float64Array> {
  n = 0;
  constructor(public a: T) {}
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new (this.a.constructor as new (n: number) => T)(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  done(): T { return this.a.subarray(0, this.n) as T; }
}

export function splitChunk(chunk: CscChunk, mask: ResolvedMask, m: number): ChunkSplit {
  const { n, colPtr, rowIdx, values, colStart } = chunk;
  const nnz = colPtr[n]!, s = makeColumnSplit();
  const obsPtr = new Int32Array(n + 1), maskPtr = new Int32Array(n + 1), normA2 = new Float64Array(n);
  const obsRows = new List(new Int32Array(Math.max(16, nnz))), obsValues = new List(new Float64Array(Math.max(16, nnz)));
  const maskRows = new List(new Int32Array(64));
  const tRows = new List(new Int32Array(64)), tCols = new List(new Int32Array(64));
  const tValues = new List(new Float64Array(64)), tWeights = new List(new Float64Array(64));
  let observed = 0;
  for (let jl = 0; jl < n; jl++) {
    const j = colStart + jl;
    splitColumn(s, mask, m, j, rowIdx, values, colPtr[jl]!, colPtr[jl + 1]!);
    for (let t = 0; t < s.nObs; t++) { obsRows.push(s.obsRows[t]!); obsValues.push(s.obsValues[t]!); }
    for (let t = 0; t < s.nMasked; t++) maskRows.push(s.maskedRows[t]!);
    for (let t = 0; t < s.nTest; t++) { tRows.push(s.testRows[t]!); tCols.push(j); tValues.push(s.testValues[t]!); tWeights.push(s.testWeights[t]!); }
    obsPtr[jl + 1] = obsRows.n; maskPtr[jl + 1] = maskRows.n;
    normA2[jl] = s.normA2;
    observed += s.observed;
  }
  return {
    obsPtr, obsRows: obsRows.done(), obsValues: obsValues.done(), maskPtr, maskRows: maskRows.done(), normA2, observed,
    test: { rows: tRows.done(), cols: tCols.done(), values: tValues.done(), weights: tWeights.done() },
  };
}
