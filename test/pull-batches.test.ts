import { describe, expect, it, vi } from 'vitest';
import { from, lastValueFrom, map, take, toArray } from 'rxjs';
import { pullBatches } from '../src/source/pull-batches.js';

/** An async iterator of 0..n-1 that counts reads and resolves each one after a timer tick. */
function counting(n: number) {
  const stats = { started: 0, finished: 0, returned: 0, maxInFlight: 0 };
  const open = () => {
    let i = 0;
    return {
      next: async (): Promise<IteratorResult<number>> => {
        stats.started++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.started - stats.finished);
        await new Promise((r) => setTimeout(r, 1));
        stats.finished++;
        return i < n ? { done: false, value: i++ } : { done: true, value: undefined };
      },
      return: async (): Promise<IteratorResult<number>> => {
        stats.returned++;
        return { done: true, value: undefined };
      },
    };
  };
  return { stats, open };
}

describe('pullBatches', () => {
  it('reads the next batch only after the consumer has taken the previous one', async () => {
    const { stats, open } = counting(20);
    const aheadSeen: number[] = [];
    let delivered = 0;
    const values = await lastValueFrom(pullBatches(open).pipe(
      map((v) => {
        delivered++;
        aheadSeen.push(stats.started - delivered);
        return v;
      }),
      toArray(),
    ));
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(Math.max(...aheadSeen)).toBe(0);
    expect(stats.maxInFlight).toBe(1);
    expect(stats.started).toBe(21);
  });

  it('calls return() at once on unsubscribe, even while a read is pending', async () => {
    const ret = vi.fn(async (): Promise<IteratorResult<number>> => ({ done: true, value: undefined }));
    let reads = 0;
    const open = () => ({
      next: () => (reads++ === 0 ? Promise.resolve({ done: false as const, value: 1 }) : new Promise<IteratorResult<number>>(() => undefined)),
      return: ret,
    });
    const got: number[] = [];
    const sub = pullBatches(open).subscribe((v) => got.push(v));
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([1]);
    expect(reads).toBe(2);
    expect(ret).not.toHaveBeenCalled();
    sub.unsubscribe();
    expect(ret).toHaveBeenCalledTimes(1);
  });

  it('closes sooner than RxJS from(), which waits for the pending read before calling return()', async () => {
    const ret = vi.fn(async (): Promise<IteratorResult<number>> => ({ done: true, value: undefined }));
    let reads = 0;
    const iterable = {
      [Symbol.asyncIterator]: () => ({
        next: () => (reads++ === 0 ? Promise.resolve({ done: false as const, value: 1 }) : new Promise<IteratorResult<number>>(() => undefined)),
        return: ret,
      }),
    };
    const sub = from(iterable).subscribe();
    await new Promise((r) => setTimeout(r, 5));
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 5));
    expect(ret).not.toHaveBeenCalled();
  });

  it('drops a value that arrives after unsubscribe and reads no further', async () => {
    let resolve!: (r: IteratorResult<number>) => void;
    const next = vi.fn(() => new Promise<IteratorResult<number>>((r) => { resolve = r; }));
    const ret = vi.fn(async (): Promise<IteratorResult<number>> => ({ done: true, value: undefined }));
    const got: number[] = [];
    const sub = pullBatches(() => ({ next, return: ret })).subscribe((v) => got.push(v));
    sub.unsubscribe();
    resolve({ done: false, value: 7 });
    await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([]);
    expect(next).toHaveBeenCalledTimes(1);
    expect(ret).toHaveBeenCalledTimes(1);
  });

  it('sends a rejected read to the error channel, with nothing after it', async () => {
    let i = 0;
    const boom = new Error('boom');
    const open = () => ({ next: async () => (i++ < 2 ? { done: false as const, value: i } : Promise.reject(boom)) });
    const got: number[] = [];
    await expect(lastValueFrom(pullBatches(open).pipe(map((v) => { got.push(v); return v; })))).rejects.toBe(boom);
    expect(got).toEqual([1, 2]);
  });

  it('sends a throwing open() to the error channel', async () => {
    const boom = new Error('cannot open');
    await expect(lastValueFrom(pullBatches(() => { throw boom; }))).rejects.toBe(boom);
  });

  it('calls return() when an operator downstream fails', async () => {
    const { stats, open } = counting(10);
    await expect(lastValueFrom(pullBatches(open).pipe(map((v) => { if (v === 3) throw new Error('bad batch'); return v; }))))
      .rejects.toThrow('bad batch');
    expect(stats.returned).toBe(1);
    expect(stats.started).toBe(4);
  });

  it('opens a new iterator for every subscription and stops after take()', async () => {
    const { stats, open } = counting(10);
    const spy = vi.fn(open);
    const a = await lastValueFrom(pullBatches(spy).pipe(take(3), toArray()));
    const b = await lastValueFrom(pullBatches(spy).pipe(take(3), toArray()));
    expect(a).toEqual([0, 1, 2]);
    expect(b).toEqual([0, 1, 2]);
    expect(spy).toHaveBeenCalledTimes(2);
    expect(stats.returned).toBe(2);
    expect(stats.started).toBe(6);
  });
});
