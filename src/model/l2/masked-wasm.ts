/**
 * The masked least-squares pass (issue #15) in WebAssembly (wasm/masked.ts), for the 'fast' solver on one thread:
 * per chunk its split (masked-split.ts, made once per chunk seen), then per unit the H solves and the statistics
 * (maskedColumns); at the end of the pass the units folded and every row of W solved (maskedRows). The same
 * operations in the same order as the TypeScript path (masked-pass.ts, masked-end.ts), so the same bytes.
 * The statistics (HHᵀ, hSum, AHᵀ, the per-row Grams R_i and their unit sums) live in the module's memory during
 * a pass; W, G = WᵀW + L2_H·I and the chunk's H are copied in, H and W out, S, hSum and ‖A_obs‖² out at the end.
 * R_i (the upper triangle, packed) and AHᵀ_i are zeroed by maskedRows once used, so a pass starts from zero without
 * an O(m·k²) fill; a row's first unit of a pass sums straight into R_i (wasm/masked.ts openRowsR).
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { COUNT_SOLVES, COUNT_SWEEPS } from '../../kernel/nnls-workspace.js';
import { makeWasmKernels, type WasmKernels } from '../../kernel/wasm/wasm-kernels.js';
import type { ResolvedOptions } from '../../options.js';
import { splitChunk, type ChunkSplit } from './masked-split.js';
import type { HeldOut, MaskedL2 } from './masked-pass.js';
import { closeUnit, forEachUnit, openUnit, type PassTotals } from './units.js';
import { eagerly } from './wasm-pass.js';

export interface MaskedWasm {
  /** The H-update and statistics of one chunk (after masked-pass.ts's checks). */
  step(ms: MaskedL2, chunk: CscChunk, options: ResolvedOptions, warm: boolean): void;
  /** The end of a pass, first half: the open unit and the rows' pending sums folded; S, hSum, normA2 into the state. */
  fold(ms: MaskedL2): void;
  /** Second half: every row of W (state.W in and out, state.inv and hSum read); returns Σ_i (ŵᵀG_iŵ − 2ŵ·bn_i). */
  solveRows(ms: MaskedL2, options: ResolvedOptions): number;
  /** The fit is done: the module instance goes back for the next masked fit of this thread (idempotent). */
  release(): void;
}

/**
 * One instance kept for the thread's next masked fit (cross-validation runs many): its memory is already grown
 * and its pages touched, which a fresh instance pays for on every fit (~5 ms per MB). Kept only up to SPARE_BYTES.
 */
let spare: WasmKernels | undefined;
const SPARE_BYTES = 256 * 2 ** 20;

/** Whether the masked pass fits in a 32-bit module's memory with room to spare (else the TypeScript path runs). */
export const maskedWasmFits = (m: number, k: number): boolean => 16 * m * k * k + 40 * m * k < 2 ** 31;

/** undefined where WebAssembly SIMD is missing. */
export function makeMaskedWasm(m: number, k: number): MaskedWasm | undefined {
  const wasm = spare ?? eagerly(makeWasmKernels);
  if (wasm === undefined) return undefined;
  spare = undefined;
  wasm.reset();
  let released = false;
  const fns = wasm.exports, mk = m * k, kk = k * k, P = (k * (k + 1)) / 2;
  const { W, G, warmScale, S, hSum, Su, hSumU, B, Bu, last, R, Ru, lastR, Gj, invDiag, r, b, bn, inv, out } = reserveLayout(wasm, m, k);
  const mark = wasm.top();
  let cached: { chunk: CscChunk; split: ChunkSplit; ptrs: SplitPtrs } | undefined;
  let clean = false, stepped = false;
  const open = { unit: -1, normA2: 0 }, pass = { normA2: 0 };
  const put = (ptr: number, from: Float64Array, length: number): void => wasm.f64(ptr, length).set(from.subarray(0, length));

  const load = (ms: MaskedL2, chunk: CscChunk): { split: ChunkSplit; ptrs: SplitPtrs } => {
    const c = cached?.chunk;
    if (c !== undefined && cached !== undefined && c.colPtr === chunk.colPtr && c.rowIdx === chunk.rowIdx && c.values === chunk.values
      && c.n === chunk.n && c.colStart === chunk.colStart) return cached;
    const split = splitChunk(chunk, ms.mask, m);
    cached = { chunk, split, ptrs: putSplit(wasm, mark, split, chunk.n, k) };
    return cached;
  };
  const totals = (): PassTotals => ({
    S: wasm.f64(S, kk), hSum: wasm.f64(hSum, k), normA2: pass.normA2, B: wasm.f64(B, mk),
    units: { unit: open.unit, S: wasm.f64(Su, kk), hSum: wasm.f64(hSumU, k), normA2: open.normA2, Bu: wasm.f64(Bu, mk), last: wasm.i32(last, m) },
  });
  const keep = (t: PassTotals): void => { pass.normA2 = t.normA2; open.unit = t.units.unit; open.normA2 = t.units.normA2; };

  const begin = (ms: MaskedL2): void => {
    const st = ms.base;
    if (!clean) { // a first pass, or one cut short: the statistics from zero
      wasm.f64(B, mk).fill(0); wasm.f64(R, m * P).fill(0); wasm.i32(last, m).fill(-1); wasm.i32(lastR, m).fill(-1);
    }
    clean = false;
    stepped = true;
    put(W, st.W, mk); put(G, st.G, kk); put(warmScale, st.warmScale, k);
    wasm.f64(S, kk).fill(0); wasm.f64(hSum, k).fill(0);
    open.unit = -1; open.normA2 = 0; pass.normA2 = 0;
  };

  return {
    step(ms, chunk, options, warm) {
      const st = ms.base, { split, ptrs } = load(ms, chunk);
      if (!stepped) begin(ms);
      const n = chunk.n, off = chunk.colStart * k;
      wasm.f64(ptrs.H, n * k).set(st.H.subarray(off, off + n * k));
      let sweeps = 0;
      forEachUnit(chunk.colStart, n, (unit, j0, j1) => {
        const t = totals(), sums = openUnit(t, unit);
        sweeps += fns.maskedColumns(W, G, warmScale, warm ? 1 : 0, k, ms.mask.zeros ? 1 : 0, options.l2H, options.l1H,
          ptrs.obsPtr, ptrs.obsRows, ptrs.obsValues, ptrs.maskPtr, ptrs.maskRows, j0, j1, ptrs.H, options.nnlsMaxSweeps, options.nnlsTol,
          Gj, invDiag, r, b, unit, Su, hSumU, B, Bu, last, R, Ru, lastR, m);
        for (let jl = j0; jl < j1; jl++) sums.normA2 += split.normA2[jl]!;
        keep(t);
      });
      st.H.set(wasm.f64(ptrs.H, n * k), off);
      ms.observed += split.observed;
      appendHeldOut(ms.test, split.test);
      count(ms, n, sweeps);
    },
    fold(ms) {
      if (!stepped) return;
      const st = ms.base, t = totals();
      closeUnit(t);
      keep(t);
      fns.foldUnitRows(k, B, Bu, last, m);
      fns.foldRowsR(P, R, Ru, lastR, m);
      st.S.set(wasm.f64(S, kk)); st.hSum.set(wasm.f64(hSum, k)); st.normA2 = pass.normA2;
    },
    solveRows(ms, options) {
      const st = ms.base;
      if (!stepped) begin(ms); // a pass without chunks: zero statistics
      stepped = false;
      put(W, st.W, mk); put(S, st.S, kk); put(inv, st.inv, k); put(hSum, st.hSum, k);
      const rowTerms = fns.maskedRows(W, B, S, R, inv, hSum, options.diag ? 1 : 0, ms.mask.zeros ? 1 : 0, options.l1W, options.l2W, k, m,
        options.nnlsMaxSweeps, options.nnlsTol, Gj, invDiag, bn, b, r, out);
      clean = true;
      st.W.set(wasm.f64(W, mk));
      count(ms, m, wasm.f64(out, 1)[0]!);
      return rowTerms;
    },
    release() {
      if (released) return;
      released = true;
      cached = undefined;
      if (wasm.top() <= SPARE_BYTES) spare = wasm;
    },
  };
}

/** The fixed region: the model, the statistics and scratch (pointers stay valid as the memory grows). */
function reserveLayout(wasm: WasmKernels, m: number, k: number) {
  const mk = m * k, kk = k * k, P = (k * (k + 1)) / 2, f64 = (n: number): number => wasm.reserve(8 * n);
  return {
    W: f64(mk), G: f64(kk), warmScale: f64(k), S: f64(kk), hSum: f64(k), Su: f64(kk), hSumU: f64(k), B: f64(mk), Bu: f64(mk),
    last: wasm.reserve(4 * m), R: f64(m * P), Ru: f64(m * P), lastR: wasm.reserve(4 * m),
    Gj: f64(kk), invDiag: f64(k), r: f64(k), b: f64(k), bn: f64(k), inv: f64(k), out: f64(1),
  };
}

/** A chunk's split into the module after `mark` (the previous chunk's region reused), with room for its H. */
function putSplit(wasm: WasmKernels, mark: number, split: ChunkSplit, n: number, k: number): SplitPtrs {
  wasm.release(mark);
  wasm.reserve(8 * (n + 1) + 12 * split.obsRows.length + 4 * split.maskRows.length + 8 * n * k + 128); // one grow
  wasm.release(mark);
  return {
    obsPtr: wasm.put(split.obsPtr), obsRows: wasm.put(split.obsRows), obsValues: wasm.put(split.obsValues),
    maskPtr: wasm.put(split.maskPtr), maskRows: wasm.put(split.maskRows), H: wasm.reserve(8 * n * k),
  };
}

interface SplitPtrs { readonly obsPtr: number; readonly obsRows: number; readonly obsValues: number; readonly maskPtr: number; readonly maskRows: number; readonly H: number }

function appendHeldOut(t: HeldOut, from: ChunkSplit['test']): void {
  const add = from.rows.length, need = t.n + add;
  if (add === 0) return;
  if (need > t.rows.length) {
    const cap = Math.max(need, t.rows.length * 2);
    const grow = <T extends Int32Array | Float64Array>(a: T): T => { const c = new (a.constructor as new (n: number) => T)(cap); c.set(a); return c; };
    t.rows = grow(t.rows); t.cols = grow(t.cols); t.values = grow(t.values); t.weights = grow(t.weights);
  }
  t.rows.set(from.rows, t.n); t.cols.set(from.cols, t.n); t.values.set(from.values, t.n); t.weights.set(from.weights, t.n);
  t.n = need;
}

function count(ms: MaskedL2, solves: number, sweeps: number): void {
  const counts = ms.base.ws.counts;
  counts[COUNT_SOLVES] = counts[COUNT_SOLVES]! + solves;
  counts[COUNT_SWEEPS] = counts[COUNT_SWEEPS]! + sweeps;
}
