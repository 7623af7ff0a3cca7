import { describe, expect, it } from 'vitest';
import { makeCscChunk } from '../src/chunk/csc-chunk.js';
import { OptionError } from '../src/errors.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromCsc, type CscMatrix } from '../src/source/from-csc.js';
import { makeRangeProjector, projectChunk } from '../src/model/project.js';
import { bruteForceNnls } from './reference/brute-nnls.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';

const chunkOf = (A: CscMatrix) => makeCscChunk({ ...A, colStart: 0 });

function column(A: CscMatrix, j: number): Float64Array {
  const a = new Float64Array(A.m);
  for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) a[A.rowIdx[p]!] = A.values[p]!;
  return a;
}

function permuteColumns(A: CscMatrix, order: number[]): CscMatrix {
  const colPtr = new Int32Array(A.n + 1), rowIdx: number[] = [], values: number[] = [];
  order.forEach((from, j) => {
    for (let p = A.colPtr[from]!; p < A.colPtr[from + 1]!; p++) { rowIdx.push(A.rowIdx[p]!); values.push(A.values[p]!); }
    colPtr[j + 1] = rowIdx.length;
  });
  return { m: A.m, n: A.n, colPtr, rowIdx: Int32Array.from(rowIdx), values: Float64Array.from(values) };
}

describe('projectChunk', () => {
  it('l2: every code is the exact NNLS solution against W (brute force, k = 3), with L1 and L2 on h', async () => {
    const A = loadSharedMtx('pbmc_small');
    const model = await fitModel(fromCsc(A), { rank: 3, seed: 2 });
    const H = projectChunk(model, chunkOf(A), { l1: 0.05, l2: 0.1 });
    const k = 3, { W } = model;
    const G = new Float64Array(9);
    for (let i = 0; i < A.m; i++) for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) G[a * k + c]! += W[i * k + a]! * W[i * k + c]!;
    for (let a = 0; a < k; a++) G[a * k + a]! += 0.1;
    for (let j = 0; j < A.n; j++) {
      const aj = column(A, j);
      const b = Float64Array.from({ length: k }, (_, a) => aj.reduce((s, v, i) => s + v * W[i * k + a]!, 0) - 0.05);
      const x = bruteForceNnls(G, b, k);
      for (let a = 0; a < k; a++) expect(H[a * A.n + j]!).toBeCloseTo(x[a]!, 9);
    }
  });

  it('l2: permuting the samples permutes the codes; scaling the data scales them', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const model = await fitModel(fromCsc(A), { rank: 4, seed: 1, maxIterations: 10 });
    const H = projectChunk(model, chunkOf(A));
    const order = Array.from({ length: A.n }, (_, j) => (j * 7919) % A.n);
    const P = projectChunk(model, chunkOf(permuteColumns(A, order)));
    order.forEach((from, j) => { for (let a = 0; a < 4; a++) expect(P[a * A.n + j]).toBe(H[a * A.n + from]); });
    const S = projectChunk(model, chunkOf({ ...A, values: A.values.map((v) => v * 4) }));
    for (let q = 0; q < H.length; q++) expect(S[q]!).toBeCloseTo(4 * H[q]!, 9);
  });

  it('l1: every code is coordinate-wise optimal for the weighted L1 objective (scan of candidates)', async () => {
    const A = loadSharedMtx('pbmc_small');
    const model = await fitModel(fromCsc(A), { rank: 3, loss: 'l1', lambda: 0.5, seed: 3, maxIterations: 20 });
    const H = projectChunk(model, chunkOf(A), { lambda: 0.5 });
    const k = 3;
    const Wd = Float64Array.from({ length: A.m * k }, (_, q) => model.W[q]! * model.d[q % k]!);
    const f = (aj: Float64Array, h: number[]) => aj.reduce((s, v, i) => {
      let p = 0;
      for (let a = 0; a < k; a++) p += Wd[i * k + a]! * h[a]!;
      return s + (v > 0 ? Math.abs(v - p) : 0.5 * p);
    }, 0);
    for (let j = 0; j < A.n; j += 7) {
      const aj = column(A, j);
      const h = Array.from({ length: k }, (_, a) => H[a * A.n + j]!);
      const best = f(aj, h);
      for (let a = 0; a < k; a++) {
        for (const t of [0, h[a]! * 0.5, h[a]! * 0.9, h[a]! * 1.1, h[a]! * 2, h[a]! + 0.01, Math.max(0, h[a]! - 0.01)]) {
          const probe = h.slice(); probe[a] = t;
          expect(f(aj, probe)).toBeGreaterThanOrEqual(best - 1e-9 * (1 + best));
        }
      }
    }
  });

  it('l2: the WebAssembly right-hand sides give the JavaScript kernel\'s codes, bit for bit, for any range of columns and k (with L1 and L2 on h)', async () => {
    for (const [name, k] of [['movielens', 10], ['hawaiibirds', 7], ['pbmc_small', 3]] as const) {
      const A = loadSharedMtx(name);
      const model = await fitModel(fromCsc(A), { rank: k, seed: 5, maxIterations: 5 });
      for (const penalties of [{}, { l1: 0.05, l2: 0.1 }]) {
        const js = makeRangeProjector(model, { ...penalties, wasm: false });
        const wasm = makeRangeProjector(model, penalties);
        const chunk = chunkOf(A);
        const [a, b] = [new Float64Array(k * A.n), new Float64Array(k * A.n)];
        js(chunk, a, 0, A.n);
        // the WebAssembly side in uneven ranges (an empty one too), as the projection threads cut a chunk
        const mid = Math.floor(A.n / 2) + 1;
        for (const [j0, j1] of [[0, 1], [1, 1], [1, mid], [mid, A.n]] as const) wasm(chunk, b, j0, j1);
        expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
        expect(Buffer.from(projectChunk(model, chunk, penalties).buffer).equals(Buffer.from(a.buffer))).toBe(true);
      }
    }
  });

  it('refuses a chunk whose feature count differs from the model', async () => {
    const A = loadSharedMtx('pbmc_small');
    const model = await fitModel(fromCsc(A), { rank: 2, maxIterations: 2 });
    const other = makeCscChunk({ m: 5, colStart: 0, colPtr: Int32Array.from([0, 0]), rowIdx: new Int32Array(0), values: new Float64Array(0) });
    expect(() => projectChunk(model, other)).toThrow(OptionError);
  });
});
