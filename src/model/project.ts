/**
 * Projection (docs/architecture.md, Projection): codes H for new samples with W fixed — the fit's own H-update.
 *  l2: for each sample, the exact NNLS  min_{h≥0} ½‖a − W h‖² + L2_H/2 ‖h‖² + L1_H·Σh  with W the
 *      model's unit-column-sum W, so a ≈ W h (h carries the scale that d carries in the fit).
 *  l1: for each sample, sparse coordinate descent on h with W diag(d) fixed (scd-update.ts), until a
 *      sweep changes nothing or `maxSweeps` (default 100); a ≈ W diag(d) h.
 * Output: rank × n row-major (factor a of sample j at a·n + j), written into `out` when given.
 * l2 right-hand sides Wᵀa_j − L1_H: by the WebAssembly SIMD kernel (kernel/wasm/wasm-kernels.ts rhsColumns,
 * the bits of the rank kernels' `rhs`, so the same codes) for a whole range of columns at once, W copied
 * into the module's memory once per projector and the range's nonzeros per call; the JavaScript kernel
 * where WebAssembly SIMD is missing, with `wasm: false`, or for a range too large for a 32-bit memory.
 */
import type { CscChunk } from '../chunk/csc-chunk.js';
import type { Loss } from '../options.js';
import { OptionError } from '../errors.js';
import { addDiagonal, gram } from '../kernel/gram.js';
import { invertDiagonal, nnlsSolve } from '../kernel/nnls-solve.js';
import { clearFactorCache } from '../kernel/nnls-support.js';
import { makeNnlsWorkspace } from '../kernel/nnls-workspace.js';
import { rankKernels } from '../kernel/rank-kernels.js';
import { makeWasmKernels } from '../kernel/wasm/wasm-kernels.js';
import { familyOf } from './families.js';
import { eagerly } from './l2/wasm-pass.js';

export interface ProjectionModel {
  readonly loss: Loss;
  readonly rank: number;
  readonly features: number;
  /** features × rank, row-major. */
  readonly W: Float64Array;
  readonly d: Float64Array;
}

export interface ProjectionOptions {
  /** l2: L1 penalty on h, in [0, 1) (the fit's L1_H). Default 0. */
  readonly l1?: number;
  /** l2: ridge on h, ≥ 0 (the fit's L2_H). Default 0. */
  readonly l2?: number;
  /** l1: weight of the zero entries (the fit's λ). Default 1. */
  readonly lambda?: number;
  /** l1: maximum coordinate-descent sweeps per sample. Default 100. */
  readonly maxSweeps?: number;
  /** l2: right-hand sides in WebAssembly where the runtime has SIMD (the same codes; `false`: JavaScript). Default true. */
  readonly wasm?: boolean;
}

/** Solves columns [j0, j1) of a chunk into `out` (rank × chunk.n, row-major); the other columns are left alone. */
export type RangeProjector = (chunk: CscChunk, out: Float64Array, j0: number, j1: number) => void;

/** A reusable projector for one model: Gram, workspaces and kernels are made once. */
export function makeProjector(model: ProjectionModel, options: ProjectionOptions = {}): (chunk: CscChunk, out?: Float64Array) => Float64Array {
  const solve = makeRangeProjector(model, options);
  return (chunk, out) => {
    const H = out ?? new Float64Array(model.rank * chunk.n);
    solve(chunk, H, 0, chunk.n);
    return H;
  };
}

/**
 * The projector on a range of columns: every column is solved on its own, from the same start, so
 * any split of a chunk (parallel/project-pool.ts splits it over threads) gives the same bytes.
 */
export function makeRangeProjector(model: ProjectionModel, options: ProjectionOptions = {}): RangeProjector {
  const { rank: k, features: m, W } = model;
  if (W.length !== m * k || model.d.length !== k) throw new OptionError('model', `W of ${m}×${k} and d of length ${k}`, `W of ${W.length}, d of ${model.d.length}`);
  const l1 = options.l1 ?? 0;
  const l2 = options.l2 ?? 0;
  if (!(l1 >= 0 && l1 < 1)) throw new OptionError('l1', 'a number in [0, 1)', l1);
  if (!(l2 >= 0) || !Number.isFinite(l2)) throw new OptionError('l2', 'a finite number ≥ 0', l2);
  const lambda = options.lambda ?? 1;
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new OptionError('lambda', 'a finite number ≥ 0', lambda);
  const maxSweeps = options.maxSweeps ?? 100;
  if (!Number.isInteger(maxSweeps) || maxSweeps < 1) throw new OptionError('maxSweeps', 'an integer ≥ 1', maxSweeps);
  const check = (chunk: CscChunk): void => {
    if (chunk.m !== m) throw new OptionError('chunk', `chunks with ${m} features (the model's)`, `${chunk.m} features`);
  };
  const columnsOf = familyOf(model.loss).columnsProjector; // l1: sCD on h with W·diag(d) fixed
  if (columnsOf !== undefined) {
    const Wd = new Float64Array(m * k);
    for (let i = 0; i < m; i++) for (let a = 0; a < k; a++) Wd[i * k + a] = W[i * k + a]! * model.d[a]!;
    const solve = columnsOf(Wd, m, k, lambda, maxSweeps);
    return (chunk, out, j0, j1) => { check(chunk); solve(chunk, out, j0, j1); };
  }
  const G = new Float64Array(k * k);
  gram(W, m, k, G);
  addDiagonal(G, k, l2);
  const invDiag = new Float64Array(k);
  invertDiagonal(G, k, invDiag);
  const ws = makeNnlsWorkspace(k);
  clearFactorCache(ws.cache);
  const { rhs } = rankKernels(k);
  const b = new Float64Array(k);
  const x = new Float64Array(k);
  const rhsOfRange = options.wasm === false ? undefined : makeWasmRhs(W, k, l1);
  return (chunk, H, j0, j1) => {
    check(chunk);
    const n = chunk.n;
    const { colPtr, rowIdx, values } = chunk;
    const B = j1 > j0 ? rhsOfRange?.(chunk, j0, j1) : undefined; // (j1 − j0) × k, or undefined: the JS kernel per column
    for (let j = j0; j < j1; j++) {
      if (B === undefined) rhs(W, rowIdx, values, colPtr[j]!, colPtr[j + 1]!, l1, b, 0);
      x.fill(0);
      nnlsSolve(G, invDiag, k, B ?? b, B === undefined ? 0 : (j - j0) * k, x, 0, ws, 100, 1e-8, 0);
      for (let a = 0; a < k; a++) H[a * n + j] = x[a]!;
    }
  };
}

/**
 * Wᵀa_j − shift for columns [j0, j1) of a chunk, (j1 − j0) × k row-major, by the WebAssembly kernel in a
 * private instance holding W; undefined without WebAssembly SIMD (and, per call, for a range whose
 * nonzeros do not fit a 32-bit memory). The view is valid until the next call.
 */
function makeWasmRhs(W: Float64Array, k: number, shift: number): ((chunk: CscChunk, j0: number, j1: number) => Float64Array | undefined) | undefined {
  const wasm = eagerly(makeWasmKernels);
  if (wasm === undefined) return undefined;
  const Wp = wasm.put(W);
  const mark = wasm.top();
  return (chunk, j0, j1) => {
    const { colPtr } = chunk;
    const count = j1 - j0, p0 = colPtr[j0]!, nnz = colPtr[j1]! - p0;
    wasm.release(mark);
    try {
      wasm.reserve(4 * (count + 1) + 12 * nnz + 8 * count * k + 64); // one grow for all of it
    } catch (error) {
      if (error instanceof RangeError) return undefined;
      throw error;
    }
    wasm.release(mark);
    const cp = wasm.reserve(4 * (count + 1));
    const offsets = wasm.i32(cp, count + 1);
    for (let t = 0; t <= count; t++) offsets[t] = colPtr[j0 + t]! - p0;
    const ri = wasm.put(chunk.rowIdx.subarray(p0, p0 + nnz));
    const vi = wasm.put(chunk.values.subarray(p0, p0 + nnz));
    const out = wasm.reserve(8 * count * k);
    wasm.rhsColumns(Wp, k, cp, ri, vi, 0, count, shift, out);
    return wasm.f64(out, count * k);
  };
}

/** Codes of one chunk's samples: rank × chunk.n, row-major. */
export function projectChunk(model: ProjectionModel, chunk: CscChunk, options: ProjectionOptions = {}): Float64Array {
  return makeProjector(model, options)(chunk);
}
