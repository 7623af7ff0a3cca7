/**
 * The least-squares pass with a mask (issue #15; docs/architecture.md, Masks and held-out entries): the state
 * and the H-update of one chunk. Per sample j (masked-column.ts splits its entries):
 *   zeros missing (`mask: 'zeros'`): G_j = Σ_{i observed} w_i w_iᵀ + L2_H·I  (cost ∝ its observed nonzeros · k²);
 *   zeros are data: G_j = WᵀW + L2_H·I − Σ_{i masked} w_i w_iᵀ  (cost ∝ its masked entries · k²);
 *   b_j = Σ_{i observed} a_ij w_i − L1_H; h_j by the fit's NNLS from the warm start.
 * The statistics of the W-update, in the canonical unit order (units.ts; kernel/unit-rows.ts for rows):
 *   HHᵀ, hSum, ‖A_observed‖² (units of 4096 samples), AHᵀ over observed entries (rows, unit by unit) and per row
 *   R_i = Σ_j h_j h_jᵀ (upper triangle) over its observed samples (zeros missing) or its masked samples (zeros
 *   are data: the W-update uses HHᵀ − R_i). Held-out entries are listed (row, sample, value, weight) in sample
 *   order for the test loss at the end of the pass. One thread; the same bytes for any chunking.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { DataError } from '../../errors.js';
import { accumulateOuter } from '../../kernel/accumulate-stats.js';
import { addDiagonal, symmetrizeUpper } from '../../kernel/gram.js';
import { invertDiagonal, NNLS_CD_WARM, nnlsSolve } from '../../kernel/nnls-solve.js';
import { clearFactorCache } from '../../kernel/nnls-support.js';
import { openUnitRows } from '../../kernel/unit-rows.js';
import type { ResolvedMask, ResolvedOptions } from '../../options.js';
import { makeColumnSplit, splitColumn, type ColumnSplit } from './masked-column.js';
import type { MaskedWasm } from './masked-wasm.js';
import { ensureHCapacity, type L2State } from './state.js';
import { forEachUnit, openUnit, resetUnits } from './units.js';

/** The held-out entries of a pass, in sample order. */
export interface HeldOut {
  rows: Int32Array;
  cols: Int32Array;
  values: Float64Array;
  weights: Float64Array;
  n: number;
}

export interface MaskedL2 {
  readonly base: L2State;
  readonly mask: ResolvedMask;
  /** m × k²: per-row Grams (upper triangle) and their open unit's sums, with the unit each row's sum belongs to (empty with `wasm`: they live there). */
  readonly R: Float64Array;
  readonly Ru: Float64Array;
  readonly lastR: Int32Array;
  /** Scratch: one sample's Gram and 1/its diagonal, its split, a k-vector. */
  readonly Gj: Float64Array;
  readonly invDiagJ: Float64Array;
  split: ColumnSplit;
  readonly scratch: Float64Array;
  /** Observed entries fitted in this pass (zeros counted when they are data). */
  observed: number;
  readonly test: HeldOut;
  /** The pass in WebAssembly (masked-wasm.ts), else the TypeScript loops here and in masked-end.ts. */
  readonly wasm: MaskedWasm | undefined;
}

/** Bytes of a masked fit's per-row Grams (2·m·k² doubles). */
export const maskedRowBytes = (m: number, k: number): number => 16 * m * k * k;

export function makeMaskedL2(base: L2State, mask: ResolvedMask, wasm?: MaskedWasm): MaskedL2 {
  const { m, k } = base;
  const rows = wasm === undefined ? m : 0;
  const lastR = new Int32Array(rows).fill(-1);
  const test = { rows: new Int32Array(1024), cols: new Int32Array(1024), values: new Float64Array(1024), weights: new Float64Array(1024), n: 0 };
  return {
    base, mask, R: new Float64Array(rows * k * k), Ru: new Float64Array(rows * k * k), lastR, Gj: new Float64Array(k * k), invDiagJ: new Float64Array(k),
    split: makeColumnSplit(), scratch: new Float64Array(k), observed: 0, test, wasm,
  };
}

/** Start a pass: WᵀW + L2_H·I (zeros are data), statistics zeroed. */
export function beginMaskedPass(ms: MaskedL2, options: ResolvedOptions): void {
  const st = ms.base;
  st.kernels.gram(st.W, st.m, st.G);
  addDiagonal(st.G, st.k, options.l2H);
  st.B.fill(0); st.S.fill(0); st.hSum.fill(0); st.normA2 = 0;
  resetUnits(st.units);
  st.passNnz = 0; st.passSamples = 0;
  ms.R.fill(0); ms.lastR.fill(-1);
  ms.observed = 0; ms.test.n = 0;
}

/** The H-update and statistics of one chunk. */
export function stepMasked(ms: MaskedL2, chunk: CscChunk, options: ResolvedOptions, sourceName: string): void {
  const st = ms.base;
  if (chunk.m !== st.m) {
    throw new DataError('SHAPE_MISMATCH', `chunk has ${chunk.m} features but the model has ${st.m}`, { source: sourceName, batch: chunk.position });
  }
  ensureHCapacity(st, chunk.colStart + chunk.n);
  const { colPtr, rowIdx, values } = chunk;
  const warm = st.iteration > 0;
  if (ms.wasm !== undefined) ms.wasm.step(ms, chunk, options, warm);
  else forEachUnit(chunk.colStart, chunk.n, (unit, j0, j1) => {
    const sums = openUnit(st, unit);
    for (let jl = j0; jl < j1; jl++) {
      const j = chunk.colStart + jl;
      splitColumn(ms.split, ms.mask, st.m, j, rowIdx, values, colPtr[jl]!, colPtr[jl + 1]!);
      solveSample(ms, options, j, warm);
      accumulateOuter(st.H, j * st.k, st.k, sums.S, sums.hSum);
      sums.normA2 += ms.split.normA2;
      ms.observed += ms.split.observed;
      accumulateRows(ms, unit, j);
      listHeldOut(ms, j);
    }
  });
  st.passNnz += colPtr[chunk.n]!;
  st.passSamples = Math.max(st.passSamples, chunk.colStart + chunk.n);
}

function solveSample(ms: MaskedL2, options: ResolvedOptions, j: number, warm: boolean): void {
  const st = ms.base, s = ms.split, { k, W, ws, b, warmScale } = st, H = st.H, G = ms.Gj;
  if (ms.mask.zeros) {
    G.fill(0);
    addOuters(W, k, s.obsRows, s.nObs, G, 1);
    symmetrizeUpper(G, k);
    addDiagonal(G, k, options.l2H);
  } else {
    G.set(st.G);
    addOuters(W, k, s.maskedRows, s.nMasked, G, -1);
    symmetrizeUpper(G, k);
  }
  for (let a = 0; a < k; a++) b[a] = 0;
  for (let t = 0; t < s.nObs; t++) {
    const o = s.obsRows[t]! * k, v = s.obsValues[t]!;
    for (let a = 0; a < k; a++) b[a] = b[a]! + v * W[o + a]!;
  }
  for (let a = 0; a < k; a++) b[a] = b[a]! - options.l1H;
  const off = j * k;
  for (let a = 0; a < k; a++) H[off + a] = warm ? H[off + a]! * warmScale[a]! : 0;
  invertDiagonal(G, k, ms.invDiagJ);
  if (options.nnlsMethod !== NNLS_CD_WARM) clearFactorCache(ws.cache); // the warm CD keeps no factors
  nnlsSolve(G, ms.invDiagJ, k, b, 0, H, off, ws, options.nnlsMaxSweeps, options.nnlsTol, options.nnlsMethod);
}

/** G (upper triangle) += sign · Σ_t w_{rows[t]} w_{rows[t]}ᵀ. */
function addOuters(W: Float64Array, k: number, rows: Int32Array, n: number, G: Float64Array, sign: number): void {
  for (let t = 0; t < n; t++) {
    const o = rows[t]! * k;
    for (let a = 0; a < k; a++) {
      const wa = sign * W[o + a]!;
      if (wa === 0) continue;
      const ga = a * k;
      for (let c = a; c < k; c++) G[ga + c] = G[ga + c]! + wa * W[o + c]!;
    }
  }
}

/** AHᵀ over the observed nonzeros and the per-row Grams R_i, in their rows' unit sums. */
function accumulateRows(ms: MaskedL2, unit: number, j: number): void {
  const st = ms.base, s = ms.split, { k, m } = st, H = st.H, off = j * k, Bu = st.units.Bu;
  openUnitRows(s.obsRows, 0, s.nObs, unit, k, st.B, Bu, st.units.last, 0, m);
  for (let t = 0; t < s.nObs; t++) {
    const o = s.obsRows[t]! * k, v = s.obsValues[t]!;
    for (let a = 0; a < k; a++) Bu[o + a] = Bu[o + a]! + v * H[off + a]!;
  }
  const rows = ms.mask.zeros ? s.obsRows : s.maskedRows, n = ms.mask.zeros ? s.nObs : s.nMasked, kk = k * k, Ru = ms.Ru;
  openUnitRows(rows, 0, n, unit, kk, ms.R, Ru, ms.lastR, 0, m);
  for (let t = 0; t < n; t++) {
    const o = rows[t]! * kk;
    for (let a = 0; a < k; a++) {
      const ha = H[off + a]!;
      if (ha === 0) continue;
      const ra = o + a * k;
      for (let c = a; c < k; c++) Ru[ra + c] = Ru[ra + c]! + ha * H[off + c]!;
    }
  }
}

function listHeldOut(ms: MaskedL2, j: number): void {
  const s = ms.split, t = ms.test;
  if (s.nTest === 0) return;
  const need = t.n + s.nTest;
  if (need > t.rows.length) {
    const cap = Math.max(need, t.rows.length * 2);
    const grow = <T extends Int32Array | Float64Array>(a: T): T => { const b = new (a.constructor as new (n: number) => T)(cap); b.set(a); return b; };
    t.rows = grow(t.rows); t.cols = grow(t.cols); t.values = grow(t.values); t.weights = grow(t.weights);
  }
  for (let q = 0; q < s.nTest; q++) {
    t.rows[t.n] = s.testRows[q]!; t.cols[t.n] = j; t.values[t.n] = s.testValues[q]!; t.weights[t.n] = s.testWeights[q]!; t.n++;
  }
}
