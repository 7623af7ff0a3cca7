// Issue #17: Arrow IPC files are read, converted and checked in the decoder's worker (as Parquet: off-thread.test.ts),
// and Matrix Market files are parsed there. The chunks must be the main thread's, byte for byte, and so must the errors
// (code, message, location: file, record batch, row, column; file and line for .mtx) and the chunks before them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Table, tableFromArrays, tableToIPC } from 'apache-arrow';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import { LongToCsc } from '../src/chunk/long-to-csc.js';
import { DataError, NmfError } from '../src/errors.js';
import { fitBudget } from '../src/memory-limit.js';
import { fromArrow } from '../src/source/from-arrow.js';
import { loadMtx } from '../src/source/from-mtx.js';
import { readMtxOffThread } from '../src/source/mtx-off-thread.js';
import type { SourceOptions } from '../src/source/layout.js';
import { MtxParser } from '../src/source/mtx-parser.js';
import { readMtx } from '../src/source/read-mtx.js';
import { FIXTURES, tmpDir } from './fixtures/sources.js';

const dir = tmpDir('off-thread-arrow');

interface Outcome { chunks: CscChunk[]; error: { code: string; message: string; location: unknown; name: string } | undefined }

async function outcome(path: string, options: SourceOptions): Promise<Outcome> {
  const chunks: CscChunk[] = [];
  let error: Outcome['error'];
  try {
    chunks.push(...await lastValueFrom((fromArrow(path, options).chunks() as Observable<CscChunk>).pipe(toArray())));
  } catch (err) {
    const e = err as NmfError;
    error = { code: e.code, message: e.message, location: e.location, name: e.name };
    await new Promise<void>((resolve) => {
      fromArrow(path, options).chunks().subscribe({ next: (c) => chunks.push(c), error: () => resolve(), complete: resolve });
    });
  }
  return { chunks, error };
}

const plain = (c: CscChunk) => ({ m: c.m, colStart: c.colStart, n: c.n, position: c.position, colPtr: [...c.colPtr],
  rowIdx: [...c.rowIdx.subarray(0, c.colPtr[c.n])], values: [...c.values.subarray(0, c.colPtr[c.n])] });

async function expectSame(path: string, options: SourceOptions, readAheads: readonly (number | undefined)[] = [undefined, 1, 3]): Promise<Outcome> {
  const main = await outcome(path, { ...options, readAhead: 0 });
  for (const readAhead of readAheads) {
    const worker = await outcome(path, { ...options, ...(readAhead === undefined ? {} : { readAhead }) });
    expect(worker.error).toEqual(main.error);
    expect(worker.chunks.length).toBe(main.chunks.length);
    worker.chunks.forEach((c, i) => expect(plain(c)).toEqual(plain(main.chunks[i]!)));
  }
  return main;
}

/** An Arrow IPC file of long rows in record batches of `size` rows; `bad(i)` may change row i's value. */
function arrowFile(name: string, rows: number, size: number, value: (i: number) => number, sample = (i: number) => Math.floor(i / 5)): string {
  const batches = [];
  for (let s = 0; s < rows; s += size) {
    const n = Math.min(size, rows - s);
    batches.push(...tableFromArrays({
      feature: Int32Array.from({ length: n }, (_, r) => (s + r) % 5),
      sample: Int32Array.from({ length: n }, (_, r) => sample(s + r)),
      value: Float64Array.from({ length: n }, (_, r) => value(s + r)),
    }).batches);
  }
  const path = join(dir, name);
  writeFileSync(path, tableToIPC(new Table(batches), 'file'));
  return path;
}

describe('Arrow IPC conversion in the decoder worker: the same chunks and errors as on the main thread', () => {
  it('the long fixture as an IPC file and as a stream, chunks of 100; with readAhead the main thread\'s converter is not used', async () => {
    const push = vi.spyOn(LongToCsc.prototype, 'push');
    try {
      for (const file of ['hawaiibirds-long.arrow', 'hawaiibirds-long.arrows']) {
        const main = await expectSame(join(FIXTURES, file), { layout: 'long', chunkSize: 100 });
        expect(main.chunks.length).toBeGreaterThan(1);
      }
      push.mockClear();
      await lastValueFrom(fromArrow(join(FIXTURES, 'hawaiibirds-long.arrow'), { layout: 'long', readAhead: 2 }).chunks().pipe(toArray()));
      expect(push).not.toHaveBeenCalled();
      // A file under 8 MB without readAhead converts here (sooner than the worker starts).
      await lastValueFrom(fromArrow(join(FIXTURES, 'hawaiibirds-long.arrow'), { layout: 'long' }).chunks().pipe(toArray()));
      expect(push).toHaveBeenCalled();
    } finally {
      push.mockRestore();
    }
  });

  it('a negative value, an unsorted sample, a feature out of range, a damaged or empty file: same error, same chunks before it', async () => {
    const neg = await expectSame(arrowFile('neg.arrow', 20000, 700, (i) => (i === 9001 ? -2 : 1)), { layout: 'long', chunkSize: 50 }, [1]);
    expect(neg.error).toMatchObject({ code: 'INVALID_VALUE', location: { row: 9001, batch: 12, column: 'value' } });
    expect(neg.chunks.length).toBeGreaterThan(5);
    const unsorted = await expectSame(arrowFile('unsorted.arrow', 20000, 700, () => 1, (i) => (i === 9001 ? 0 : Math.floor(i / 5))),
      { layout: 'long', chunkSize: 50 }, [2]);
    expect(unsorted.error?.code).toBe('UNSORTED_INPUT');
    const range = await expectSame(arrowFile('range.arrow', 3000, 512, () => 1), { layout: 'long', features: 3, chunkSize: 50 }, [1]);
    expect(range.error?.code).toBe('INDEX_OUT_OF_RANGE');
    const bytes = tableToIPC(tableFromArrays({ feature: Int32Array.of(0, 1), sample: Int32Array.of(0, 1), value: Float64Array.of(1, 2) }), 'file');
    const damaged = join(dir, 'damaged.arrow');
    writeFileSync(damaged, bytes.subarray(0, bytes.length - 20));
    expect((await expectSame(damaged, { layout: 'long' }, [1])).error?.code).toBe('MALFORMED_FILE');
    const empty = join(dir, 'empty.arrow');
    writeFileSync(empty, '');
    expect((await expectSame(empty, { layout: 'long' }, [1])).error?.code).toBe('EMPTY_INPUT');
  });
});

describe('Matrix Market files parsed in the decoder worker', () => {
  const HEAD = '%%MatrixMarket matrix coordinate real general\n';

  it('gives readMtx\'s arrays (plain and gzip) without parsing on the main thread; loadMtx parses a small file here', async () => {
    const body = `${HEAD}% a comment\n4 3 5\n1 1 1.5\n3 1 2\n2 2 0.25\n4 3 7\n1 3 1e-3\n`;
    const path = join(dir, 'm.mtx');
    writeFileSync(path, body);
    writeFileSync(`${path}.gz`, gzipSync(body));
    const push = vi.spyOn(MtxParser.prototype, 'push');
    let loaded;
    try {
      loaded = [await readMtxOffThread(path, {}, 0), await readMtxOffThread(`${path}.gz`, {}, 0)];
      expect(push).not.toHaveBeenCalled();
    } finally {
      push.mockRestore();
    }
    const want = await readMtx(path);
    for (const matrix of loaded) expect(matrix).toEqual(want);
    expect((await loadMtx(path)).matrix).toEqual(want);
  });

  it('errors keep their class, code, message, file and line; a missing file is IO with its cause\'s code', async () => {
    const bad = join(dir, 'bad.mtx');
    writeFileSync(bad, `${HEAD}3 3 2\n1 1 1\n2 9 1\n`);
    const viaWorker = await readMtxOffThread(bad, {}, 0).then(() => undefined, (e: unknown) => e);
    const here = await readMtx(bad).then(() => undefined, (e: unknown) => e);
    expect(viaWorker).toBeInstanceOf(DataError);
    expect(viaWorker).toMatchObject({ code: (here as DataError).code, message: (here as DataError).message, location: { source: bad, line: 4 } });
    const missing = await readMtxOffThread(join(dir, 'nope.mtx'), {}, 0).then(() => undefined, (e: unknown) => e) as NmfError;
    expect(missing.code).toBe('IO');
    expect((missing.cause as { code?: string }).code).toBe('ENOENT');
    const budget = fitBudget(2 ** 20, { rank: 50, loss: 'l2' });
    const big = join(dir, 'big.mtx');
    writeFileSync(big, `${HEAD}1000000 1000000 1\n1 1 1\n`);
    const limited = await readMtxOffThread(big, { budget }, 0).then(() => undefined, (e: unknown) => e) as NmfError;
    expect(limited.code).toBe('MEMORY_LIMIT');
    expect(limited.message).toBe((await readMtx(big, { budget }).then(() => undefined, (e: unknown) => e) as NmfError).message);
  });
});
