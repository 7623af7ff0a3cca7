/**
 * The 'fast' solver's pass on one thread in WebAssembly (wasm/fast.ts, wasm/sparse.ts): per chunk
 * the H solves (SIMD right-hand sides, warm-started CD sweeps), then HHᵀ, hSum and the AHᵀ scatter;
 * at the end of the pass the W solves, the column scaling, WᵀW, 1 − Pearson(W, Wprev), the loss's
 * cross term; at the start of the next the extrapolation of W. The same operations in the same order
 * as the TypeScript path (model/l2/phases.ts with NNLS_CD_WARM, model/l2/step.ts, model/l2/end-pass.ts, the rank kernels,
 * model/l2/extrapolate.ts), so the same bytes — but compiled code from the first pass on: no JIT warm-up.
 * (The first pass still pays for touching the module's fresh memory: page faults, ~5 ms per MB here.)
 * The model stays in the state's arrays: W, the chunk's H and the statistics are copied in and out of
 * the module's own memory (native copies, O(m·k + chunk) per pass); an in-memory chunk seen again
 * (the same arrays) is not copied again.
 */
import { execArgv } from 'node:process';
import { setFlagsFromString } from 'node:v8';
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { COUNT_SOLVES, COUNT_SWEEPS } from '../../kernel/nnls-workspace.js';
import type { RankKernels } from '../../kernel/rank-kernels.js';
import { makeWasmKernels, precompileWasmKernels } from '../../kernel/wasm/wasm-kernels.js';
import type { ResolvedOptions } from '../../options.js';
import type { FinishInParallel } from './end-pass.js';
import type { L2State } from './state.js';
import { closeUnit, forEachUnit, openUnit, type PassTotals } from './units.js';

export interface WasmPassL2 {
  /** The H solves and the statistics of one chunk (state.H, S, hSum, B, normA2 updated). */
  step(state: L2State, chunk: CscChunk, options: ResolvedOptions, warm: boolean): void;
  /** units.ts foldUnits on the module's memory (the end of a pass: nothing pending to copy back then). */
  foldUnits(state: L2State): void;
  /** The pass's statistics (S, hSum, B) back into the state; a no-op when they are there already. */
  flush(state: L2State): void;
  /** The W solves of the end of the pass: W from state.W (warm start), B, inv, hSum, Gw; Bn written. */
  solveRows(state: L2State, options: ResolvedOptions, Bn: Float64Array, hSum: Float64Array): void;
  /** The rank kernels with gram and scale in WebAssembly (rhs, stats, rows: the TypeScript ones, unused here). */
  readonly kernels: RankKernels;
  /** 1 − Pearson(W, Wprev) and the cross term Σ W·d·Bn, after `here` (the W-update's Gram). */
  finish(state: L2State, Bn: Float64Array): FinishInParallel;
  /** W ← max(0, W + β(W − Wprev)), Wprev ← W (model/l2/extrapolate.ts). */
  extrapolate(state: L2State, beta: number): void;
  /** out ← uniform [0, 1) numbers of the xoshiro128** generator with these state words (kernel/random.ts: the same numbers). */
  fillUniform(words: Uint32Array, out: Float64Array): void;
}

/** undefined where WebAssembly SIMD is missing (the TypeScript path runs instead). */
export function makeWasmPassL2(m: number, k: number, base: RankKernels): WasmPassL2 | undefined {
  const wasm = eagerly(makeWasmKernels);
  if (wasm === undefined) return undefined;
  const fns = wasm.exports;
  const mk = m * k, kk = k * k;
  // Fixed region: the model and the statistics. Pointers stay valid; views are re-taken after a grow.
  const W = wasm.reserve(8 * mk), Wprev = wasm.reserve(8 * mk), B = wasm.reserve(8 * mk), G = wasm.reserve(8 * kk), S = wasm.reserve(8 * kk);
  const invDiag = wasm.reserve(8 * k), warmScale = wasm.reserve(8 * k), hSum = wasm.reserve(8 * k), inv = wasm.reserve(8 * k);
  const d = wasm.reserve(8 * k), r = wasm.reserve(8 * k), b = wasm.reserve(8 * k);
  // The open unit's sums and the rows' pending unit sums (units.ts), mirrored from state.units during a pass.
  const Su = wasm.reserve(8 * kk), hSumU = wasm.reserve(8 * k), Bu = wasm.reserve(8 * mk), last = wasm.reserve(4 * m);
  const open = { unit: -1, normA2: 0 };
  const mark = wasm.top();
  let cached: { colPtr: Int32Array; rowIdx: Int32Array; values: Float64Array; n: number; ptrs: ChunkPtrs } | undefined;
  let stepped = false;
  const put = (ptr: number, from: Float64Array, length: number): void => wasm.f64(ptr, length).set(from.subarray(0, length));
  const get = (ptr: number, to: Float64Array, length: number): void => to.set(wasm.f64(ptr, length));

  const load = (chunk: CscChunk): ChunkPtrs => {
    const c = cached;
    if (c !== undefined && c.colPtr === chunk.colPtr && c.rowIdx === chunk.rowIdx && c.values === chunk.values && c.n === chunk.n) return c.ptrs;
    wasm.release(mark);
    const nnz = chunk.colPtr[chunk.n]!;
    // One grow for the whole chunk (growing piece by piece copied the memory each time: 80 ms at 1 M nonzeros).
    wasm.reserve(4 * (chunk.n + 1) + 12 * nnz + 8 * chunk.n * k + 64);
    wasm.release(mark);
    const ptrs = {
      colPtr: wasm.put(chunk.colPtr.subarray(0, chunk.n + 1)),
      rowIdx: wasm.put(chunk.rowIdx.subarray(0, nnz)),
      values: wasm.put(chunk.values.subarray(0, nnz)),
      H: wasm.reserve(8 * chunk.n * k),
    };
    cached = { colPtr: chunk.colPtr, rowIdx: chunk.rowIdx, values: chunk.values, n: chunk.n, ptrs };
    return ptrs;
  };

  /** The pass totals and the open unit as views of the module's memory (units.ts works on them as on the state's). */
  const totalsOf = (state: L2State): PassTotals => ({
    S: wasm.f64(S, kk), hSum: wasm.f64(hSum, k), normA2: state.normA2, B: wasm.f64(B, mk),
    units: { unit: open.unit, S: wasm.f64(Su, kk), hSum: wasm.f64(hSumU, k), normA2: open.normA2, Bu: wasm.f64(Bu, mk), last: wasm.i32(last, m) },
  });
  /** HHᵀ, hSum, ‖A‖² and AHᵀ of the chunk's solved codes, unit by unit (units.ts), on the module's memory. */
  const accumulateUnits = (state: L2State, chunk: CscChunk, ptrs: ChunkPtrs): void => {
    const totals = totalsOf(state);
    const sums = totals.units;
    forEachUnit(chunk.colStart, chunk.n, (unit, j0, j1) => {
      openUnit(totals, unit);
      fns.outerColumns(ptrs.H + 8 * j0 * k, k, j1 - j0, Su, hSumU);
      fns.openUnitRows(ptrs.rowIdx, chunk.colPtr[j0]!, chunk.colPtr[j1]!, unit, k, B, Bu, last, 0, m);
      fns.scatterColumns(ptrs.H, j0 * k, k, ptrs.colPtr, ptrs.rowIdx, ptrs.values, j0, j1, Bu);
      sums.normA2 = fns.sumSquares(ptrs.colPtr, ptrs.values, j0, j1, sums.normA2);
    });
    state.normA2 = totals.normA2;
    open.unit = sums.unit; open.normA2 = sums.normA2;
  };

  const kernels: RankKernels = {
    ...base,
    gram: (X, rows, out) => { put(W, X, rows * k); fns.gram(W, rows, k, G); get(G, out, kk); },
    scale: (X, rows, dOut, invOut) => {
      put(W, X, rows * k);
      fns.scale(W, rows, k, d, inv);
      get(W, X, rows * k); get(d, dOut, k); get(inv, invOut, k);
    },
  };

  return {
    kernels,
    step(state, chunk, options, warm) {
      const ptrs = load(chunk);
      if (!stepped) {
        // The first chunk of a pass: this pass's W and Gram in, the statistics (zero, or a resumed pass's).
        stepped = true;
        put(W, state.W, mk); put(G, state.G, kk); put(invDiag, state.invDiag, k); put(warmScale, state.warmScale, k);
        put(B, state.B, mk); put(S, state.S, kk); put(hSum, state.hSum, k);
        const units = state.units;
        put(Su, units.S, kk); put(hSumU, units.hSum, k);
        // Bu matters only for rows that hold a unit's sum (none at the start of a pass: no copy then).
        if (units.last.some((unit) => unit >= 0)) { put(Bu, units.Bu, mk); wasm.i32(last, m).set(units.last); } else wasm.i32(last, m).fill(-1);
        open.unit = units.unit; open.normA2 = units.normA2;
      }
      const n = chunk.n, off = chunk.colStart * k;
      wasm.f64(ptrs.H, n * k).set(state.H.subarray(off, off + n * k));
      const sweeps = fns.solveColumnsCd(W, G, invDiag, warmScale, warm ? 1 : 0, k, ptrs.colPtr, ptrs.rowIdx, ptrs.values,
        0, n, ptrs.H, options.l1H, options.nnlsMaxSweeps, options.nnlsTol, r, b);
      accumulateUnits(state, chunk, ptrs);
      state.H.set(wasm.f64(ptrs.H, n * k), off);
      count(state, n, sweeps);
    },
    foldUnits(state) {
      if (!stepped) return;
      const totals = totalsOf(state);
      closeUnit(totals);
      state.normA2 = totals.normA2;
      open.unit = -1;
      fns.foldUnitRows(k, B, Bu, last, m);
    },
    flush(state) {
      if (!stepped) return;
      get(B, state.B, mk); get(S, state.S, kk); get(hSum, state.hSum, k);
      const units = state.units;
      get(Su, units.S, kk); get(hSumU, units.hSum, k);
      const rows = wasm.i32(last, m);
      if (rows.some((unit) => unit >= 0)) get(Bu, units.Bu, mk);
      units.last.set(rows);
      units.unit = open.unit; units.normA2 = open.normA2;
      stepped = false;
    },
    solveRows(state, options, Bn, hSumIn) {
      // Gw and its inverse diagonal go to the G and invDiag slots, hSum (the warm start's scale) to warmScale.
      put(B, state.B, mk); put(W, state.W, mk); put(G, state.Gw, kk); put(invDiag, state.invDiagW, k);
      put(inv, state.inv, k); put(warmScale, hSumIn, k);
      const sweeps = fns.solveRowsCd(W, B, B, inv, warmScale, G, invDiag, k, options.l1W, 0, state.m,
        options.nnlsMaxSweeps, options.nnlsTol, r, b);
      get(W, state.W, mk); get(B, Bn, mk);
      count(state, state.m, sweeps);
    },
    finish: (state, Bn) => (here) => {
      here();
      put(W, state.W, mk); put(Wprev, state.Wprev, mk); put(B, Bn, mk); put(d, state.d, k);
      return { tol: fns.pearsonTol(W, Wprev, mk), cross: fns.crossTerm(W, state.m, k, d, B) };
    },
    fillUniform(words, out) {
      const n = Math.min(out.length, mk);
      new Uint32Array(wasm.i32(r, 4).buffer, r, 4).set(words);
      fns.fillUniform(r, W, n);
      get(W, out, n);
    },
    extrapolate(state, beta) {
      put(W, state.W, mk); put(Wprev, state.Wprev, mk);
      fns.extrapolate(W, Wprev, mk, beta);
      get(W, state.W, mk); get(Wprev, state.Wprev, mk);
    },
  };
}

/**
 * V8 compiles WebAssembly lazily with its baseline compiler (Liftoff) and tiers hot functions up later;
 * the baseline code of these loops ran ~7× slower, a whole first pass on a 1 M-nonzero matrix (100 ms
 * instead of 15). The module is small (a few kB), so it is compiled at once by the optimising compiler
 * (in the background when the library is loaded, else the first time a fit needs it); the flags are put
 * back after (unless the process set them).
 */
export function eagerly<T>(make: () => T): T {
  if (execArgv.some((flag) => /liftoff|wasm-lazy/.test(flag))) return make();
  setFlags(true);
  let result: T | undefined;
  try {
    result = make();
    return result;
  } finally {
    // A background compile reads the flags while it runs: they go back when it is done.
    if (result instanceof Promise) void result.finally(() => setFlags(false));
    else setFlags(false);
  }
}

function setFlags(eager: boolean): void {
  setFlagsFromString(eager ? '--no-liftoff' : '--liftoff');
  setFlagsFromString(eager ? '--no-wasm-lazy-compilation' : '--wasm-lazy-compilation');
}

// Compiled in the background as soon as the library is loaded (by the optimising tier, as below): by the
// time a fit starts — after its data are read — the module is usually ready.
eagerly(precompileWasmKernels);

function count(state: L2State, solves: number, sweeps: number): void {
  const counts = state.ws.counts;
  counts[COUNT_SOLVES] = counts[COUNT_SOLVES]! + solves;
  counts[COUNT_SWEEPS] = counts[COUNT_SWEEPS]! + sweeps;
}

interface ChunkPtrs { readonly colPtr: number; readonly rowIdx: number; readonly values: number; readonly H: number }
