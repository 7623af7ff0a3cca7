import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeRandom } from '../src/kernel/random.js';
import { rankKernels } from '../src/kernel/rank-kernels.js';
import { makeWasmKernels, wasmKernels, type WasmKernels } from '../src/kernel/wasm/wasm-kernels.js';

interface Sparse { m: number; n: number; colPtr: Int32Array; rowIdx: Int32Array; values: Float64Array }

// Columns as sorted sets of distinct rows; empty columns are frequent, and with `period` > 0 the
// column patterns repeat (the same rows hit again and again, as in the scatter's worst case).
const sparseCase = fc.integer({ min: 1, max: 40 }).chain((m) => fc.record({
  m: fc.constant(m),
  k: fc.integer({ min: 1, max: 16 }),
  columns: fc.array(fc.oneof(fc.constant([] as number[]), fc.uniqueArray(fc.nat(m - 1), { maxLength: m })), { maxLength: 24 }),
  period: fc.nat(3),
  shift: fc.oneof(fc.constant(0), fc.double({ min: -10, max: 10, noNaN: true })),
  seed: fc.integer(),
}));

function toCsc(m: number, columns: number[][], period: number, seed: number): Sparse {
  const rnd = makeRandom(seed);
  const cols = columns.map((_, j) => [...columns[period > 0 ? j % period : j]!].sort((a, b) => a - b));
  const colPtr = new Int32Array(cols.length + 1);
  cols.forEach((c, j) => { colPtr[j + 1] = colPtr[j]! + c.length; });
  const rowIdx = Int32Array.from(cols.flat());
  const values = Float64Array.from(rowIdx, () => rnd.uniform() * 10 ** (4 * rnd.uniform() - 2));
  return { m, n: cols.length, colPtr, rowIdx, values };
}

/** Stable counting-sort transposition: CSR with column indices ascending within each row. */
function toCsr({ m, n, colPtr, rowIdx, values }: Sparse) {
  const rowPtr = new Int32Array(m + 1);
  for (const i of rowIdx) rowPtr[i + 1]!++;
  for (let i = 0; i < m; i++) rowPtr[i + 1]! += rowPtr[i]!;
  const next = rowPtr.slice(0, m), colIdx = new Int32Array(rowIdx.length), csrValues = new Float64Array(rowIdx.length);
  for (let j = 0; j < n; j++) {
    for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) {
      const q = next[rowIdx[p]!]!++;
      colIdx[q] = j; csrValues[q] = values[p]!;
    }
  }
  return { rowPtr, colIdx, values: csrValues };
}

function randomFactor(rows: number, k: number, seed: number): Float64Array {
  const rnd = makeRandom(seed);
  return Float64Array.from({ length: rows * k }, () => (rnd.uniform() < 0.2 ? 0 : rnd.uniform() * 3 - 0.5));
}

/** Index of the first entry whose bits differ (Object.is tells −0 from +0), or −1. */
function firstDifference(a: Float64Array | number[], b: Float64Array | number[]): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function kernels(): WasmKernels {
  const wasm = wasmKernels();
  if (wasm === undefined) throw new Error('WebAssembly SIMD is unavailable on this Node');
  wasm.reset();
  return wasm;
}

describe('wasm kernels (wasm/sparse.ts)', () => {
  it('rhsColumns gives the bits of rankKernels(k).rhs, for any k, shift and column range', () => {
    fc.assert(fc.property(sparseCase, ({ m, k, columns, period, shift, seed }) => {
      const A = toCsc(m, columns, period, seed);
      const W = randomFactor(m, k, seed + 1);
      const j0 = Math.min(1, A.n), j1 = A.n;
      const expected = new Float64Array((j1 - j0) * k);
      for (let j = j0; j < j1; j++) rankKernels(k).rhs(W, A.rowIdx, A.values, A.colPtr[j]!, A.colPtr[j + 1]!, shift, expected, (j - j0) * k);
      const wasm = kernels();
      const w = wasm.put(W), cp = wasm.put(A.colPtr), ri = wasm.put(A.rowIdx), v = wasm.put(A.values);
      const out = wasm.reserve(expected.byteLength);
      wasm.rhsColumns(w, k, cp, ri, v, j0, j1, shift, out);
      expect(firstDifference(wasm.f64(out, expected.length), expected)).toBe(-1);
    }));
  });

  it('gatherRows over the CSR copy gives the bits of the column-order scatter from a zero B', () => {
    fc.assert(fc.property(sparseCase, ({ m, k, columns, period, seed }) => {
      const A = toCsc(m, columns, period, seed);
      const H = randomFactor(A.n, k, seed + 2);
      const expected = new Float64Array(m * k);
      for (let j = 0; j < A.n; j++) rankKernels(k).stats(H, j * k, A.rowIdx, A.values, A.colPtr[j]!, A.colPtr[j + 1]!, expected);
      const T = toCsr(A);
      const wasm = kernels();
      const h = wasm.put(H), rp = wasm.put(T.rowPtr), ci = wasm.put(T.colIdx), v = wasm.put(T.values);
      const out = wasm.reserve(expected.byteLength);
      const i0 = Math.min(2, m);
      wasm.gatherRows(h, k, rp, ci, v, 0, i0, out);
      wasm.gatherRows(h, k, rp, ci, v, i0, m, out + i0 * k * 8); // two row ranges: as threads would split it
      expect(firstDifference(wasm.f64(out, expected.length), expected)).toBe(-1);
    }));
  });

  it('scatterColumns gives the bits of rankKernels(k).stats per column, B and the summed Σ values² alike', () => {
    fc.assert(fc.property(sparseCase, ({ m, k, columns, period, seed }) => {
      const A = toCsc(m, columns, period, seed);
      const hOff = 3 * k; // H holds three earlier samples, as the model's H does for a later chunk
      const H = randomFactor(A.n + 3, k, seed + 3), B0 = randomFactor(m, k, seed + 4);
      const expected = B0.slice();
      let sq = 0;
      for (let j = 0; j < A.n; j++) sq += rankKernels(k).stats(H, hOff + j * k, A.rowIdx, A.values, A.colPtr[j]!, A.colPtr[j + 1]!, expected);
      const wasm = kernels();
      const h = wasm.put(H), cp = wasm.put(A.colPtr), ri = wasm.put(A.rowIdx), v = wasm.put(A.values), b = wasm.put(B0);
      const got = wasm.scatterColumns(h, hOff, k, cp, ri, v, 0, A.n, b);
      expect(firstDifference(wasm.f64(b, expected.length), expected)).toBe(-1);
      expect(Object.is(got, sq)).toBe(true);
    }));
  });

  it('the float32 kernels are within (nnz+2)·2⁻²³ of the float64 sums of the same float32 inputs, relative to Σ|terms|', () => {
    fc.assert(fc.property(sparseCase, ({ m, k, columns, period, shift, seed }) => {
      const A = toCsc(m, columns, period, seed);
      const T = toCsr(A);
      const W = Float32Array.from(randomFactor(m, k, seed + 5)), H = Float32Array.from(randomFactor(A.n, k, seed + 6));
      const s32 = Math.fround(shift);
      const wasm = kernels();
      const w = wasm.put(W), h = wasm.put(H);
      const cp = wasm.put(A.colPtr), ri = wasm.put(A.rowIdx), v = wasm.put(Float32Array.from(A.values));
      const rp = wasm.put(T.rowPtr), ci = wasm.put(T.colIdx), tv = wasm.put(Float32Array.from(T.values));
      const rhs = wasm.reserve(A.n * k * 4), B = wasm.reserve(m * k * 4);
      wasm.rhsColumnsF32(w, k, cp, ri, v, 0, A.n, s32, rhs);
      wasm.gatherRowsF32(h, k, rp, ci, tv, 0, m, B);
      const check = (got: Float32Array, ptr: Int32Array, idx: Int32Array, vals: Float64Array, X: Float32Array, init: number) => {
        for (let c = 0; c + 1 < ptr.length; c++) {
          for (let a = 0; a < k; a++) {
            let exact = init, scale = Math.abs(init);
            for (let p = ptr[c]!; p < ptr[c + 1]!; p++) {
              const term = Math.fround(vals[p]!) * X[idx[p]! * k + a]!;
              exact += term; scale += Math.abs(term);
            }
            const bound = (ptr[c + 1]! - ptr[c]! + 2) * 2 ** -23 * scale;
            expect(Math.abs(got[c * k + a]! - exact)).toBeLessThanOrEqual(bound);
          }
        }
      };
      check(wasm.f32(rhs, A.n * k), A.colPtr, A.rowIdx, A.values, W, -s32);
      check(wasm.f32(B, m * k), T.rowPtr, T.colIdx, T.values, H, 0);
    }));
  });

  it('rhsColumns matches the generic JS kernel above the unrolled ranks (k = 37)', () => {
    const k = 37;
    const A = toCsc(50, Array.from({ length: 9 }, (_, j) => Array.from({ length: (j * 7) % 13 }, (_, t) => (t * 11 + j) % 50)), 0, 5);
    const W = randomFactor(50, k, 6);
    const expected = new Float64Array(A.n * k);
    for (let j = 0; j < A.n; j++) rankKernels(k).rhs(W, A.rowIdx, A.values, A.colPtr[j]!, A.colPtr[j + 1]!, 0.5, expected, j * k);
    const wasm = kernels();
    const out = wasm.reserve(expected.byteLength);
    wasm.rhsColumns(wasm.put(W), k, wasm.put(A.colPtr), wasm.put(A.rowIdx), wasm.put(A.values), 0, A.n, 0.5, out);
    expect(firstDifference(wasm.f64(out, expected.length), expected)).toBe(-1);
  });

  it('reserve hands out 16-byte-aligned blocks and keeps their contents when the memory grows', () => {
    const wasm = kernels();
    const small = wasm.put(Float64Array.from([1, 2, 3]));
    const odd = wasm.reserve(12);
    const big = wasm.reserve(5 << 20); // forces several pages of growth
    expect([small % 16, odd % 16, big % 16]).toEqual([0, 0, 0]);
    expect(Array.from(wasm.f64(small, 3))).toEqual([1, 2, 3]);
    wasm.f64(big + (5 << 20) - 8, 1)[0] = 7; // the last byte of the block is addressable
    expect(wasm.f64(big + (5 << 20) - 8, 1)[0]).toBe(7);
    wasm.release(odd);
    expect(wasm.top()).toBe(odd);
    expect(wasm.reserve(8)).toBe(odd);
  });

  it('makeWasmKernels gives instances with memories of their own', () => {
    const a = makeWasmKernels()!, b = makeWasmKernels()!;
    const pa = a.put(Float64Array.from([1])), pb = b.put(Float64Array.from([2]));
    expect(pa).toBe(pb);
    expect([a.f64(pa, 1)[0], b.f64(pb, 1)[0]]).toEqual([1, 2]);
  });

  it('the committed base64 module equals a fresh build of wasm/sparse.ts (asc output is deterministic)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-wasm-'));
    try {
      execFileSync(process.execPath, ['wasm/build.mjs', dir], { stdio: 'pipe' });
      expect(readFileSync(join(dir, 'sparse-wasm.ts'), 'utf8')).toBe(readFileSync('src/kernel/wasm/sparse-wasm.ts', 'utf8'));
      expect(readFileSync(join(dir, 'sparse.wasm')).equals(readFileSync('wasm/sparse.wasm'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
