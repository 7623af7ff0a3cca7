/**
 * Where the randomized SVD (model/svd/sketch.ts) keeps its two tall matrices and how it multiplies them:
 * Y (m×l) and Z (n×l), row-major. Two implementations give the same bytes:
 *   WebAssembly (model/svd/backend-wasm.ts): the SIMD sparse kernels on copies of the chunks in the
 *     module's memory, Y and Z living there too; the default where the runtime has SIMD;
 *   TypeScript (here): the same sums in the same order (kernel/csc-times-dense.ts, gram.ts, times-small.ts).
 * Per chunk both sum column by column in column order, so the chunking does not change the bytes.
 * Views from Y() and Z() are valid until the next call of another method (the module's memory may grow).
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { cscTimesDense, cscTransposeTimesDense } from '../../kernel/csc-times-dense.js';
import { gram } from '../../kernel/gram.js';
import { timesSmall } from '../../kernel/times-small.js';
import { makeWasmSketchBackend } from './backend-wasm.js';

export type Side = 'Y' | 'Z';

export interface SketchBackend {
  readonly kind: 'wasm' | 'typescript';
  /** Y (m×l), zero when made. */
  Y(): Float64Array;
  /** Z (at least `rows`×l once ensureZ(rows) was called). */
  Z(): Float64Array;
  /** Room for `rows` rows of Z, the rows already there kept. */
  ensureZ(rows: number): void;
  /** Y += A_c Z_c, Z_c = Z's rows colStart…colStart+n_c. `ordinal`: the chunk's place in its pass. */
  forward(chunk: CscChunk, ordinal: number): void;
  /** Z_c = A_cᵀ Y. */
  transpose(chunk: CscChunk, ordinal: number): void;
  /** The end of a pass (the WebAssembly backend keeps copies of the first pass's chunks only). */
  endPass(): void;
  /** Done: nothing may be called after (the WebAssembly backend leaves its memory to the next sketch). */
  release(): void;
  /** G (l×l) = XᵀX for X = Y or Z's first `rows` rows. */
  gram(side: Side, rows: number, G: Float64Array): void;
  /** X ← X·M, M l×l row-major. */
  timesInPlace(side: Side, rows: number, M: Float64Array): void;
  /** out (rows×cols) = X·M, M l×cols row-major. */
  times(side: Side, rows: number, M: Float64Array, cols: number, out: Float64Array): void;
}

/** The WebAssembly backend when asked for and available, else the TypeScript one. */
export function makeSketchBackend(m: number, l: number, wasm: boolean): SketchBackend {
  return (wasm ? makeWasmSketchBackend(m, l) : undefined) ?? makeTypeScriptSketchBackend(m, l);
}

const TILE = 512;

export function makeTypeScriptSketchBackend(m: number, l: number): SketchBackend {
  const Y = new Float64Array(m * l);
  let Z = new Float64Array(0);
  const tile = new Float64Array(TILE * l);
  const of = (side: Side): Float64Array => (side === 'Y' ? Y : Z);
  return {
    kind: 'typescript',
    Y: () => Y,
    Z: () => Z,
    ensureZ(rows) {
      if (Z.length >= rows * l) return;
      const grown = new Float64Array(Math.max(rows * l, 2 * Z.length));
      grown.set(Z);
      Z = grown;
    },
    forward(chunk) {
      cscTimesDense(chunk.colPtr, chunk.rowIdx, chunk.values, chunk.n, chunk.colStart, Z, l, Y);
    },
    transpose(chunk) {
      cscTransposeTimesDense(chunk.colPtr, chunk.rowIdx, chunk.values, chunk.n, chunk.colStart, Y, l, Z);
    },
    endPass() {},
    release() {},
    gram(side, rows, G) {
      gram(of(side), rows, l, G);
    },
    timesInPlace(side, rows, M) {
      const X = of(side);
      for (let i0 = 0; i0 < rows; i0 += TILE) {
        const count = Math.min(TILE, rows - i0);
        timesSmall(X, i0 * l, count, l, M, l, tile, 0);
        for (let q = 0; q < count * l; q++) X[i0 * l + q] = tile[q]!;
      }
    },
    times(side, rows, M, cols, out) {
      timesSmall(of(side), 0, rows, l, M, cols, out, 0);
    },
  };
}
