import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { makeRandom } from '../src/kernel/random.js';
import { makeScdWorkspace } from '../src/kernel/scd-workspace.js';
import { fit, fitModel } from '../src/pipeline/fit.js';
import { fromCsc } from '../src/source/from-csc.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import { makeL1Problem } from '../src/model/l1/problem.js';
import { l1Objective, scdIteration } from '../src/model/l1/iteration.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function start(m: number, n: number, k: number, seed: number): { W: Float64Array; Hkn: Float64Array } {
  const rnd = makeRandom(seed);
  return {
    W: Float64Array.from({ length: m * k }, () => rnd.uniform()),
    Hkn: Float64Array.from({ length: k * n }, () => rnd.uniform() * 0.1),
  };
}

describe('weighted L1 fit (loss: l1)', () => {
  it('from an explicit start, emits iteration 0 and then exactly the sCD iterates (same objectives)', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const k = 4, lambda = 0.3;
    const { W, Hkn } = start(A.m, A.n, k, 1);
    const snaps = await lastValueFrom(fit(fromCsc(A), { rank: k, loss: 'l1', lambda, init: { W, H: Hkn }, maxIterations: 5, tol: 0 }).pipe(toArray()));
    expect(snaps.map((s) => s.iteration)).toEqual([0, 1, 2, 3, 4, 5, 5]);
    // the same iteration by hand
    const problem = makeL1Problem(A, lambda);
    const Wr = Float64Array.from(W);
    const Hr = new Float64Array(A.n * k);
    for (let a = 0; a < k; a++) for (let j = 0; j < A.n; j++) Hr[j * k + a] = Hkn[a * A.n + j]!;
    const ws = makeScdWorkspace(k, problem.maxLine);
    const objectives = [l1Objective(problem, Wr, Hr, k, ws) / problem.sumA];
    for (let t = 0; t < 5; t++) objectives.push(scdIteration(problem, Wr, Hr, k, ws) / problem.sumA);
    expect(snaps.slice(0, 6).map((s) => s.objective)).toEqual(objectives);
    for (let t = 1; t < 6; t++) expect(objectives[t]!).toBeLessThanOrEqual(objectives[t - 1]!);
    expect(snaps.at(-1)!.trace!.map((p) => p.iteration)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('stops when F_{t−1} − F_t < tol, runs exactly maxIterations with tol 0', async () => {
    const A = loadSharedMtx('pbmc_small');
    const exact = await fitModel(fromCsc(A), { rank: 3, loss: 'l1', seed: 2, maxIterations: 12, tol: 0 });
    expect(exact.iteration).toBe(12);
    expect(exact.converged).toBe(false);
    const stopped = await fitModel(fromCsc(A), { rank: 3, loss: 'l1', seed: 2, maxIterations: 500, tol: 1e-4 });
    expect(stopped.converged).toBe(true);
    const drops = stopped.trace.slice(1).map((p, t) => stopped.trace[t]!.objective - p.objective);
    expect(drops.at(-1)!).toBeLessThan(1e-4);
    expect(drops.slice(0, -1).every((d) => d >= 1e-4)).toBe(true);
  });

  it('a streamed (chunked, non-matrix) source gives the same model as the in-memory matrix', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const options = { rank: 5, loss: 'l1', lambda: 0.5, seed: 3, maxIterations: 6, tol: 0, keepH: true, warmupIterations: 4 } as const;
    const inMemory = await fitModel(fromCsc(A), options);
    const chunked = fromCsc(A, { chunkSize: 97 });
    const streamed: MatrixSource = { name: 'stream', rereadable: true, chunks: () => chunked.chunks() };
    const viaChunks = await fitModel(streamed, options);
    expect(same(viaChunks.W, inMemory.W)).toBe(true);
    expect(same(viaChunks.H!, inMemory.H!)).toBe(true);
    expect(viaChunks.objective).toBe(inMemory.objective);
  });

  it('the default start (random, α, balanced, least-squares warm-up) gives a live model and sane diagnostics', async () => {
    const A = loadSharedMtx('movielens');
    const model = await fitModel(fromCsc(A), { rank: 6, loss: 'l1', lambda: 0.1, seed: 1, maxIterations: 15 });
    expect(model.loss).toBe('l1');
    expect(model.diagnostics.deadComponents).toBeLessThan(6);
    expect(model.diagnostics.zerosH).toBeGreaterThan(0);
    expect(model.W.every((v) => v >= 0) && model.d.every((v) => v >= 0)).toBe(true);
    for (let a = 1; a < 6; a++) expect(model.d[a]!).toBeLessThanOrEqual(model.d[a - 1]!);
    const objectives = model.trace.map((p) => p.objective);
    for (let t = 1; t < objectives.length; t++) expect(objectives[t]!).toBeLessThanOrEqual(objectives[t - 1]! * (1 + 1e-12));
  });
});
