/**
 * The two sparse products of a least-squares pass, JS against WebAssembly SIMD (wasm/sparse.ts), one thread:
 *   rhs:   b_j = Wᵀa_j − shift for every column  — JS rankKernels(k).rhs  vs wasm rhsColumns (f64, f32)
 *   AHᵀ:   B = A Hᵀ from a zero B                — JS rankKernels(k).stats (column scatter)
 *          vs wasm scatterColumns (the same scatter) and gatherRows over a CSR copy of A (f64, f32)
 *
 *   npm run bench:kernels [-- --reps 9] [--ranks 10,20] [--datasets synthetic,movielens]
 *
 * Data: bench/data/synthetic-20000x5000-1pct.mtx (make it with
 * `/usr/bin/python3 ../shared/peers/make_synthetic.py bench/data/synthetic-20000x5000-1pct.mtx`) and
 * ../shared/data/movielens.mtx; W, H uniform in [0, 1) from the seeded generator, shift 0.01.
 * Every variant runs once per repetition, interleaved (a burst of load hits all of them), after two
 * warm-up rounds; the figures are medians of wall and CPU milliseconds (process.cpuUsage). The copies
 * into the module's memory are timed apart: W (m×k), H (n×k), the CSC chunk, the CSR copy, the results
 * back out, and the float32 conversions; the CSR transposition itself (JS) once per fit for data in
 * memory. Also checks that the float64 results have the bits of the JS ones. Prints one JSON object.
 */
import { loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { makeRandom } from '../src/kernel/random.js';
import { rankKernels } from '../src/kernel/rank-kernels.js';
import { wasmKernels } from '../src/kernel/wasm/wasm-kernels.js';
import type { CscMatrix } from '../src/source/from-csc.js';
import { readMtx } from '../src/source/read-mtx.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1]! : fallback;
};
const REPS = Number(flag('reps', '9'));
const RANKS = flag('ranks', '10,20').split(',').map(Number);
const DATASETS: Record<string, string> = {
  synthetic: 'bench/data/synthetic-20000x5000-1pct.mtx',
  movielens: '../shared/data/movielens.mtx',
};
const SHIFT = 0.01;

const wasm = wasmKernels();
if (wasm === undefined) throw new Error('WebAssembly SIMD is unavailable on this Node');

function toCsr({ m, n, colPtr, rowIdx, values }: CscMatrix) {
  const rowPtr = new Int32Array(m + 1);
  for (let p = 0; p < rowIdx.length; p++) rowPtr[rowIdx[p]! + 1]!++;
  for (let i = 0; i < m; i++) rowPtr[i + 1]! += rowPtr[i]!;
  const next = rowPtr.slice(0, m), colIdx = new Int32Array(rowIdx.length), csrValues = new Float64Array(rowIdx.length);
  for (let j = 0; j < n; j++) {
    for (let p = colPtr[j]!, end = colPtr[j + 1]!; p < end; p++) {
      const q = next[rowIdx[p]!]!++;
      colIdx[q] = j; csrValues[q] = values[p]!;
    }
  }
  return { rowPtr, colIdx, values: csrValues };
}

function sameBits(a: Float64Array, b: Float64Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

function benchOne(A: CscMatrix, k: number) {
  const { m, n, colPtr, rowIdx, values } = A;
  const rnd = makeRandom(42);
  const W = Float64Array.from({ length: m * k }, () => rnd.uniform());
  const H = Float64Array.from({ length: n * k }, () => rnd.uniform());
  const { rhs, stats } = rankKernels(k);
  const bJs = new Float64Array(n * k), BJs = new Float64Array(m * k), bOut = new Float64Array(n * k), BOut = new Float64Array(m * k);
  const W32 = new Float32Array(m * k), H32 = new Float32Array(n * k), values32 = new Float32Array(values.length);
  const t0 = performance.now();
  const T = toCsr(A);
  const transposeMs = performance.now() - t0;
  const T32 = new Float32Array(T.values.length);

  wasm!.reset();
  const r = wasm!.reserve.bind(wasm);
  const pW = r(W.byteLength), pH = r(H.byteLength), pColPtr = r(colPtr.byteLength), pRowIdx = r(rowIdx.byteLength), pValues = r(values.byteLength);
  const pRowPtr = r(T.rowPtr.byteLength), pColIdx = r(T.colIdx.byteLength), pTValues = r(T.values.byteLength);
  const pb = r(bJs.byteLength), pB = r(BJs.byteLength), pBs = r(BJs.byteLength);
  const pW32 = r(W32.byteLength), pH32 = r(H32.byteLength), pValues32 = r(values32.byteLength), pT32 = r(T32.byteLength);
  const pb32 = r(n * k * 4), pB32 = r(m * k * 4);
  const f64 = wasm!.f64, i32 = wasm!.i32, f32 = wasm!.f32; // views after the last reserve

  const variants: Record<string, () => void> = {
    jsRhs: () => { for (let j = 0; j < n; j++) rhs(W, rowIdx, values, colPtr[j]!, colPtr[j + 1]!, SHIFT, bJs, j * k); },
    jsScatter: () => { BJs.fill(0); for (let j = 0; j < n; j++) stats(H, j * k, rowIdx, values, colPtr[j]!, colPtr[j + 1]!, BJs); },
    wasmRhs: () => wasm!.rhsColumns(pW, k, pColPtr, pRowIdx, pValues, 0, n, SHIFT, pb),
    wasmGather: () => wasm!.gatherRows(pH, k, pRowPtr, pColIdx, pTValues, 0, m, pB),
    wasmScatter: () => { f64(pBs, m * k).fill(0); wasm!.scatterColumns(pH, 0, k, pColPtr, pRowIdx, pValues, 0, n, pBs); },
    wasmRhsF32: () => wasm!.rhsColumnsF32(pW32, k, pColPtr, pRowIdx, pValues32, 0, n, SHIFT, pb32),
    wasmGatherF32: () => wasm!.gatherRowsF32(pH32, k, pRowPtr, pColIdx, pT32, 0, m, pB32),
    copyW: () => f64(pW, W.length).set(W),
    copyH: () => f64(pH, H.length).set(H),
    copyChunk: () => { i32(pColPtr, colPtr.length).set(colPtr); i32(pRowIdx, rowIdx.length).set(rowIdx); f64(pValues, values.length).set(values); },
    copyCsr: () => { i32(pRowPtr, T.rowPtr.length).set(T.rowPtr); i32(pColIdx, T.colIdx.length).set(T.colIdx); f64(pTValues, T.values.length).set(T.values); },
    copyOutRhs: () => bOut.set(f64(pb, n * k)),
    copyOutB: () => BOut.set(f64(pB, m * k)),
    toF32W: () => { W32.set(W); f32(pW32, W32.length).set(W32); },
    toF32H: () => { H32.set(H); f32(pH32, H32.length).set(H32); },
    toF32Values: () => { values32.set(values); f32(pValues32, values32.length).set(values32); T32.set(T.values); f32(pT32, T32.length).set(T32); },
  };
  // Inputs in place before the kernels run (the copy variants rewrite the same bytes).
  const order = ['copyW', 'copyH', 'copyChunk', 'copyCsr', 'toF32W', 'toF32H', 'toF32Values',
    'jsRhs', 'jsScatter', 'wasmRhs', 'wasmGather', 'wasmScatter', 'wasmRhsF32', 'wasmGatherF32', 'copyOutRhs', 'copyOutB'];
  const wall: Record<string, number[]> = {}, cpu: Record<string, number[]> = {};
  for (const name of order) { wall[name] = []; cpu[name] = []; }
  for (let rep = -2; rep < REPS; rep++) {
    for (const name of order) {
      const c0 = process.cpuUsage(), w0 = performance.now();
      variants[name]!();
      const w = performance.now() - w0, c = process.cpuUsage(c0);
      if (rep >= 0) { wall[name]!.push(w); cpu[name]!.push((c.user + c.system) / 1000); }
    }
  }
  const ms = Object.fromEntries(order.map((name) => [name, round(median(wall[name]!))]));
  const cpuMs = Object.fromEntries(order.map((name) => [name, round(median(cpu[name]!))]));
  const scatterB = f64(pBs, m * k);
  const identical = {
    rhs: sameBits(bOut, bJs),
    gather: sameBits(BOut, BJs),
    scatter: sameBits(scatterB, BJs),
  };
  const speedup = (t: Record<string, number>) => {
    const x = (a: string, b: string) => round(t[a]! / t[b]!);
    return {
      rhsF64: x('jsRhs', 'wasmRhs'), rhsF32: x('jsRhs', 'wasmRhsF32'),
      gatherF64: x('jsScatter', 'wasmGather'), scatterF64: x('jsScatter', 'wasmScatter'), gatherF32: x('jsScatter', 'wasmGatherF32'),
    };
  };
  return {
    m, n, nnz: values.length, k, transposeMs: round(transposeMs), ms, cpuMs, identical,
    speedupWall: speedup(ms), speedupCpu: speedup(cpuMs),
  };
}

const loadBefore = loadavg();
const results: unknown[] = [];
for (const name of flag('datasets', 'synthetic,movielens').split(',')) {
  const path = DATASETS[name];
  if (path === undefined || !existsSync(path)) {
    results.push({ dataset: name, skipped: `missing ${path ?? name}` });
    continue;
  }
  const A = await readMtx(path);
  for (const k of RANKS) results.push({ dataset: name, ...benchOne(A, k) });
}
console.log(JSON.stringify({
  command: `npx tsx bench/kernels.ts ${args.join(' ')}`.trim(), date: new Date().toISOString(), node: process.version,
  reps: REPS, loadavgBefore: loadBefore.map(round), loadavgAfter: loadavg().map(round), results,
}, null, 1));
