import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import { makeRandom } from '../src/kernel/random.js';
import { fit, fitModel } from '../src/pipeline/fit.js';
import { fromCsc, type CscMatrix } from '../src/source/from-csc.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** A re-readable source that is not an in-memory matrix: the engine must stream it. */
function streamed(A: CscMatrix, chunkSize: number): MatrixSource {
  const inner = fromCsc(A, { chunkSize });
  return { name: 'streamed', rereadable: true, features: A.m, chunks: () => inner.chunks() };
}

describe('out-of-core fits equal in-memory fits', () => {
  it('l2: a streamed source gives the in-memory bytes', async () => {
    const A = loadSharedMtx('movielens');
    const options = { rank: 5, seed: 1, maxIterations: 5, tol: 0, keepH: true, threads: 1 } as const;
    const a = await fitModel(fromCsc(A), options);
    const b = await fitModel(streamed(A, 61), options);
    expect(same(a.W, b.W) && same(a.H!, b.H!)).toBe(true);
  });

  for (const start of ['default', 'explicit'] as const) {
    it(`l1 (${start} start): feature-major copy in temporary Arrow IPC files, same bytes as in memory, files removed`, async () => {
      const A = loadSharedMtx('hawaiibirds');
      const k = 4;
      const rnd = makeRandom(8);
      const init = start === 'explicit'
        ? { init: { W: Float64Array.from({ length: A.m * k }, () => rnd.uniform()), H: Float64Array.from({ length: k * A.n }, () => rnd.uniform() * 0.05) } } : {};
      const tempDir = mkdtempSync(join(tmpdir(), 'nmflow-ooc-'));
      const options = { rank: k, loss: 'l1', lambda: 0.2, seed: 5, maxIterations: 5, tol: 0, keepH: true, warmupIterations: 3, tempDir, ...init } as const;
      const memory = await fitModel(fromCsc(A), options);
      const seen: string[][] = [];
      const outOfCore = await fitModel(streamed(A, 100), { ...options, onChunk: () => { seen.push(readdirSync(tempDir)); } });
      expect(same(outOfCore.W, memory.W)).toBe(true);
      expect(same(outOfCore.H!, memory.H!)).toBe(true);
      expect(outOfCore.trace.map((t) => t.objective)).toEqual(memory.trace.map((t) => t.objective));
      expect(outOfCore.trace.map((t) => t.relativeLoss)).toEqual(memory.trace.map((t) => t.relativeLoss));
      expect(seen.some((names) => names.length === 1)).toBe(true); // the copy existed during the fit
      expect(readdirSync(tempDir)).toEqual([]);
    });
  }

  it('l1 out of core removes its temporary files on error and on unsubscribe', async () => {
    const A = loadSharedMtx('pbmc_small');
    const tempDir = mkdtempSync(join(tmpdir(), 'nmflow-ooc-'));
    const inner = fromCsc(A, { chunkSize: 10 });
    let pass = 0;
    const failing: MatrixSource = {
      name: 'failing', rereadable: true, features: A.m,
      chunks: () => new Observable<CscChunk>((s) => {
        pass++;
        const sub = inner.chunks().subscribe({ next: (c) => { if (pass === 3 && c.colStart > 30) s.error(new Error('disk gone')); else s.next(c); }, complete: () => s.complete() });
        return () => sub.unsubscribe();
      }),
    };
    await expect(fitModel(failing, { rank: 2, loss: 'l1', tempDir, maxIterations: 20, warmupIterations: 1 }))
      .rejects.toThrow(expect.objectContaining({ code: 'IO', message: expect.stringMatching(/source failing failed: disk gone/) }));
    expect(readdirSync(tempDir)).toEqual([]);
    const sub = fit(streamed(A, 10), { rank: 2, loss: 'l1', tempDir, maxIterations: 10_000, tol: 0, warmupIterations: 1 }).subscribe();
    await new Promise((r) => setTimeout(r, 300));
    expect(readdirSync(tempDir).length).toBe(1);
    sub.unsubscribe();
    expect(readdirSync(tempDir)).toEqual([]);
    expect(existsSync(tempDir)).toBe(true);
  });
});
