/**
 * Products of a tall dense matrix X (rows×l, row-major, in a WasmKernels instance's memory) with small
 * ones, by the SIMD sparse kernels: a row-major X is a CSC matrix whose "columns" are X's rows, each
 * with l nonzeros at rows 0…l−1 (colPtr = 0, l, 2l, …; rowIdx = 0…l−1 repeated; values = X itself).
 * Taken a tile of T rows at a time (values pointing at the tile's first row), the pattern is T·l long
 * whatever the rows:
 *   gram:         G = XᵀX          scatterColumns with h_i = X's row i: G[b, :] += X[i, b]·X[i, :], i in order
 *   times:        out = X·M         rhsColumns with M (l×cols) as W: out[i, c] = Σ_b X[i, b]·M[b, c], b in order from +0
 *   timesInPlace: X ← X·M           the same, through a tile of scratch (the kernel reads X's row while writing)
 * The sums are those of kernel/gram.ts and kernel/times-small.ts in the same order (gram.ts skips zero
 * entries, which add ±0 here: the same bits for finite X), so TypeScript gives the same bytes.
 * Cost O(rows·l²) (gram) and O(rows·l·cols); ×4–8 the TypeScript loops at 20000×20, and compiled code
 * from the first call (no JIT warm-up). makeTallProducts reserves the pattern, M, G and the tile once;
 * the calls allocate nothing in the module (M, G and the results cross as copies; views are re-taken).
 */
import type { WasmKernels } from './wasm-kernels.js';

export interface TallProducts {
  /** G (l×l row-major) = XᵀX for X at byte offset `X` with `rows` rows. */
  gram(X: number, rows: number, G: Float64Array): void;
  /** X ← X·M, M l×l row-major. */
  timesInPlace(X: number, rows: number, M: Float64Array): void;
  /** out (rows×cols row-major, a JavaScript array) = X·M, M l×cols row-major. */
  times(X: number, rows: number, M: Float64Array, cols: number, out: Float64Array): void;
}

/** Rows per tile: the pattern is 4·T·(l + 1) bytes and the tile 8·T·l (80 kB at l = 20). */
const TILE = 512;

export function makeTallProducts(wasm: WasmKernels, l: number): TallProducts {
  const colPtr = wasm.reserve(4 * (TILE + 1)), rowIdx = wasm.reserve(4 * TILE * l);
  const Gp = wasm.reserve(8 * l * l), tile = wasm.reserve(8 * TILE * l);
  let Mp = wasm.reserve(8 * l * l), mSize = l * l;
  const cp = wasm.i32(colPtr, TILE + 1), ri = wasm.i32(rowIdx, TILE * l);
  for (let i = 0; i <= TILE; i++) cp[i] = i * l;
  for (let p = 0; p < TILE * l; p++) ri[p] = p % l;
  const putM = (M: Float64Array, length: number): void => {
    if (length > mSize) { // l×cols with cols > l (k > m): a larger M, the old one left behind
      Mp = wasm.reserve(8 * length);
      mSize = length;
    }
    const view = wasm.f64(Mp, length);
    for (let q = 0; q < length; q++) view[q] = M[q]!;
  };
  return {
    gram(X, rows, G) {
      wasm.f64(Gp, l * l).fill(0);
      for (let i0 = 0; i0 < rows; i0 += TILE) {
        wasm.scatterColumns(X, i0 * l, l, colPtr, rowIdx, X + 8 * i0 * l, 0, Math.min(TILE, rows - i0), Gp);
      }
      G.set(wasm.f64(Gp, l * l));
    },
    timesInPlace(X, rows, M) {
      putM(M, l * l);
      for (let i0 = 0; i0 < rows; i0 += TILE) {
        const count = Math.min(TILE, rows - i0), at = X + 8 * i0 * l;
        wasm.rhsColumns(Mp, l, colPtr, rowIdx, at, 0, count, -0, tile); // init −(−0) = +0, as timesSmall
        wasm.f64(at, count * l).set(wasm.f64(tile, count * l));
      }
    },
    times(X, rows, M, cols, out) {
      putM(M, l * cols);
      const step = Math.max(1, Math.min(TILE, Math.floor((TILE * l) / cols))); // rows whose output fits the tile
      for (let i0 = 0; i0 < rows; i0 += step) {
        const count = Math.min(step, rows - i0);
        wasm.rhsColumns(Mp, cols, colPtr, rowIdx, X + 8 * i0 * l, 0, count, -0, tile);
        out.set(wasm.f64(tile, count * cols), i0 * cols);
      }
    },
  };
}
