/**
 * The WebAssembly SIMD kernels of wasm/sparse.ts, compiled synchronously once per thread (on the first
 * call; `new WebAssembly.Module`, `new WebAssembly.Instance`), with a bump arena over the module's memory:
 *   rhsColumns(W, k, colPtr, rowIdx, values, j0, j1, shift, out):  out[j−j0, :] = Wᵀ a_j − shift
 *   gatherRows(H, k, rowPtr, colIdx, values, i0, i1, out):          out[i−i0, :] = Σ_{p ∈ row i} values[p]·H[colIdx[p], :]
 *   scatterColumns(H, hOff, k, colPtr, rowIdx, values, j0, j1, B):  B[rowIdx[p], :] += values[p]·h_j, returns ‖A[:, j0:j1]‖²
 *                                         (h_j at element hOff + (j−j0)·k of H; ‖·‖² summed per column, then over columns)
 *   rhsColumnsF32, gatherRowsF32:                                    the first two on float32 data
 *   exports.solveColumnsCd / solveRowsCd / outerColumns, gram / scale / pearsonTol / crossTerm / extrapolate:
 *                                         the 'fast' solver's pass (wasm/fast.ts)
 *   exports.maskedColumns / maskedRows:   the masked least-squares pass (wasm/masked.ts)
 * Arguments are byte offsets into the module's memory (from `reserve`/`put`), except k, the
 * column/row ranges, shift and hOff (elements). W m×k, H n×k, B m×k, out rows×k, all row-major;
 * colPtr/rowPtr Int32 (n+1 / m+1), rowIdx/colIdx Int32, values Float64 (Float32 in the F32 kernels).
 * The float64 kernels give the bits of rankKernels(k).rhs / .stats (rank-kernels.ts): each SIMD lane
 * does the same scalar operations in the same order, and wasm SIMD has no fused multiply-add;
 * gatherRows over a CSR copy of A (column indices ascending in each row) gives the bits of the
 * column-order scatter started from a zero B. Cost O(nnz·k); the kernels allocate nothing.
 * Memory: a 32-bit module, at most 4 GiB; `reserve` grows it geometrically (64 KiB pages) and throws a
 * RangeError past that. Growing detaches the old ArrayBuffer: take views (`f64`, `i32`, `f32`) after the
 * last `reserve` of a batch. The module is compiled once per thread; `wasmKernels()` is the thread's
 * shared instance (its users `reset` or `release` the arena and hold no pointer across another user's
 * turn), `makeWasmKernels()` a private instance with its own memory (per fit, say: instantiating is cheap).
 * Both return undefined where WebAssembly or its SIMD proposal is missing: callers keep the JS kernels.
 */
import { SPARSE_WASM_BASE64 } from './sparse-wasm.js';

export type RhsColumns = (W: number, k: number, colPtr: number, rowIdx: number, values: number,
  j0: number, j1: number, shift: number, out: number) => void;
export type GatherRows = (H: number, k: number, rowPtr: number, colIdx: number, values: number,
  i0: number, i1: number, out: number) => void;
export type ScatterColumns = (H: number, hOff: number, k: number, colPtr: number, rowIdx: number, values: number,
  j0: number, j1: number, B: number) => number;

/** The 'fast' least-squares solver's kernels (wasm/fast.ts); pointers are byte offsets, as above. */
export interface FastExports {
  solveColumnsCd(W: number, G: number, invDiag: number, warmScale: number, warm: number, k: number, colPtr: number, rowIdx: number,
    values: number, j0: number, j1: number, H: number, shift: number, maxSweeps: number, tol: number, r: number, b: number): number;
  solveRowsCd(W: number, B: number, Bn: number, inv: number, hSum: number, Gw: number, invDiag: number, k: number, shift: number,
    i0: number, i1: number, maxSweeps: number, tol: number, r: number, b: number): number;
  outerColumns(H: number, k: number, count: number, S: number, hSum: number): void;
  scatterColumns: ScatterColumns;
  gram(X: number, rows: number, k: number, G: number): void;
  scale(X: number, rows: number, k: number, d: number, inv: number): void;
  pearsonTol(x: number, y: number, len: number): number;
  crossTerm(W: number, m: number, k: number, d: number, B: number): number;
  extrapolate(W: number, Wprev: number, len: number, beta: number): void;
  sumSquares(colPtr: number, values: number, j0: number, j1: number, init: number): number;
  scatterRowRange(H: number, k: number, colPtr: number, rowIdx: number, values: number, n: number, B: number, i0: number, i1: number): void;
  foldUnitRows(k: number, B: number, Bu: number, last: number, rows: number): void;
  openUnitRows(rowIdx: number, p0: number, p1: number, unit: number, k: number, B: number, Bu: number, last: number, i0: number, i1: number): void;
  fillUniform(state: number, out: number, count: number): void;
  /** The masked pass (wasm/masked.ts): one unit's columns, and the rows of W at the end of the pass. */
  maskedColumns(W: number, G: number, warmScale: number, warm: number, k: number, zeros: number, l2H: number, shift: number,
    obsPtr: number, obsRows: number, obsValues: number, maskPtr: number, maskRows: number, j0: number, j1: number, H: number,
    maxSweeps: number, tol: number, Gj: number, invDiag: number, r: number, b: number,
    unit: number, S: number, hSum: number, B: number, Bu: number, last: number, R: number, Ru: number, lastR: number, m: number): number;
  maskedRows(W: number, B: number, S: number, R: number, inv: number, hSum: number, diag: number, zeros: number,
    shift: number, l2W: number, k: number, m: number, maxSweeps: number, tol: number, Gw: number, invDiag: number, bn: number, b: number, r: number,
    out: number): number;
  foldRowsR(P: number, R: number, Ru: number, lastR: number, m: number): void;
}

export interface WasmKernels {
  readonly exports: FastExports;
  readonly rhsColumns: RhsColumns;
  readonly gatherRows: GatherRows;
  readonly scatterColumns: ScatterColumns;
  readonly rhsColumnsF32: RhsColumns;
  readonly gatherRowsF32: GatherRows;
  /** Byte offset of `bytes` fresh bytes, 16-byte aligned (contents unspecified). */
  reserve(bytes: number): number;
  /** Reserves room for `src` and copies it in; returns the byte offset. */
  put(src: Float64Array | Float32Array | Int32Array): number;
  /** The arena's current end, for `release`. */
  top(): number;
  /** Frees the reservations made after `top()` returned `mark`. */
  release(mark: number): void;
  /** Frees every reservation. */
  reset(): void;
  /** Views of the current memory, valid until a `reserve` grows it. */
  f64(ptr: number, length: number): Float64Array;
  f32(ptr: number, length: number): Float32Array;
  i32(ptr: number, length: number): Int32Array;
}

// The WebAssembly global is not in the ES2022 lib types; the part used here.
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<object>;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

const PAGE = 65536;
const MAX_PAGES = 65536;
// (func (param v128) (result v128) local.get 0 local.get 0 f64x2.add): validates only with SIMD.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 123, 1, 123, 3, 2, 1, 0,
  10, 11, 1, 9, 0, 32, 0, 32, 0, 253, 240, 1, 11]);

let compiled: { api: WasmApi; module: object } | null | undefined;
let shared: WasmKernels | undefined;

/** This thread's shared instance, made on the first call; undefined without WebAssembly SIMD. */
export function wasmKernels(): WasmKernels | undefined {
  if (shared === undefined) shared = makeWasmKernels();
  return shared;
}

/**
 * Starts compiling the module in the background (WebAssembly.compile, off this thread), so that the first
 * `makeWasmKernels` finds it compiled; it compiles synchronously if that has not finished by then.
 */
export function precompileWasmKernels(): Promise<void> {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (compiled !== undefined || api === undefined || !api.validate(SIMD_PROBE)) return Promise.resolve();
  return api.compile(decodeBase64(SPARSE_WASM_BASE64)).then((module) => { compiled ??= { api, module }; }, () => undefined);
}

/** A new instance with its own memory and arena; undefined without WebAssembly SIMD. */
export function makeWasmKernels(): WasmKernels | undefined {
  if (compiled === undefined) {
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    compiled = api === undefined || !api.validate(SIMD_PROBE) ? null : { api, module: new api.Module(decodeBase64(SPARSE_WASM_BASE64)) };
  }
  if (compiled === null) return undefined;
  const exports = new compiled.api.Instance(compiled.module, {}).exports;
  const memory = exports['memory'] as WasmMemory;
  const base = align16((exports['heapBase'] as () => number)());
  let top = base;
  const reserve = (bytes: number): number => {
    const ptr = top;
    const end = ptr + align16(bytes);
    const size = memory.buffer.byteLength;
    if (end > size) {
      const pages = size / PAGE;
      const need = Math.ceil((end - size) / PAGE);
      if (pages + need > MAX_PAGES) throw new RangeError(`wasm kernels: ${end} bytes exceed the 4 GiB of a 32-bit memory`);
      memory.grow(Math.min(Math.max(need, pages), MAX_PAGES - pages));
    }
    top = end;
    return ptr;
  };
  return {
    exports: exports as unknown as FastExports,
    rhsColumns: exports['rhsColumns'] as RhsColumns,
    gatherRows: exports['gatherRows'] as GatherRows,
    scatterColumns: exports['scatterColumns'] as ScatterColumns,
    rhsColumnsF32: exports['rhsColumnsF32'] as RhsColumns,
    gatherRowsF32: exports['gatherRowsF32'] as GatherRows,
    reserve,
    put: (src) => {
      const ptr = reserve(src.byteLength);
      // A copy of the same element type (a byte view of a Float64Array copied 30× slower here: 30 ms for 8 MB).
      if (src instanceof Float64Array) new Float64Array(memory.buffer, ptr, src.length).set(src);
      else if (src instanceof Int32Array) new Int32Array(memory.buffer, ptr, src.length).set(src);
      else new Float32Array(memory.buffer, ptr, src.length).set(src);
      return ptr;
    },
    top: () => top,
    release: (mark) => { top = mark; },
    reset: () => { top = base; },
    f64: (ptr, length) => new Float64Array(memory.buffer, ptr, length),
    f32: (ptr, length) => new Float32Array(memory.buffer, ptr, length),
    i32: (ptr, length) => new Int32Array(memory.buffer, ptr, length),
  };
}

function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

function decodeBase64(text: string): Uint8Array {
  const chars = atob(text);
  const bytes = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; i++) bytes[i] = chars.charCodeAt(i);
  return bytes;
}
