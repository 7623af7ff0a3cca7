/**
 * The 'fast' solver's phases on ranges, in WebAssembly, for the threads of parallel/l2-pool.ts (each
 * thread has its own instance): the same operations as model/l2/phases.ts with NNLS_CD_WARM and as the rank
 * kernels' `rows`, so the same bytes as one thread (model/l2/wasm-pass.ts) and as the TypeScript path.
 *   solveColumns: h_j for columns [j0, j1) of the current chunk (W, G, invDiag, warmScale copied in once per `version`);
 *   accumulateRows: B rows [i0, i1) += the chunk's a_j h_jᵀ, columns in order;
 *   solveRows: w_i for rows [i0, i1) (B normalised into Bn on the way).
 * The chunk is copied in once per `chunkSeq` (a number that changes whenever the chunk's content does). Inputs and outputs are the shared arrays; only the ranges a
 * thread works on are copied in and out.
 */
import { COUNT_SOLVES, COUNT_SWEEPS } from '../../kernel/nnls-workspace.js';
import { makeWasmKernels } from '../../kernel/wasm/wasm-kernels.js';
import { eagerly } from './wasm-pass.js';
import { forEachUnit } from './units.js';

export interface WasmBlocksL2 {
  solveColumns(version: number, W: Float64Array, G: Float64Array, invDiag: Float64Array, warmScale: Float64Array, warm: boolean,
    chunkSeq: number, colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array, n: number, colStart: number, j0: number, j1: number,
    H: Float64Array, l1H: number, maxSweeps: number, tol: number, counts: Float64Array): void;
  accumulateRows(chunkSeq: number, colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array, n: number, colStart: number,
    H: Float64Array, B: Float64Array, Bu: Float64Array, last: Int32Array, i0: number, i1: number): void;
  solveRows(W: Float64Array, B: Float64Array, Bn: Float64Array, inv: Float64Array, hSum: Float64Array, Gw: Float64Array,
    invDiagW: Float64Array, l1W: number, i0: number, i1: number, maxSweeps: number, tol: number, counts: Float64Array): void;
}

/** undefined where WebAssembly SIMD is missing. */
export function makeWasmBlocksL2(m: number, k: number): WasmBlocksL2 | undefined {
  const wasm = eagerly(makeWasmKernels);
  if (wasm === undefined) return undefined;
  const fns = wasm.exports;
  const mk = m * k, kk = k * k;
  const W = wasm.reserve(8 * mk), Bw = wasm.reserve(8 * mk), G = wasm.reserve(8 * kk);
  const Buw = wasm.reserve(8 * mk), lastw = wasm.reserve(4 * m);
  const invDiag = wasm.reserve(8 * k), warmScale = wasm.reserve(8 * k), inv = wasm.reserve(8 * k), r = wasm.reserve(8 * k), b = wasm.reserve(8 * k);
  const mark = wasm.top();
  let seenVersion = NaN, seenSeq = NaN;
  let chunk = { colPtr: 0, rowIdx: 0, values: 0, H: 0 };
  const put = (ptr: number, from: Float64Array, start: number, length: number): void =>
    wasm.f64(ptr, length).set(from.subarray(start, start + length));

  const load = (seq: number, colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array, n: number): void => {
    if (seq === seenSeq) return;
    seenSeq = seq;
    wasm.release(mark);
    const nnz = colPtr[n]!;
    wasm.reserve(4 * (n + 1) + 12 * nnz + 8 * n * k + 64); // one grow for all of it
    wasm.release(mark);
    chunk = {
      colPtr: wasm.put(colPtr.subarray(0, n + 1)), rowIdx: wasm.put(rowIdx.subarray(0, nnz)),
      values: wasm.put(values.subarray(0, nnz)), H: wasm.reserve(8 * n * k),
    };
  };
  const count = (counts: Float64Array, solves: number, sweeps: number): void => {
    counts[COUNT_SOLVES] = counts[COUNT_SOLVES]! + solves;
    counts[COUNT_SWEEPS] = counts[COUNT_SWEEPS]! + sweeps;
  };

  return {
    solveColumns(version, Ws, Gs, invDiagS, warmScaleS, warm, chunkSeq, colPtr, rowIdx, values, n, colStart, j0, j1, H, l1H, maxSweeps, tol, counts) {
      load(chunkSeq, colPtr, rowIdx, values, n);
      if (version !== seenVersion) {
        seenVersion = version;
        put(W, Ws, 0, mk); put(G, Gs, 0, kk); put(invDiag, invDiagS, 0, k); put(warmScale, warmScaleS, 0, k);
      }
      const h = chunk.H + 8 * j0 * k;
      put(h, H, (colStart + j0) * k, (j1 - j0) * k);
      const sweeps = fns.solveColumnsCd(W, G, invDiag, warmScale, warm ? 1 : 0, k, chunk.colPtr, chunk.rowIdx, chunk.values,
        j0, j1, h, l1H, maxSweeps, tol, r, b);
      H.set(wasm.f64(h, (j1 - j0) * k), (colStart + j0) * k);
      count(counts, j1 - j0, sweeps);
    },
    accumulateRows(chunkSeq, colPtr, rowIdx, values, n, colStart, H, B, Bu, last, i0, i1) {
      if (i1 <= i0) return;
      load(chunkSeq, colPtr, rowIdx, values, n);
      const rows = i1 - i0;
      put(chunk.H, H, colStart * k, n * k);
      put(Bw, B, i0 * k, rows * k); put(Buw, Bu, i0 * k, rows * k);
      wasm.i32(lastw, rows).set(last.subarray(i0, i1));
      // unit by unit (model/l2/units.ts), as model/l2/phases.ts accumulateUnitRows
      forEachUnit(colStart, n, (unit, j0, j1) => {
        fns.openUnitRows(chunk.rowIdx, colPtr[j0]!, colPtr[j1]!, unit, k, Bw, Buw, lastw, i0, i1);
        fns.scatterRowRange(chunk.H + 8 * j0 * k, k, chunk.colPtr + 4 * j0, chunk.rowIdx, chunk.values, j1 - j0, Buw, i0, i1);
      });
      B.set(wasm.f64(Bw, rows * k), i0 * k); Bu.set(wasm.f64(Buw, rows * k), i0 * k);
      last.set(wasm.i32(lastw, rows), i0);
    },
    solveRows(Ws, Bs, Bn, invS, hSum, Gw, invDiagW, l1W, i0, i1, maxSweeps, tol, counts) {
      const rows = i1 - i0;
      put(W, Ws, i0 * k, rows * k); put(Bw, Bs, i0 * k, rows * k);
      put(G, Gw, 0, kk); put(invDiag, invDiagW, 0, k); put(inv, invS, 0, k); put(warmScale, hSum, 0, k);
      seenVersion = NaN; // G, invDiag and warmScale now hold the W-update's
      const sweeps = fns.solveRowsCd(W, Bw, Bw, inv, warmScale, G, invDiag, k, l1W, 0, rows, maxSweeps, tol, r, b);
      Ws.set(wasm.f64(W, rows * k), i0 * k);
      Bn.set(wasm.f64(Bw, rows * k), i0 * k);
      count(counts, rows, sweeps);
    },
  };
}
