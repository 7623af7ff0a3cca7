import { Observable, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DataError, NmfError, OptionError } from '../src/errors.js';
import { fit, fitModel } from '../src/pipeline/fit.js';
import { fromCsc, fromDense } from '../src/source/from-csc.js';
import { makeCscChunk, type CscChunk } from '../src/chunk/csc-chunk.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import type { Snapshot } from '../src/snapshot/snapshot.js';

const good = () => fromDense([1, 0, 2, 3, 0, 1, 4, 1, 0, 2, 2, 1], 3, 4);

/** A hand-made source whose chunks are served as given (no validation in the source). */
function rawSource(chunks: CscChunk[], onUnsubscribe?: () => void): MatrixSource {
  return {
    name: 'raw', rereadable: true,
    chunks: () => new Observable<CscChunk>((subscriber) => {
      const timers = chunks.map((chunk, c) => setTimeout(() => {
        subscriber.next(chunk);
        if (c === chunks.length - 1) subscriber.complete();
      }, 1 + c));
      return () => { timers.forEach(clearTimeout); onUnsubscribe?.(); };
    }),
  };
}

function chunk(colStart: number, colPtr: number[], rowIdx: number[], values: number[], position = 0): CscChunk {
  return makeCscChunk({ m: 3, colStart, colPtr: Int32Array.from(colPtr), rowIdx: Int32Array.from(rowIdx), values: Float64Array.from(values), position });
}

async function errorOf(source: MatrixSource, options = { rank: 1 }): Promise<{ error: NmfError; emitted: Snapshot[] }> {
  const emitted: Snapshot[] = [];
  return await new Promise((resolve) => {
    fit(source, { ...options, maxIterations: 3, tol: 0 }).subscribe({
      next: (s) => emitted.push(s),
      error: (error: NmfError) => resolve({ error, emitted }),
      complete: () => resolve({ error: new NmfError('IO', 'completed'), emitted }),
    });
  });
}

describe('bad options throw OptionError synchronously, before anything is subscribed', () => {
  const cases: [string, object][] = [
    ['rank', { rank: 0 }], ['rank', { rank: 1.5 }], ['rank', { rank: 5 }], ['l1', { rank: 1, l1: 1 }],
    ['l1', { rank: 1, l1: [0.1] }], ['l2', { rank: 1, l2: -1 }], ['tol', { rank: 1, tol: -1 }],
    ['maxIterations', { rank: 1, maxIterations: 0 }], ['lambda', { rank: 1, loss: 'l1', lambda: -0.5 }],
    ['loss', { rank: 1, loss: 'kl' }], ['init.W', { rank: 2, init: { W: [1, 2, 3] } }],
    ['init.W', { rank: 1, init: { W: [1, Number.NaN, 3] } }],
  ];
  for (const [option, options] of cases) {
    it(`rejects ${JSON.stringify(options)} naming \`${option}\``, () => {
      let subscribed = false;
      const source = { ...good(), chunks: () => { subscribed = true; return good().chunks(); } };
      try {
        fit(source, options as never);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(OptionError);
        expect((error as OptionError).code).toBe('INVALID_OPTION');
        expect((error as OptionError).option).toBe(option);
        expect((error as Error).message).toMatch(/expected .*, got /);
      }
      expect(subscribed).toBe(false);
    });
  }
});

describe('bad data becomes a typed error that says where', () => {
  it('negative, NaN and ±Inf values in a dense array name the feature and sample', () => {
    for (const bad of [-1, Number.NaN, Infinity, -Infinity]) {
      const data = [1, 0, 2, 3, 0, 1, 4, 1, 0, 2, 2, 1];
      data[7] = bad;
      try { fromDense(data, 3, 4); expect.unreachable(); } catch (error) {
        expect(error).toBeInstanceOf(DataError);
        expect((error as DataError).code).toBe('INVALID_VALUE');
        expect((error as DataError).location).toMatchObject({ feature: 1, sample: 2 });
      }
    }
  });

  it('an out-of-range index in a CSC matrix is INDEX_OUT_OF_RANGE', () => {
    expect(() => fromCsc({ m: 2, n: 1, colPtr: Int32Array.from([0, 1]), rowIdx: Int32Array.from([2]), values: Float64Array.from([1]) }))
      .toThrow(expect.objectContaining({ code: 'INDEX_OUT_OF_RANGE' }));
  });

  it('a bad chunk in the middle of a pass errors the fit with nothing emitted after it', async () => {
    const source = rawSource([chunk(0, [0, 1], [0], [1]), chunk(1, [0, 1], [1], [Number.NaN], 1), chunk(2, [0, 1], [2], [1], 2)]);
    const { error, emitted } = await errorOf(source);
    expect(error).toBeInstanceOf(DataError);
    expect(error.code).toBe('INVALID_VALUE');
    expect(error.location).toMatchObject({ source: 'raw', batch: 1, sample: 1 });
    expect(emitted).toEqual([]);
  });

  it('a malformed colPtr, a feature count that changes, an empty source', async () => {
    expect((await errorOf(rawSource([chunk(0, [0, 2, 1], [0, 1], [1, 1])]))).error.code).toBe('MALFORMED_CHUNK');
    const other = makeCscChunk({ m: 4, colStart: 1, colPtr: Int32Array.from([0, 1]), rowIdx: Int32Array.from([0]), values: Float64Array.from([1]), position: 1 });
    expect((await errorOf(rawSource([chunk(0, [0, 1], [0], [1]), other]))).error.code).toBe('SHAPE_MISMATCH');
    expect((await errorOf({ name: 'empty', rereadable: true, chunks: () => new Observable<CscChunk>((s) => s.complete()) })).error.code).toBe('EMPTY_INPUT');
  });

  it('rank larger than min(m, n) of a source whose size is known only from its chunks', async () => {
    const { error } = await errorOf(rawSource([chunk(0, [0, 1, 2], [0, 1], [1, 1])]), { rank: 4 });
    expect(error).toBeInstanceOf(OptionError);
  });
});

describe('the snapshot Observable', () => {
  it('unsubscribing stops the pass and tears down the source subscription', async () => {
    let unsubscribed = 0;
    const source = rawSource(Array.from({ length: 50 }, (_, c) => chunk(c, [0, 1], [c % 3], [1 + c], c)), () => { unsubscribed++; });
    const seen: number[] = [];
    const sub = fit(source, { rank: 1, maxIterations: 100, tol: 0 }).subscribe((s) => seen.push(s.iteration));
    await new Promise((r) => setTimeout(r, 15));
    sub.unsubscribe();
    expect(unsubscribed).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    expect(seen).toEqual([]);
    expect(unsubscribed).toBe(1);
  });

  it('two subscriptions fit two independent models with identical results', async () => {
    const fit$ = fit(good(), { rank: 2, seed: 3, maxIterations: 5, tol: 0 });
    const [a, b] = await Promise.all([lastValueFrom(fit$.pipe(toArray())), lastValueFrom(fit$.pipe(toArray()))]);
    expect(a.map((s) => s.relativeLoss)).toEqual(b.map((s) => s.relativeLoss));
    expect(a.at(-1)!.W).not.toBe(b.at(-1)!.W);
  });

  it('snapshots are copies: a consumer that scribbles on every snapshot does not change the fit', async () => {
    const options = { rank: 2, seed: 3, maxIterations: 4, tol: 0 } as const;
    const untouched = await fitModel(good(), options);
    const scribbled: Snapshot[] = [];
    await new Promise<void>((resolve) => fit(good(), options).subscribe({
      next: (s) => { scribbled.push(s); if (!s.final) { s.W.fill(123); s.d.fill(-1); } },
      complete: resolve,
    }));
    const final = scribbled.at(-1)!;
    expect(Array.from(final.W)).toEqual(Array.from(untouched.W));
    expect(final.relativeLoss).toBe(untouched.relativeLoss);
  });
});
