import { spawnSync } from 'node:child_process';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { fit, fitModel } from '../src/pipeline/fit.js';
import { fromCsc } from '../src/source/from-csc.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('worker threads (l2)', () => {
  it('threads = 1, 2 and 3 give the same bytes, for any chunk size', async () => {
    const A = loadSharedMtx('movielens');
    const options = { rank: 6, seed: 4, maxIterations: 6, tol: 0, keepH: true } as const;
    const one = await fitModel(fromCsc(A, { chunkSize: 200 }), { ...options, threads: 1 });
    for (const [threads, chunkSize] of [[2, 200], [3, 200], [2, 1000], [3, 7]] as const) {
      const many = await fitModel(fromCsc(A, { chunkSize }), { ...options, threads });
      // Say where a difference starts, if there is one: the first iteration whose loss differs.
      const first = many.trace.findIndex((t, i) => t.relativeLoss !== one.trace[i]!.relativeLoss);
      expect({ threads, chunkSize, firstDifferingIteration: first + 1 }).toEqual({ threads, chunkSize, firstDifferingIteration: 0 });
      expect(same(many.W, one.W)).toBe(true);
      expect(same(many.d, one.d)).toBe(true);
      expect(same(many.H!, one.H!)).toBe(true);
      expect(many.trace.map((t) => t.relativeLoss)).toEqual(one.trace.map((t) => t.relativeLoss));
    }
  });

  it('l1 (in-memory sCD): threads = 1, 2 and 3 give the same iterates and objectives', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const options = { rank: 5, loss: 'l1', lambda: 0.3, seed: 2, maxIterations: 6, tol: 0, keepH: true, warmupIterations: 3 } as const;
    const one = await fitModel(fromCsc(A), { ...options, threads: 1 });
    for (const threads of [2, 3]) {
      const many = await fitModel(fromCsc(A), { ...options, threads });
      expect(same(many.W, one.W) && same(many.H!, one.H!)).toBe(true);
      expect(many.trace.map((t) => t.objective)).toEqual(one.trace.map((t) => t.objective));
    }
  });

  it('handles chunks with fewer samples than threads', async () => {
    const A = loadSharedMtx('pbmc_small');
    const one = await fitModel(fromCsc(A, { chunkSize: 1 }), { rank: 3, seed: 1, maxIterations: 3, tol: 0, threads: 1 });
    const four = await fitModel(fromCsc(A, { chunkSize: 1 }), { rank: 3, seed: 1, maxIterations: 3, tol: 0, threads: 4 });
    expect(same(four.W, one.W)).toBe(true);
  });

  it('a failing worker is a typed error on the Observable, with the worker\'s message (l2 and l1)', async () => {
    const A = loadSharedMtx('pbmc_small');
    for (const [loss, command] of [['l2', '2'], ['l1', '1']] as const) {
      process.env.NMFLOW_WORKER_FAULT = command; // l2: the H phase; l1: the W half-sweep
      try {
        await expect(fitModel(fromCsc(A), { rank: 3, seed: 1, maxIterations: 3, loss, threads: 2 }))
          .rejects.toMatchObject({ code: 'NUMERICAL', message: expect.stringMatching(/worker thread failed.*injected fault/s) });
      } finally {
        delete process.env.NMFLOW_WORKER_FAULT;
      }
    }
  });

  it('counts NNLS work of every thread in the diagnostics', async () => {
    const A = loadSharedMtx('pbmc_small');
    const snaps = await lastValueFrom(fit(fromCsc(A), { rank: 3, seed: 1, maxIterations: 2, tol: 0, threads: 2, solver: 'exact' }).pipe(toArray()));
    expect(snaps[0]!.diagnostics.nnlsSupportHits).toBeGreaterThanOrEqual(0);
    expect(snaps[1]!.diagnostics.nnlsSupportHits).toBeGreaterThan(0);
  });

  it('no worker keeps the process alive after completion, error or unsubscribe', () => {
    const script = `
      import { fit, fitModel } from './src/pipeline/fit.ts';
      import { fromDense } from './src/source/from-csc.ts';
      const data = Array.from({ length: 400 * 300 }, (_, q) => ((q * 7919) % 13) / 3);
      const source = fromDense(data, 400, 300, { chunkSize: 50 });
      await fitModel(source, { rank: 4, threads: 2, maxIterations: 3 });
      const sub = fit(source, { rank: 4, threads: 2, maxIterations: 1000, tol: 0 }).subscribe();
      setTimeout(() => sub.unsubscribe(), 200);
      const bad = fromDense(data, 400, 300, { chunkSize: 50 });
      await fitModel({ ...bad, chunks: () => { throw new Error('boom'); } }, { rank: 4, threads: 2 }).catch(() => undefined);
    `;
    const result = spawnSync('node', ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url).pathname, timeout: 20_000 });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(0);
  });
});
