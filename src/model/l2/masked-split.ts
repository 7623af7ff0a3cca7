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

function grownI(a: Int32Array, need: number): Int32Array {
  if (need <= a.length) return a;
  const b = new Int32Array(Math.max(need, 2 * a.length));
  b.set(a);
  return b;
}

function grownF(a: Float64Array, need: number): Float64Array {
  if (need <= a.length) return a;
  const b = new Float64Array(Math.max(need, 2 * a.length));
  b.set(a);
  return b;
}

export function splitChunk(chunk: CscChunk, mask: ResolvedMask, m: number): ChunkSplit {
  const { n, colPtr, rowIdx, values, colStart } = chunk;
  const nnz = colPtr[n]!, s = makeColumnSplit();
  const obsPtr = new Int32Array(n + 1), maskPtr = new Int32Array(n + 1), normA2 = new Float64Array(n);
  const obsRows = new Int32Array(nnz), obsValues = new Float64Array(nnz);
  let maskRows: Int32Array = new Int32Array(64), tRows: Int32Array = new Int32Array(64), tCols: Int32Array = new Int32Array(64);
  let tValues: Float64Array = new Float64Array(64), tWeights: Float64Array = new Float64Array(64);
  let nObs = 0, nMask = 0, nTest = 0, observed = 0;
  for (let jl = 0; jl < n; jl++) {
    const j = colStart + jl;
    splitColumn(s, mask, m, j, rowIdx, values, colPtr[jl]!, colPtr[jl + 1]!);
    obsRows.set(s.obsRows.subarray(0, s.nObs), nObs); obsValues.set(s.obsValues.subarray(0, s.nObs), nObs);
    nObs += s.nObs;
    maskRows = grownI(maskRows, nMask + s.nMasked);
    maskRows.set(s.maskedRows.subarray(0, s.nMasked), nMask);
    nMask += s.nMasked;
    if (s.nTest > 0) {
      const need = nTest + s.nTest;
      tRows = grownI(tRows, need); tCols = grownI(tCols, need); tValues = grownF(tValues, need); tWeights = grownF(tWeights, need);
      tRows.set(s.testRows.subarray(0, s.nTest), nTest); tCols.fill(j, nTest, need);
      tValues.set(s.testValues.subarray(0, s.nTest), nTest); tWeights.set(s.testWeights.subarray(0, s.nTest), nTest);
      nTest = need;
    }
    obsPtr[jl + 1] = nObs; maskPtr[jl + 1] = nMask;
    normA2[jl] = s.normA2;
    observed += s.observed;
  }
  return {
    obsPtr, obsRows: obsRows.subarray(0, nObs), obsValues: obsValues.subarray(0, nObs), maskPtr, maskRows: maskRows.subarray(0, nMask), normA2, observed,
    test: { rows: tRows.subarray(0, nTest), cols: tCols.subarray(0, nTest), values: tValues.subarray(0, nTest), weights: tWeights.subarray(0, nTest) },
  };
}
