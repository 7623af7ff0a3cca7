/**
 * Rank-specialised versions of the two data-touching kernels, generated once per rank k and cached:
 * loops over the k components are unrolled into straight-line code with the k values held in
 * locals, which V8 keeps in registers (DESIGN.md §5 measured ~2.5× over generic loops).
 *   rhs(W, rowIdx, values, start, end, shift, b, bOff):  b = Σ_p values[p]·W[rowIdx[p], :] − shift
 *   stats(h, hOff, rowIdx, values, start, end, B):       B[rowIdx[p], :] += values[p]·h   (returns Σ values²)
 * Same semantics, same order of floating-point operations per entry as sparse-rhs.ts and accumulateCross
 * (accumulate-stats.ts), so results are bit-identical to them. Ranks above MAX_UNROLLED use those.
 * Allocates nothing per call.
 */
import { accumulateCross, accumulateRows } from './accumulate-stats.js';
import { sparseRhs } from './sparse-rhs.js';

export type RhsKernel = (W: Float64Array, rowIdx: Int32Array, values: Float64Array, start: number, end: number,
  shift: number, b: Float64Array, bOff: number) => void;
export type StatsKernel = (h: Float64Array, hOff: number, rowIdx: Int32Array, values: Float64Array, start: number, end: number,
  B: Float64Array) => number;

/** B[rowIdx[p], :] += values[p]·h_j for every column j of [0, n) in order, rows in [i0, i1) only. */
export type RowsKernel = (k: number, colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array, n: number, colStart: number,
  H: Float64Array, B: Float64Array, i0: number, i1: number) => void;

export interface RankKernels {
  readonly k: number;
  readonly rhs: RhsKernel;
  readonly stats: StatsKernel;
  readonly rows: RowsKernel;
}

const MAX_UNROLLED = 32;
const cache = new Map<number, RankKernels>();

export function rankKernels(k: number): RankKernels {
  let kernels = cache.get(k);
  if (kernels === undefined) {
    kernels = k <= MAX_UNROLLED ? generate(k) : generic(k);
    cache.set(k, kernels);
  }
  return kernels;
}

function range(k: number, f: (a: number) => string): string {
  return Array.from({ length: k }, (_, a) => f(a)).join('\n');
}

function generate(k: number): RankKernels {
  const rhsBody = `
    ${range(k, (a) => `let b${a} = -shift;`)}
    for (let p = start; p < end; p++) {
      const v = values[p];
      const o = rowIdx[p] * ${k};
      ${range(k, (a) => `b${a} += v * W[o + ${a}];`)}
    }
    ${range(k, (a) => `b[bOff + ${a}] = b${a};`)}`;
  const statsBody = `
    ${range(k, (a) => `const h${a} = h[hOff + ${a}];`)}
    let sq = 0;
    for (let p = start; p < end; p++) {
      const v = values[p];
      sq += v * v;
      const o = rowIdx[p] * ${k};
      ${range(k, (a) => `B[o + ${a}] += v * h${a};`)}
    }
    return sq;`;
  const rowsBody = `
    for (let j = 0; j < n; j++) {
      const off = (colStart + j) * ${k};
      ${range(k, (a) => `const h${a} = H[off + ${a}];`)}
      for (let p = colPtr[j], end = colPtr[j + 1]; p < end; p++) {
        const i = rowIdx[p];
        if (i < i0 || i >= i1) continue;
        const v = values[p];
        const o = i * ${k};
        ${range(k, (a) => `B[o + ${a}] += v * h${a};`)}
      }
    }`;
  // The Function constructor is the code generator here: the bodies above are fixed templates.
  const rhs = new Function('W', 'rowIdx', 'values', 'start', 'end', 'shift', 'b', 'bOff', rhsBody) as RhsKernel;
  const stats = new Function('h', 'hOff', 'rowIdx', 'values', 'start', 'end', 'B', statsBody) as StatsKernel;
  const rows = new Function('k', 'colPtr', 'rowIdx', 'values', 'n', 'colStart', 'H', 'B', 'i0', 'i1', rowsBody) as RowsKernel;
  return { k, rhs, stats, rows };
}

function generic(k: number): RankKernels {
  return {
    k,
    rhs: (W, rowIdx, values, start, end, shift, b, bOff) => sparseRhs(W, k, rowIdx, values, start, end, shift, b, bOff),
    stats: (h, hOff, rowIdx, values, start, end, B) => accumulateCross(h, hOff, k, rowIdx, values, start, end, B),
    rows: accumulateRows,
  };
}
