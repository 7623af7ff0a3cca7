// Issue #17: Parquet passes decoded, converted (long / wide / list → CSC) and checked in the decoder's worker,
// read ahead by `readAhead` chunks. The chunks must be the main thread's, byte for byte, and so must the errors
// (code, message, location) and the chunks emitted before them; `readAhead: 0` is the main-thread path.
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import { LongToCsc } from '../src/chunk/long-to-csc.js';
import { NmfError } from '../src/errors.js';
import { fitBudget } from '../src/memory-limit.js';
import { defaultReadAhead, fromParquet } from '../src/source/from-parquet.js';
import type { SourceOptions } from '../src/source/layout.js';
import { FIXTURES, MANIFEST, tmpDir } from './fixtures/sources.js';

let dir: string;
let db: DuckDBInstance;
let sql: DuckDBConnection;

beforeAll(async () => {
  dir = tmpDir('off-thread');
  db = await DuckDBInstance.create(':memory:', { threads: '1' });
  sql = await db.connect();
});
afterAll(() => {
  sql.closeSync();
  db.closeSync();
});

async function duck(name: string, query: string, options = ''): Promise<string> {
  const path = join(dir, name);
  await sql.run(`COPY (${query}) TO '${path}' (FORMAT parquet${options ? `, ${options}` : ''})`);
  return path;
}

interface Outcome { chunks: CscChunk[]; error: { code: string; message: string; location: unknown; name: string } | undefined; sampleNames: unknown }

/** Every chunk of one pass (and the error that ends it, if any). */
async function outcome(input: string | string[], options: SourceOptions, consumer?: Parameters<ReturnType<typeof fromParquet>['chunks']>[0]): Promise<Outcome> {
  const source = fromParquet(input, options);
  const chunks: CscChunk[] = [];
  let error: Outcome['error'];
  try {
    await lastValueFrom((source.chunks(consumer) as Observable<CscChunk>).pipe(toArray())).then((all) => chunks.push(...all));
  } catch (err) {
    const e = err as NmfError;
    error = { code: e.code, message: e.message, location: e.location, name: e.name };
    // The chunks emitted before the error: gather them again, stopping at the error.
    await new Promise<void>((resolve) => {
      fromParquet(input, options).chunks(consumer).subscribe({ next: (c) => chunks.push(c), error: () => resolve(), complete: resolve });
    });
  }
  return { chunks, error, sampleNames: source.sampleNames };
}

const plain = (c: CscChunk) => ({ m: c.m, colStart: c.colStart, n: c.n, position: c.position, colPtr: [...c.colPtr],
  rowIdx: [...c.rowIdx.subarray(0, c.colPtr[c.n])], values: [...c.values.subarray(0, c.colPtr[c.n])] });

async function expectSame(input: string | string[], options: SourceOptions, consumer?: Parameters<ReturnType<typeof fromParquet>['chunks']>[0],
  readAheads: readonly (number | undefined)[] = [undefined, 1, 3]): Promise<Outcome> {
  const main = await outcome(input, { ...options, readAhead: 0 }, consumer);
  for (const readAhead of readAheads) {
    const worker = await outcome(input, { ...options, ...(readAhead === undefined ? {} : { readAhead }) }, consumer);
    expect(worker.error).toEqual(main.error);
    expect(worker.sampleNames).toEqual(main.sampleNames);
    expect(worker.chunks.length).toBe(main.chunks.length);
    worker.chunks.forEach((c, i) => expect(plain(c)).toEqual(plain(main.chunks[i]!)));
  }
  return main;
}

describe('Parquet conversion in the decoder worker: the same chunks and errors as on the main thread', () => {
  for (const entry of MANIFEST.filter((f) => f.file.endsWith('.parquet'))) {
    it(`${entry.file}, chunks of 100`, async () => {
      const main = await expectSame(join(FIXTURES, entry.file), { layout: entry.layout, chunkSize: 100, batchSize: 1000 });
      expect(main.chunks.length).toBeGreaterThan(1);
    });
  }

  it('string sample and feature ids, a directory of parts, list columns', { timeout: 240_000 }, async () => {
    const q = (from: number, to: number) => `SELECT 'f' || (i % 7) AS feature, 's' || lpad((i // 3)::VARCHAR, 6, '0') AS sample, (1 + i % 4)::DOUBLE AS value
      FROM range(${from}, ${to}) t(i) ORDER BY i`;
    const names = await duck('names.parquet', q(0, 3000), 'ROW_GROUP_SIZE 500');
    const strings = await expectSame(names, { layout: 'long', chunkSize: 64, batchSize: 333 });
    expect((strings.sampleNames as string[]).length).toBe(1000);
    const parts = join(dir, 'parts');
    await sql.run(`CREATE TABLE t AS SELECT (i % 11)::INTEGER AS feature, (i // 4)::INTEGER AS sample, (i % 3)::DOUBLE AS value FROM range(9000) t(i)`);
    await import('node:fs').then((fs) => fs.mkdirSync(parts));
    for (let p = 0; p < 3; p++) {
      await sql.run(`COPY (SELECT * FROM t WHERE sample >= ${p * 750} AND sample < ${(p + 1) * 750} ORDER BY sample, feature) TO '${join(parts, `part-${p}.parquet`)}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
    }
    await expectSame(parts, { layout: 'long', chunkSize: 100, batchSize: 512 });
    const lists = await duck('lists.parquet', `SELECT [i % 5, 5 + i % 3] AS indices, [1.0 + i, 2.0] AS values FROM range(2000) t(i)`, 'ROW_GROUP_SIZE 300');
    await expectSame(lists, { layout: 'list', features: 8, chunkSize: 128 });
  });

  it('bad values, unsorted samples, ids out of range, a missing column, a memory limit: same error, same chunks before it', { timeout: 240_000 }, async () => {
    const base = (value: string, sample = 'i // 5') => `SELECT (i % 5)::INTEGER AS feature, (${sample})::INTEGER AS sample, (${value})::DOUBLE AS value
      FROM range(20000) t(i) ORDER BY i`;
    const bad = [
      await duck('neg.parquet', base('CASE WHEN i = 9001 THEN -2 ELSE 1 END'), 'ROW_GROUP_SIZE 2048'),
      await duck('nan.parquet', base("CASE WHEN i = 9001 THEN 'NaN'::DOUBLE ELSE 1 END"), 'ROW_GROUP_SIZE 2048'),
      await duck('unsorted.parquet', base('1', 'CASE WHEN i = 9001 THEN 0 ELSE i // 5 END'), 'ROW_GROUP_SIZE 2048'),
    ];
    for (const path of bad) {
      const main = await expectSame(path, { layout: 'long', chunkSize: 50, batchSize: 700 }, undefined, [1]);
      expect(main.error?.location).toMatchObject({ source: path, row: 9001 });
      expect(main.chunks.length).toBeGreaterThan(5);
    }
    const wide = await duck('feature.parquet', base('1').replace('(i % 5)::INTEGER', 'CASE WHEN i = 15000 THEN 7 ELSE i % 5 END::INTEGER'), 'ROW_GROUP_SIZE 2048');
    expect((await expectSame(wide, { layout: 'long', features: 5, chunkSize: 100 }, undefined, [2])).error?.code).toBe('INDEX_OUT_OF_RANGE');
    expect((await expectSame(wide, { layout: 'long', value: 'count', features: 5 }, undefined, [2])).error?.code).toBe('SCHEMA_MISMATCH');
    // A consumer's budget that a sample index far out exceeds: MEMORY_LIMIT (the file's statistics tell n before reading).
    const far = await duck('far.parquet', base('1', 'CASE WHEN i >= 15000 THEN 100000000 + i ELSE i // 5 END'), 'ROW_GROUP_SIZE 2048');
    const limited = await expectSame(far, { layout: 'long', features: 5, chunkSize: 100 }, fitBudget(256 * 2 ** 20, { rank: 10, loss: 'l2' }), [undefined]);
    expect(limited.error?.code).toBe('MEMORY_LIMIT');
  });

  it('converts off the main thread by default (the main thread\'s converter is not used)', async () => {
    const push = vi.spyOn(LongToCsc.prototype, 'push');
    try {
      const path = join(FIXTURES, 'hawaiibirds-long-snappy.parquet');
      await lastValueFrom(fromParquet(path, { layout: 'long' }).chunks().pipe(toArray()));
      expect(push).not.toHaveBeenCalled();
      await lastValueFrom(fromParquet(path, { layout: 'long', readAhead: 0 }).chunks().pipe(toArray()));
      expect(push).toHaveBeenCalled();
    } finally {
      push.mockRestore();
    }
  });

  it('the default read-ahead is 64 MB of chunks, 2 to 8', () => {
    expect(defaultReadAhead(10_000_000, 200_000, 4096)).toBe(8);
    expect(defaultReadAhead(1e9, 1e6, 4096)).toBe(2);
    expect(defaultReadAhead(1e9, undefined, 4096)).toBe(2);
    expect(defaultReadAhead(1e8, 1e6, 16384)).toBe(3);
  });
});

describe('sumDuplicates sorts a column by typed-array keys: the stable sort by row of before, to the bit', () => {
  it('random columns with repeated rows, sums added left to right', async () => {
    const { sumDuplicates } = await import('../src/chunk/sum-duplicates.js');
    let seed = 7;
    const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
    for (let round = 0; round < 20; round++) {
      const n = 50;
      const colPtr = new Int32Array(n + 1);
      const rows: number[] = [];
      const vals: number[] = [];
      for (let j = 0; j < n; j++) {
        const len = Math.floor(rand() * 40);
        const span = 1 + Math.floor(rand() * (round % 2 ? 10 : 2 ** 31 - 2));
        for (let t = 0; t < len; t++) { rows.push(Math.floor(rand() * span)); vals.push(rand() * 10 ** (rand() * 20 - 10)); }
        colPtr[j + 1] = rows.length;
      }
      const rowIdx = Int32Array.from(rows);
      const values = Float64Array.from(vals);
      const got = sumDuplicates({ colPtr, rowIdx, values }, n) ?? { colPtr, rowIdx, values };
      // Reference: Array.prototype.sort (stable) by row, runs summed left to right.
      const refRows: number[] = [];
      const refVals: number[] = [];
      const refPtr = [0];
      for (let j = 0; j < n; j++) {
        const order = Array.from({ length: colPtr[j + 1]! - colPtr[j]! }, (_, t) => colPtr[j]! + t).sort((a, b) => rowIdx[a]! - rowIdx[b]!);
        const first = refRows.length;
        for (const p of order) {
          if (refRows.length > first && refRows.at(-1) === rowIdx[p]) refVals[refVals.length - 1]! += values[p]!;
          else { refRows.push(rowIdx[p]!); refVals.push(values[p]!); }
        }
        refPtr.push(refRows.length);
      }
      expect([...got.colPtr]).toEqual(refPtr);
      expect([...got.rowIdx]).toEqual(refRows);
      expect([...got.values]).toEqual(refVals);
    }
  });
});

describe('memoryBudget picks chunkSize and readAhead (memory-limit.ts readingWithin)', () => {
  it('the model and 150 MB first, then readAhead + 4 chunks; too small a budget is MEMORY_LIMIT', async () => {
    const { readingWithin, RUNTIME_BYTES, CHUNKS_BESIDES_READ_AHEAD } = await import('../src/memory-limit.js');
    const fit = fitBudget(2 ** 40, { rank: 20, loss: 'l2', threads: 2 });
    const { chunkSize, readAhead } = readingWithin(2 * 2 ** 30, fit, 30_000, 1_500_000, 667);
    const inFlight = (readAhead + CHUNKS_BESIDES_READ_AHEAD) * chunkSize * (12 * 667 + 4);
    expect(fit.need(30_000, 1_500_000) + RUNTIME_BYTES + inFlight).toBeLessThanOrEqual(2 * 2 ** 30);
    expect([chunkSize, readAhead]).toEqual([16384, 6]);
    const tight = readingWithin(fit.need(30_000, 1_500_000) + RUNTIME_BYTES + 40 * 2 ** 20, fit, 30_000, 1_500_000, 667);
    expect(tight.chunkSize).toBeLessThan(4096);
    expect(() => readingWithin(400 * 2 ** 20, fit, 30_000, 1_500_000, 667)).toThrow(/memory budget of 400.0 MB cannot hold/);
    const path = join(FIXTURES, 'movielens-long-float32-lz4.parquet');
    const source = fromParquet(path, { layout: 'long', memoryBudget: 151 * 2 ** 20 });
    const chunks = await lastValueFrom(source.chunks().pipe(toArray()));
    expect(chunks[0]!.n).toBeLessThan(4096);
    expect(chunks[0]!.n).toBeGreaterThanOrEqual(64);
  });
});
