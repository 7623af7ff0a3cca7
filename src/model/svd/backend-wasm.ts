/**
 * The randomized SVD's products in WebAssembly (see model/svd/backend.ts for the contract): a private
 * instance of the SIMD kernels (kernel/wasm/wasm-kernels.ts; the module compiled by the optimising tier,
 * model/l2/wasm-pass.ts `eagerly`: the start is often its first user, before the fit's first pass), holding
 *   Y (m×l) and Z (n×l, regrown geometrically while the first pass finds n),
 *   each chunk of the first pass, copied in once and kept (up to CACHE_BYTES in all) — a later pass that
 *     brings the same arrays again (an in-memory source) is not copied again; other chunks are copied
 *     into scratch for their product and released,
 *   the tall-matrix products' pattern and tile (kernel/wasm/tall-products.ts).
 *   forward:   Y += A_c Z_c    scatterColumns (h_j = Z's row colStart + j), column order, p order per column
 *   transpose: Z_c = A_cᵀ Y    rhsColumns with shift −0 (each sum starts at +0, as the TypeScript kernel's)
 * The same bits as kernel/csc-times-dense.ts. Memory: about 8·(m + n)·l bytes plus the kept chunks
 * (12 bytes per nonzero); after `release` it waits as the next sketch's spare (below), then goes to the GC.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { makeTallProducts } from '../../kernel/wasm/tall-products.js';
import { makeWasmKernels, type WasmKernels } from '../../kernel/wasm/wasm-kernels.js';
import type { SketchBackend, Side } from './backend.js';
import { eagerly } from '../l2/wasm-pass.js';

/** Chunks kept across passes, in bytes (a source that makes new arrays every pass wastes at most this). */
const CACHE_BYTES = 256 * 1024 * 1024;

/**
 * The instance of the last finished sketch on this thread, for the next one (a rank sweep, a benchmark):
 * its memory's pages are mapped already. Touching fresh memory for the first time is what dominated the
 * start on the benchmark machine (a VM: 3–10 ms per MB, 50–70 ms of the 1 M-nonzero start, against
 * ~25 ms of arithmetic). Kept only up to SPARE_BYTES of arena and for SPARE_MS, then left to the GC.
 */
const SPARE_BYTES = 64 * 1024 * 1024;
const SPARE_MS = 60_000;
let spare: WasmKernels | undefined;
let spareTimer: ReturnType<typeof setTimeout> | undefined;

function takeSpare(): WasmKernels | undefined {
  const wasm = spare;
  spare = undefined;
  if (spareTimer !== undefined) clearTimeout(spareTimer);
  spareTimer = undefined;
  wasm?.reset();
  return wasm;
}

function keepSpare(wasm: WasmKernels): void {
  if (wasm.top() > SPARE_BYTES) return;
  takeSpare(); // one at a time
  spare = wasm;
  spareTimer = setTimeout(() => { spare = undefined; spareTimer = undefined; }, SPARE_MS);
  spareTimer.unref();
}

interface ChunkPtrs { readonly colPtr: number; readonly rowIdx: number; readonly values: number }
interface Kept { readonly colPtr: Int32Array; readonly rowIdx: Int32Array; readonly values: Float64Array; readonly n: number; readonly ptrs: ChunkPtrs }

/** undefined where WebAssembly SIMD is missing. */
export function makeWasmSketchBackend(m: number, l: number): SketchBackend | undefined {
  const wasm = takeSpare() ?? eagerly(makeWasmKernels); // optimised code from the start (the module is shared with the fit)
  if (wasm === undefined) return undefined;
  const tall = makeTallProducts(wasm, l);
  const yPtr = wasm.reserve(8 * m * l);
  wasm.f64(yPtr, m * l).fill(0);
  let zPtr = 0, zRows = 0;
  const kept: (Kept | undefined)[] = [];
  let keptBytes = 0, firstPass = true, scratch = -1;

  const load = (chunk: CscChunk, ordinal: number): ChunkPtrs => {
    const old = kept[ordinal];
    if (old !== undefined && old.colPtr === chunk.colPtr && old.rowIdx === chunk.rowIdx && old.values === chunk.values && old.n === chunk.n) return old.ptrs;
    const nnz = chunk.colPtr[chunk.n]!, bytes = 4 * (chunk.n + 1) + 12 * nnz + 48;
    const keep = firstPass && old === undefined && keptBytes + bytes <= CACHE_BYTES;
    if (!keep) scratch = wasm.top();
    const ptrs = copy(wasm, chunk, nnz, bytes);
    if (keep) {
      kept[ordinal] = { colPtr: chunk.colPtr, rowIdx: chunk.rowIdx, values: chunk.values, n: chunk.n, ptrs };
      keptBytes += bytes;
    }
    return ptrs;
  };
  const done = (): void => {
    if (scratch >= 0) wasm.release(scratch);
    scratch = -1;
  };
  const of = (side: Side): number => (side === 'Y' ? yPtr : zPtr);

  return {
    kind: 'wasm',
    Y: () => wasm.f64(yPtr, m * l),
    Z: () => wasm.f64(zPtr, zRows * l),
    ensureZ(rows) {
      if (rows <= zRows) return;
      const grown = Math.max(rows, 2 * zRows), at = wasm.reserve(8 * grown * l); // the old Z is left behind
      if (zRows > 0) wasm.f64(at, zRows * l).set(wasm.f64(zPtr, zRows * l));
      zPtr = at;
      zRows = grown;
    },
    forward(chunk, ordinal) {
      const p = load(chunk, ordinal);
      wasm.scatterColumns(zPtr, chunk.colStart * l, l, p.colPtr, p.rowIdx, p.values, 0, chunk.n, yPtr);
      done();
    },
    transpose(chunk, ordinal) {
      const p = load(chunk, ordinal);
      wasm.rhsColumns(yPtr, l, p.colPtr, p.rowIdx, p.values, 0, chunk.n, -0, zPtr + 8 * chunk.colStart * l);
      done();
    },
    endPass() {
      firstPass = false;
    },
    release() {
      keepSpare(wasm);
    },
    gram: (side, rows, G) => tall.gram(of(side), rows, G),
    timesInPlace: (side, rows, M) => tall.timesInPlace(of(side), rows, M),
    times: (side, rows, M, cols, out) => tall.times(of(side), rows, M, cols, out),
  };
}

/** The chunk's arrays into the module's memory, grown once for all three. */
function copy(wasm: WasmKernels, chunk: CscChunk, nnz: number, bytes: number): ChunkPtrs {
  const at = wasm.top();
  wasm.reserve(bytes);
  wasm.release(at);
  return {
    colPtr: wasm.put(chunk.colPtr.subarray(0, chunk.n + 1)),
    rowIdx: wasm.put(chunk.rowIdx.subarray(0, nnz)),
    values: wasm.put(chunk.values.subarray(0, nnz)),
  };
}
