import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, map, take, tap, toArray, Observable, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { makeCscChunk, type CscChunk } from '../src/chunk/csc-chunk.js';
import { DataError, OptionError } from '../src/errors.js';
import { makeRandom } from '../src/kernel/random.js';
import { fit, fitModel } from '../src/pipeline/fit.js';
import { relativeLoss } from '../src/diagnostics/loss.js';
import { solveH } from '../src/diagnostics/solve-h.js';
import { fitOnline } from '../src/pipeline/fit-online.js';
import { fromCsc, fromDense, type CscMatrix } from '../src/source/from-csc.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';

const small = fromDense([1, 0, 2, 3, 0, 1, 4, 1, 0, 2, 2, 1, 0, 3, 1, 1, 2, 0], 3, 6, { chunkSize: 2 });
const chunksOf = async (chunkSize: number): Promise<CscChunk[]> =>
  await lastValueFrom(fromCsc(small.matrix, { chunkSize }).chunks().pipe(toArray()));

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('fitOnline', () => {
  it('with ρ = 1 and the whole matrix in one chunk, one step equals one batch iteration, bit for bit', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const online = await lastValueFrom(fitOnline(fromCsc(A), { rank: 5, seed: 7, warmupIterations: 0, solver: 'exact' }));
    const batch = await lastValueFrom(fit(fromCsc(A), { rank: 5, seed: 7, maxIterations: 1, solver: 'exact' }));
    expect(Buffer.from(online.W.buffer).equals(Buffer.from(batch.W.buffer))).toBe(true);
    expect(online.relativeLoss).toBe(batch.relativeLoss);
  });

  it('emits every `emitEvery` chunks and the final model on completion (marble)', async () => {
    const [a, b, c] = await chunksOf(2);
    scheduler().run(({ cold, expectObservable }) => {
      const chunks$ = cold('-a-b-c|', { a: a!, b: b!, c: c! });
      const labels$ = fitOnline(chunks$, { rank: 2, emitEvery: 2, buffer: 0 /* virtual time: every update inside next() */ }).pipe(map((s) => `${s.iteration}${s.final ? 'f' : ''}`));
      expectObservable(labels$).toBe('---x--(y|)', { x: '2', y: '3f' });
    });
  });

  it('a bad chunk errors with a typed error and nothing after it (marble)', async () => {
    const [a, , c] = await chunksOf(2);
    const bad = makeCscChunk({ m: 3, colStart: 2, colPtr: Int32Array.from([0, 1]), rowIdx: Int32Array.from([7]), values: Float64Array.from([1]), position: 1 });
    scheduler().run(({ cold, expectObservable }) => {
      const chunks$ = cold('-a-b-c|', { a: a!, b: bad, c: c! });
      const out$ = fitOnline(chunks$, { rank: 2, name: 'test stream', buffer: 0 }).pipe(map((s) => s.iteration));
      expectObservable(out$).toBe('-x-#', { x: 1 }, new DataError('INDEX_OUT_OF_RANGE', 'feature index 7 is outside [0, 3)',
        { source: 'test stream', batch: 1, feature: 7, sample: 2 }));
    });
  });

  it('unsubscribing stops the source; two subscriptions have independent state (marble)', async () => {
    const [a, b, c] = await chunksOf(2);
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const chunks$ = cold('-a-b-c|', { a: a!, b: b!, c: c! });
      const fit$ = fitOnline(chunks$, { rank: 2, buffer: 0 }).pipe(map((s) => s.iteration));
      expectObservable(fit$, '^---!').toBe('-x-y', { x: 1, y: 2 });
      expectObservable(fit$).toBe('-x-y-z(z|)', { x: 1, y: 2, z: 3 });
      expectSubscriptions(chunks$.subscriptions).toBe(['^---!', '^-----!']);
    });
  });

  it('does not block its producer: next() returns before the update runs, a producer `buffer` chunks ahead waits, the same bytes for any buffer', async () => {
    const m = 4000, n = 256 * 6;
    const rnd = makeRandom(3);
    const dense = Float64Array.from({ length: m * n }, () => (rnd.uniform() < 0.05 ? 1 + Math.floor(rnd.uniform() * 5) : 0));
    const chunks = await lastValueFrom(fromDense(dense, m, n, { chunkSize: 256 }).chunks().pipe(toArray()));
    const options = { rank: 8, seed: 2, threads: 1 };
    const reference = await lastValueFrom(fitOnline(new Observable<CscChunk>((s) => { chunks.forEach((c) => s.next(c)); s.complete(); }), { ...options, buffer: 0 }));
    // A live producer (a Subject fed from a timer): next() returns at once; the update happens afterwards.
    const subject = new Subject<CscChunk>();
    const seen: number[] = [];
    const done = lastValueFrom(fitOnline(subject, options).pipe(tap((s) => seen.push(s.iteration))));
    const nextTimes: number[] = [];
    for (const chunk of chunks) {
      const t = performance.now();
      subject.next(chunk);
      nextTimes.push(performance.now() - t);
      expect(seen.length).toBe(0); // nothing fitted on the producer's stack (4 chunks fit in the buffer)
      if (seen.length === 0 && nextTimes.length === 4) break;
    }
    expect(Math.max(...nextTimes)).toBeLessThan(5);
    for (const chunk of chunks.slice(4)) subject.next(chunk); // 2 more: the buffer is full, each waits for the oldest update
    expect(seen).toEqual([1, 2]);
    subject.complete();
    const last = await done;
    expect(seen.at(-1)).toBe(6);
    expect(Buffer.from(last.W.buffer).equals(Buffer.from(reference.W.buffer))).toBe(true);
    expect(last.relativeLoss).toBe(reference.relativeLoss);
    // between two updates the event loop runs: a timer set now fires before the queue is drained
    const again = new Subject<CscChunk>();
    const order: string[] = [];
    const drained = lastValueFrom(fitOnline(again, options).pipe(tap((s) => order.push(`fit ${s.iteration}${s.final ? 'f' : ''}`))));
    for (const chunk of chunks.slice(0, 3)) again.next(chunk);
    setTimeout(() => order.push('timer'), 0);
    again.complete();
    await drained;
    expect(order.indexOf('timer')).toBeLessThan(order.indexOf('fit 3'));
  });

  it('state is created per subscription, not when the operator is built', async () => {
    let made = 0;
    const chunks = await chunksOf(3);
    const source$ = new Observable<CscChunk>((s) => { made++; chunks.forEach((c) => s.next(c)); s.complete(); });
    const fit$ = fitOnline(source$, { rank: 2, seed: 1 });
    expect(made).toBe(0);
    const first = await lastValueFrom(fit$);
    const second = await lastValueFrom(fit$);
    expect(made).toBe(2);
    expect(Array.from(first.W)).toEqual(Array.from(second.W));
  });

  it('tracks a drifting stream better with forgetting than without', async () => {
    // Samples come from planted model P1 for 40 chunks, then from P2 for 40 chunks.
    const m = 30, k = 3, per = 20;
    const rnd = makeRandom(5);
    const planted = () => Float64Array.from({ length: m * k }, () => (rnd.uniform() < 0.6 ? 0 : rnd.uniform()));
    const models = [planted(), planted()];
    const chunks: CscChunk[] = [];
    for (let c = 0; c < 80; c++) {
      const W = models[c < 40 ? 0 : 1]!;
      const dense = new Float64Array(m * per);
      for (let j = 0; j < per; j++) {
        const h = [rnd.uniform(), rnd.uniform(), rnd.uniform()];
        for (let i = 0; i < m; i++) dense[j * m + i] = h.reduce((s, v, a) => s + v * W[i * k + a]!, 0);
      }
      const chunk = fromDense(dense, m, per).matrix;
      chunks.push(makeCscChunk({ ...chunk, colStart: c * per, position: c }));
    }
    const lossAtEnd = async (forgetting: number) => {
      const all = await lastValueFrom(fitOnline(new Observable<CscChunk>((s) => { chunks.forEach((x) => s.next(x)); s.complete(); }),
        { rank: k, seed: 2, forgetting }).pipe(toArray()));
      // loss of the final W on the last chunk: project that chunk with a batch fit started from W
      const last = chunks.at(-1)!;
      const W = all.at(-1)!.W;
      const probe = await lastValueFrom(fit(fromCsc({ m, n: per, colPtr: last.colPtr, rowIdx: last.rowIdx, values: last.values }),
        { rank: k, init: { W }, maxIterations: 1, nnlsMethod: 'active-set' }));
      return { online: all.at(-2)!.relativeLoss, probe: probe.relativeLoss };
    };
    const remember = await lossAtEnd(1);
    const forget = await lossAtEnd(0.8);
    expect(forget.online).toBeLessThan(remember.online);
    expect(forget.probe).toBeLessThan(1e-3);
  });

  it('rejects bad online options synchronously', () => {
    expect(() => fitOnline(small, { rank: 1, forgetting: 0 })).toThrow(OptionError);
    expect(() => fitOnline(small, { rank: 1, emitEvery: 0 })).toThrow(OptionError);
    expect(() => fitOnline(small, { rank: 1, loss: 'l1', window: 0 })).toThrow(OptionError);
    expect(() => fitOnline(small, { rank: 1, loss: 'l1', forgetting: 0.5 })).toThrow(/window/);
  });

  it('l1: refines W over a bounded window; the objective on the window stays near the batch fit', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const source = fromCsc(A, { chunkSize: 100 });
    const snaps = await lastValueFrom(fitOnline(source, { rank: 4, loss: 'l1', lambda: 0.5, window: 3, sweeps: 2, seed: 1 }).pipe(toArray()));
    expect(snaps.length).toBe(Math.ceil(A.n / 100) + 1);
    const final = snaps.at(-1)!;
    expect(final.loss).toBe('l1');
    expect(final.samples).toBeLessThanOrEqual(300); // the window: 3 chunks of 100 samples
    expect(final.samplesSeen).toBe(A.n);
    expect(final.W.every((v) => v >= 0)).toBe(true);
    const batch = await lastValueFrom(fit(fromCsc(A), { rank: 4, loss: 'l1', lambda: 0.5, seed: 1, maxIterations: 30 }));
    expect(final.objective).toBeLessThan(batch.objective * 1.5);
  });

  it('an interrupted online l2 fit resumes from its checkpoint (skipping the chunks it had seen) to the same bytes', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const options = { rank: 4, seed: 3, forgetting: 0.9 } as const;
    const whole = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), options));
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-online-ckpt-'));
    await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), { ...options, checkpoint: { dir, every: 2 } }).pipe(take(5)));
    const resumed = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), { ...options, resumeFrom: dir }).pipe(toArray()));
    expect(resumed[0]!.iteration).toBe(5);
    const final = resumed.at(-1)!;
    expect(Buffer.from(final.W.buffer).equals(Buffer.from(whole.W.buffer))).toBe(true);
    expect(final.relativeLoss).toBe(whole.relativeLoss);
    expect(final.trace!.map((t) => t.iteration)).toEqual(whole.trace!.map((t) => t.iteration));
    await expect(lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), { ...options, forgetting: 0.8, resumeFrom: dir }))).rejects.toThrow(OptionError);
  });
});

describe('online l2: warm-up, window and sweeps', () => {
  const trueLoss = (A: CscMatrix, model: { W: Float64Array; d: Float64Array; rank: number; features: number; loss: 'l1' | 'l2' }): number =>
    relativeLoss(A, { ...model, H: solveH(A, model) });

  it('the warm-up fits the first chunk alone: on the whole matrix, w warm-up rounds + 1 ≈ w + 1 batch iterations', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const online = await lastValueFrom(fitOnline(fromCsc(A), { rank: 5, seed: 7, warmupIterations: 3, solver: 'exact' }));
    const batch = await lastValueFrom(fit(fromCsc(A), { rank: 5, seed: 7, maxIterations: 4, tol: 0, solver: 'exact' }));
    expect(online.relativeLoss).toBeCloseTo(batch.relativeLoss, 9);
    online.W.forEach((v, q) => expect(v).toBeCloseTo(batch.W[q]!, 8));
  });

  it('one pass with a window of 4 chunks and 3 sweeps comes within 2% of the batch fit (hawaiibirds, movielens; chunks of 256 in file order)', async () => {
    for (const name of ['hawaiibirds', 'movielens']) {
      const A = loadSharedMtx(name);
      const batch = await fitModel(fromCsc(A), { rank: 10, seed: 42, tol: 1e-4, maxIterations: 100, solver: 'exact' });
      const plain = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 256 }), { rank: 10, seed: 42, warmupIterations: 0, solver: 'exact' }));
      const windowed = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 256 }), { rank: 10, seed: 42, window: 4, sweeps: 3, solver: 'exact' }));
      const [b, p, w] = [trueLoss(A, batch), trueLoss(A, plain), trueLoss(A, windowed)];
      expect(w / b).toBeLessThan(1.02);
      expect(w).toBeLessThan(p);
    }
  });

  it("solver 'fast' (the default: window 4, warm-started CD sweeps) comes within 2% of the batch fit in one pass (hawaiibirds, movielens; chunks of 256)", async () => {
    for (const name of ['hawaiibirds', 'movielens']) {
      const A = loadSharedMtx(name);
      const batch = await fitModel(fromCsc(A), { rank: 10, seed: 42, tol: 1e-4, maxIterations: 100, solver: 'exact' });
      const fast = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 256 }), { rank: 10, seed: 42 }));
      expect(trueLoss(A, fast) / trueLoss(A, batch)).toBeLessThan(1.02);
      expect(fast.W.every((v) => v >= 0)).toBe(true);
    }
  });

  it("solver 'fast': the WebAssembly step gives the TypeScript path's bytes (window, sweeps, warm-up, ρ < 1, growing m)", async () => {
    const A = loadSharedMtx('hawaiibirds');
    const grow = (c: number): number => Math.min(A.m, 150 + 5 * c);
    const chunks: CscChunk[] = [];
    for (let c = 0, j0 = 0; j0 < A.n; c++, j0 += 90) {
      const j1 = Math.min(A.n, j0 + 90), m = grow(c);
      const colPtr = new Int32Array(j1 - j0 + 1), rowIdx: number[] = [], values: number[] = [];
      for (let j = j0; j < j1; j++) {
        for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) if (A.rowIdx[p]! < m) { rowIdx.push(A.rowIdx[p]!); values.push(A.values[p]!); }
        colPtr[j - j0 + 1] = rowIdx.length;
      }
      chunks.push(makeCscChunk({ m, colStart: j0, colPtr, rowIdx: Int32Array.from(rowIdx), values: Float64Array.from(values), position: c }));
    }
    const stream = new Observable<CscChunk>((s) => { chunks.forEach((x) => s.next(x)); s.complete(); });
    for (const options of [{ rank: 6, seed: 9, forgetting: 0.9, window: 3, sweeps: 2, warmupIterations: 3 }, { rank: 4, seed: 1 }]) {
      const wasm = await lastValueFrom(fitOnline(stream, { ...options, threads: 1 }).pipe(toArray()));
      const ts = await lastValueFrom(fitOnline(stream, { ...options, threads: 1, wasm: false }).pipe(toArray()));
      expect(wasm.length).toBe(chunks.length + 1);
      wasm.forEach((snapshot, t) => {
        expect(Buffer.from(snapshot.W.buffer).equals(Buffer.from(ts[t]!.W.buffer))).toBe(true);
        expect(snapshot.relativeLoss).toBe(ts[t]!.relativeLoss);
      });
    }
  });

  it("solver 'exact' keeps the exact step: every code and row of W solved exactly from a cold start, window 1 by default", async () => {
    const A = loadSharedMtx('hawaiibirds');
    const exact = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 300 }), { rank: 5, seed: 2, solver: 'exact' }));
    const explicit = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 300 }), { rank: 5, seed: 2, solver: 'exact', window: 1, sweeps: 1, nnlsMethod: 'active-set' }));
    expect(Buffer.from(exact.W.buffer).equals(Buffer.from(explicit.W.buffer))).toBe(true);
    expect(exact.diagnostics.nnlsSupportHits).toBeGreaterThan(0);
    const fast = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 300 }), { rank: 5, seed: 2 }));
    expect(Buffer.from(fast.W.buffer).equals(Buffer.from(exact.W.buffer))).toBe(false);
  });

  it('window and sweeps: the same bytes for threads 1 and 2, and across a checkpoint (the window refilled from the replayed chunks)', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const options = { rank: 4, seed: 3, forgetting: 0.9, window: 3, sweeps: 2, warmupIterations: 2 } as const;
    const whole = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), { ...options, threads: 1 }).pipe(toArray()));
    const two = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), { ...options, threads: 2 }).pipe(toArray()));
    two.forEach((s, t) => expect(Buffer.from(s.W.buffer).equals(Buffer.from(whole[t]!.W.buffer))).toBe(true));
    for (const stop of [1, 2, 6]) { // a window not yet full, just full, and sliding
      const dir = mkdtempSync(join(tmpdir(), 'nmflow-online-window-'));
      await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), { ...options, checkpoint: { dir } }).pipe(take(stop)));
      const resumed = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), { ...options, resumeFrom: dir }).pipe(toArray()));
      resumed.forEach((s, t) => {
        expect(Buffer.from(s.W.buffer).equals(Buffer.from(whole[t + stop]!.W.buffer))).toBe(true);
        expect(s.relativeLoss).toBe(whole[t + stop]!.relativeLoss);
      });
    }
  });
});

describe('online l1 checkpoints', () => {
  it('an interrupted online l1 fit resumes (the window rebuilt from the replayed chunks) to the same bytes', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const options = { rank: 4, seed: 3, loss: 'l1', lambda: 0.5, window: 3, sweeps: 2 } as const;
    const whole = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), options).pipe(toArray()));
    for (const stop of [1, 5]) { // a checkpoint with a window shorter than 3 chunks, and a full one
      const dir = mkdtempSync(join(tmpdir(), 'nmflow-online-l1-'));
      await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), { ...options, checkpoint: { dir, every: stop } }).pipe(take(stop)));
      const resumed = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), { ...options, resumeFrom: dir }).pipe(toArray()));
      expect(resumed[0]!.iteration).toBe(stop + 1);
      expect(resumed.length).toBe(whole.length - stop);
      for (const [t, s] of resumed.entries()) {
        const w = whole[t + stop]!;
        expect(Buffer.from(s.W.buffer).equals(Buffer.from(w.W.buffer))).toBe(true);
        expect([s.objective, s.relativeLoss, s.tol]).toEqual([w.objective, w.relativeLoss, w.tol]);
      }
      expect(resumed.at(-1)!.trace).toEqual(whole.at(-1)!.trace!.map((p, i) => ({ ...p, seconds: resumed.at(-1)!.trace![i]!.seconds })));
    }
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-online-l1-'));
    await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), { ...options, checkpoint: { dir, every: 2 } }).pipe(take(2)));
    await expect(lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), { ...options, window: 4, resumeFrom: dir }))).rejects.toThrow(/window/);
    // other chunks than the checkpoint saw (another chunk size): refused, not silently wrong
    await expect(lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 90 }), { ...options, resumeFrom: dir }))).rejects.toThrow(OptionError);
  });
});

describe('fitOnline with worker threads', () => {
  const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  const expectSameRun = (got: { W: Float64Array; d: Float64Array; relativeLoss: number; diagnostics: unknown }[], want: typeof got): void => {
    expect(got.length).toBe(want.length);
    for (const [t, s] of got.entries()) {
      expect(same(s.W, want[t]!.W)).toBe(true);
      expect(same(s.d, want[t]!.d)).toBe(true);
      expect(s.relativeLoss).toBe(want[t]!.relativeLoss);
    }
  };
  /** The columns of A with only the features below m(c) kept in chunk c: a stream whose m grows. */
  function growingChunks(A: ReturnType<typeof loadSharedMtx>, chunkSize: number, mOf: (c: number) => number): CscChunk[] {
    const out: CscChunk[] = [];
    for (let c = 0, j0 = 0; j0 < A.n; c++, j0 += chunkSize) {
      const m = mOf(c);
      const j1 = Math.min(A.n, j0 + chunkSize);
      const colPtr = new Int32Array(j1 - j0 + 1);
      const rowIdx: number[] = [];
      const values: number[] = [];
      for (let j = j0; j < j1; j++) {
        for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) if (A.rowIdx[p]! < m) { rowIdx.push(A.rowIdx[p]!); values.push(A.values[p]!); }
        colPtr[j - j0 + 1] = rowIdx.length;
      }
      out.push(makeCscChunk({ m, colStart: j0, colPtr, rowIdx: Int32Array.from(rowIdx), values: Float64Array.from(values), position: c }));
    }
    return out;
  }

  it('threads = 1, 2 and 3 give the same snapshots, bit for bit (both solvers; ρ = 1 and 0.9; chunks of 1 sample too)', async () => {
    const A = loadSharedMtx('hawaiibirds');
    for (const [chunkSize, forgetting, solver] of [[100, 1, 'fast'], [150, 0.9, 'fast'], [100, 1, 'exact'], [150, 0.9, 'exact']] as const) {
      const run = (threads: number) => lastValueFrom(fitOnline(fromCsc(A, { chunkSize }), { rank: 5, seed: 4, forgetting, threads, solver }).pipe(toArray()));
      const one = await run(1);
      expectSameRun(await run(2), one);
      expectSameRun(await run(3), one);
    }
    const P = loadSharedMtx('pbmc_small');
    const tiny = (threads: number) => lastValueFrom(fitOnline(fromCsc(P, { chunkSize: 1 }), { rank: 3, seed: 2, threads }));
    const [a, b] = [await tiny(1), await tiny(3)];
    expect(same(b.W, a.W)).toBe(true);
  });

  it('a live Observable: chunks before the workers are up run here, the rest on them — the same bytes; m may grow', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const chunks = growingChunks(A, 60, (c) => Math.min(A.m, 120 + 4 * c));
    const slow = new Observable<CscChunk>((subscriber) => {
      let i = 0;
      const timer = setInterval(() => { if (i < chunks.length) subscriber.next(chunks[i++]!); else { clearInterval(timer); subscriber.complete(); } }, 15);
      return () => clearInterval(timer);
    });
    const options = { rank: 4, seed: 5, forgetting: 0.95 } as const;
    const one = await lastValueFrom(fitOnline(slow, { ...options, threads: 1 }).pipe(toArray()));
    expect(one.at(-1)!.features).toBe(A.m);
    expectSameRun(await lastValueFrom(fitOnline(slow, { ...options, threads: 2 }).pipe(toArray())), one);
    // A source that says m is read once its workers are up: every chunk (and every growth) runs on them.
    const source = { name: 'growing', rereadable: false, features: 120, chunks: () => slow };
    expectSameRun(await lastValueFrom(fitOnline(source, { ...options, threads: 2 }).pipe(toArray())), one);
  });

  it('l1: threads = 1, 2 and 3 give the same snapshots (the window bound to the workers chunk by chunk)', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const options = { rank: 4, seed: 2, loss: 'l1', lambda: 0.5, window: 3, sweeps: 2 } as const;
    const run = (threads: number) => lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 100 }), { ...options, threads }).pipe(toArray()));
    const one = await run(1);
    expectSameRun(await run(2), one);
    expectSameRun(await run(3), one);
  });

  it('a failing worker is a typed error', async () => {
    const A = loadSharedMtx('hawaiibirds');
    process.env.NMFLOW_WORKER_FAULT = '4'; // the W-update
    try {
      await expect(lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 200 }), { rank: 4, threads: 2 })))
        .rejects.toMatchObject({ code: 'NUMERICAL', message: expect.stringMatching(/worker thread failed.*injected fault/s) });
    } finally {
      delete process.env.NMFLOW_WORKER_FAULT;
    }
  });

  it('no worker keeps the process alive after completion, error or unsubscribe', () => {
    const script = `
      import { lastValueFrom, take, Observable } from 'rxjs';
      import { fitOnline } from './src/pipeline/fit-online.ts';
      import { fromDense } from './src/source/from-csc.ts';
      const data = Array.from({ length: 400 * 300 }, (_, q) => ((q * 7919) % 13) / 3);
      const source = fromDense(data, 400, 300, { chunkSize: 50 });
      await lastValueFrom(fitOnline(source, { rank: 4, threads: 2 }));
      await lastValueFrom(fitOnline(source, { rank: 4, threads: 2 }).pipe(take(2)));
      const chunks = [];
      source.chunks().subscribe((c) => chunks.push(c));
      const endless = new Observable((s) => { let i = 0; const t = setInterval(() => s.next(chunks[i++ % chunks.length]), 5); return () => clearInterval(t); });
      const sub = fitOnline(endless, { rank: 4, threads: 2 }).subscribe();
      await new Promise((r) => setTimeout(r, 1500));
      sub.unsubscribe();
      const bad = new Observable((s) => { s.next(chunks[0]); setTimeout(() => s.error(new Error('boom')), 1000); });
      await lastValueFrom(fitOnline(bad, { rank: 4, threads: 2 })).catch(() => undefined);
    `;
    const result = spawnSync('node', ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url).pathname, timeout: 30_000 });
    expect(result.stderr.toString()).toBe('');
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(0);
  });
});
