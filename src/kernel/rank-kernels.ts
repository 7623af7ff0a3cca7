/**
 * Rank-specialised versions of the data-touching kernels and of the O(m·k) work on W at the end of
 * a pass, generated once per rank k and cached: loops over the k components are unrolled into
 * straight-line code with the k values held in locals, which V8 keeps in registers (docs/architecture.md, Kernels;
 * measured ~2.5× over generic loops; ~4× for the Gram matrix).
 *   rhs(W, rowIdx, values, start, end, shift, b, bOff):  b = Σ_p values[p]·W[rowIdx[p], :] − shift
 *   stats(h, hOff, rowIdx, values, start, end, B):       B[rowIdx[p], :] += values[p]·h   (returns Σ values²)
 *   rows(…, i0, i1):                                      stats for every column, rows [i0, i1) only
 *   gram(X, rows, G):                                     G = XᵀX (gram.ts)
 *   scale(X, rows, d, inv):                               d = column sums, columns divided by them (scale.ts)
 * Same semantics, same order of floating-point operations per entry as sparse-rhs.ts, accumulate-stats.ts,
 * gram.ts and scale.ts, so results are bit-identical to them (gram.ts skips the products of a zero
 * entry, which add +0 or −0 here: the same bits for finite X). Ranks above MAX_UNROLLED (MAX_GRAM for
 * the Gram matrix, k(k+1)/2 accumulators) use those. Allocates nothing per call.
 */
import { accumulateCross, accumulateRows } from './accumulate-stats.js';
import { gram as gramGeneric } from './gram.js';
import { scaleColumns } from './scale.js';
import { sparseRhs } from './sparse-rhs.js';

export type RhsKernel = (W: Float64Array, rowIdx: Int32Array, values: Float64Array, start: number, end: number,
  shift: number, b: Float64Array, bOff: number) => void;
export type StatsKernel = (h: Float64Array, hOff: number, rowIdx: Int32Array, values: Float64Array, start: number, end: number,
  B: Float64Array) => number;

/** B[rowIdx[p], :] += values[p]·h_j for every column j of [0, n) in order, rows in [i0, i1) only. */
export type RowsKernel = (k: number, colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array, n: number, colStart: number,
  H: Float64Array, B: Float64Array, i0: number, i1: number) => void;

export type GramKernel = (X: Float64Array, rows: number, G: Float64Array) => void;
export type ScaleKernel = (X: Float64Array, rows: number, d: Float64Array, inv: Float64Array) => void;

export interface RankKernels {
  readonly k: number;
  readonly rhs: RhsKernel;
  readonly stats: StatsKernel;
  readonly rows: RowsKernel;
  readonly gram: GramKernel;
  readonly scale: ScaleKernel;
}

const MAX_UNROLLED = 32;
const MAX_GRAM = 16;
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
  const pairs: [number, number][] = [];
  for (let a = 0; a < k; a++) for (let c = a; c < k; c++) pairs.push([a, c]);
  const gramBody = `
    ${pairs.map(([a, c]) => `let g${a}_${c} = 0;`).join(' ')}
    for (let o = 0, end = rows * ${k}; o < end; o += ${k}) {
      ${range(k, (a) => `const x${a} = X[o + ${a}];`)}
      ${pairs.map(([a, c]) => `g${a}_${c} += x${a} * x${c};`).join('\n')}
    }
    ${pairs.map(([a, c]) => `G[${a * k + c}] = g${a}_${c}; G[${c * k + a}] = g${a}_${c};`).join('\n')}`;
  const scaleBody = `
    ${range(k, (a) => `let s${a} = 0;`)}
    for (let o = 0, end = rows * ${k}; o < end; o += ${k}) {
      ${range(k, (a) => `s${a} += X[o + ${a}];`)}
    }
    ${range(k, (a) => `d[${a}] = s${a}; const i${a} = inv[${a}] = s${a} > 0 ? 1 / s${a} : 0;`)}
    for (let o = 0, end = rows * ${k}; o < end; o += ${k}) {
      ${range(k, (a) => `X[o + ${a}] *= i${a};`)}
    }`;
  // The Function constructor is the code generator here: the bodies above are fixed templates.
  const rhs = new Function('W', 'rowIdx', 'values', 'start', 'end', 'shift', 'b', 'bOff', rhsBody) as RhsKernel;
  const stats = new Function('h', 'hOff', 'rowIdx', 'values', 'start', 'end', 'B', statsBody) as StatsKernel;
  const rows = new Function('k', 'colPtr', 'rowIdx', 'values', 'n', 'colStart', 'H', 'B', 'i0', 'i1', rowsBody) as RowsKernel;
  const gram = k <= MAX_GRAM ? new Function('X', 'rows', 'G', gramBody) as GramKernel : (X: Float64Array, rows: number, G: Float64Array) => gramGeneric(X, rows, k, G);
  const scale = new Function('X', 'rows', 'd', 'inv', scaleBody) as ScaleKernel;
  return { k, rhs, stats, rows, gram, scale };
}

function generic(k: number): RankKernels {
  return {
    k,
    rhs: (W, rowIdx, values, start, end, shift, b, bOff) => sparseRhs(W, k, rowIdx, values, start, end, shift, b, bOff),
    stats: (h, hOff, rowIdx, values, start, end, B) => accumulateCross(h, hOff, k, rowIdx, values, start, end, B),
    rows: accumulateRows,
    gram: (X, rows, G) => gramGeneric(X, rows, k, G),
    scale: (X, rows, d, inv) => scaleColumns(X, rows, k, d, inv),
  };
}
