import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parquetMetadataAsync, asyncBufferFromFile } from 'hyparquet';
import { ParquetFile } from 'parquet-wasm';
import { lastValueFrom, take, toArray, type Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CscMatrix } from '../src/source/from-csc.js';
import { fromParquet } from '../src/source/from-parquet.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';
import { FIXTURES, MANIFEST, collect, errorOf, expectSameAsMatrix, expectSummary, tmpDir, trackHandles } from './fixtures/sources.js';

const require = createRequire(import.meta.url);
const parquetjs = require('parquetjs-lite') as {
  ParquetSchema: new (fields: Record<string, { type: string; compression?: string }>) => unknown;
  ParquetWriter: { openFile(schema: unknown, path: string, options?: { rowGroupSize?: number }): Promise<{ appendRow(row: object): Promise<void>; close(): Promise<void> }> };
};

let dir: string;
let db: DuckDBInstance;
let sql: DuckDBConnection;
let birds: CscMatrix;
let movies: CscMatrix;
const snappy = join(FIXTURES, 'hawaiibirds-long-snappy.parquet');

beforeAll(async () => {
  dir = tmpDir('parquet');
  birds = loadSharedMtx('hawaiibirds');
  movies = loadSharedMtx('movielens');
  db = await DuckDBInstance.create(':memory:', { threads: '1' });
  sql = await db.connect();
  await sql.run(`CREATE TABLE birds AS SELECT * FROM read_parquet('${snappy}') ORDER BY sample, feature`);
});
afterAll(() => {
  sql.closeSync();
  db.closeSync();
});

/** Writes `query` to dir/name with DuckDB and returns the path. */
async function duck(name: string, query: string, options = ''): Promise<string> {
  const path = join(dir, name);
  await sql.run(`COPY (${query}) TO '${path}' (FORMAT parquet${options ? `, ${options}` : ''})`);
  return path;
}

describe('fromParquet on files written by pyarrow (../shared/fixtures)', () => {
  for (const entry of MANIFEST.filter((f) => f.file.endsWith('.parquet'))) {
    it(`reads ${entry.file} to the features, samples, nnz and sum of fixtures.json, and to the .mtx chunk by chunk`, async () => {
      const source = fromParquet(join(FIXTURES, entry.file), { layout: entry.layout, chunkSize: 128 });
      const chunks = await collect(source);
      expectSummary(chunks, entry);
      expect([source.features, source.samples]).toEqual([entry.features, entry.samples]);
      await expectSameAsMatrix(chunks, entry.source === 'movielens' ? movies : birds, 128);
    });
  }
});

describe('fromParquet on files written by DuckDB and parquetjs-lite', () => {
  it('reads DuckDB defaults (one row group, dictionary columns with > 255 entries) and v2 + zstd', async () => {
    const plain = await duck('birds-duckdb.parquet', 'SELECT * FROM birds');
    const v2 = await duck('birds-duckdb-v2.parquet', 'SELECT * FROM birds', 'PARQUET_VERSION v2, COMPRESSION zstd');
    for (const path of [plain, v2]) await expectSameAsMatrix(await collect(fromParquet(path, { layout: 'long', chunkSize: 300 })), birds, 300);
    const movieFile = await duck('movies-duckdb.parquet', `SELECT * FROM read_parquet('${join(FIXTURES, 'movielens-long-float32-lz4.parquet')}')`);
    await expectSameAsMatrix(await collect(fromParquet(movieFile, { layout: 'long', chunkSize: 64, batchSize: 5000 })), movies, 64);
  });

  it('reads string feature and sample ids through a dictionary and keeps the feature names', async () => {
    const path = await duck('birds-strings.parquet', `SELECT 'sp' || lpad(feature::VARCHAR, 3, '0') AS feature,
      'cell' || lpad(sample::VARCHAR, 4, '0') AS sample, value FROM birds`, 'ROW_GROUP_SIZE 4096');
    const source = fromParquet(path, { layout: 'long', chunkSize: 256 });
    await expectSameAsMatrix(await collect(source), birds, 256);
    expect(source.featureNames).toEqual(Array.from({ length: 183 }, (_, i) => `sp${String(i).padStart(3, '0')}`));
    expect(source.sampleNames?.slice(0, 2)).toEqual(['cell0000', 'cell0001']);
  });

  it('reads a directory of part files in name order, with samples continuing across files', async () => {
    const parts = join(dir, 'parts');
    mkdirSync(parts);
    await duck('parts/part-002.parquet', 'SELECT * FROM birds WHERE sample >= 800');
    await duck('parts/part-000.parquet', 'SELECT * FROM birds WHERE sample < 333');
    await duck('parts/part-001.parquet', 'SELECT * FROM birds WHERE sample >= 333 AND sample < 800');
    writeFileSync(join(parts, '_SUCCESS'), '');
    await expectSameAsMatrix(await collect(fromParquet(parts, { layout: 'long', chunkSize: 100 })), birds, 100);
    const list = ['part-000', 'part-001', 'part-002'].map((p) => join(parts, `${p}.parquet`));
    await expectSameAsMatrix(await collect(fromParquet(list, { layout: 'long', chunkSize: 100 })), birds, 100);
  });

  it('reads DuckDB list columns: two parallel lists, and a list of structs', async () => {
    const lists = await duck('birds-list.parquet', `SELECT sample, list(feature ORDER BY feature) AS indices,
      list(value ORDER BY feature) AS "values" FROM birds GROUP BY sample ORDER BY sample`);
    await expectSameAsMatrix(await collect(fromParquet(lists, { layout: 'list', chunkSize: 100 })), birds, 100);
    const structs = await duck('birds-entries.parquet', `SELECT sample, list({'index': feature, 'value': value} ORDER BY feature) AS entries
      FROM birds GROUP BY sample ORDER BY sample`);
    await expectSameAsMatrix(await collect(fromParquet(structs, { layout: 'list', entries: 'entries', chunkSize: 100 })), birds, 100);
  });

  it('reads a DuckDB wide table: numeric columns only, nulls and zeros skipped', async () => {
    const path = await duck('wide.parquet', `SELECT 'r' || i AS id, CASE WHEN i % 3 = 0 THEN NULL ELSE i * 0.5 END AS a,
      (i % 2)::INTEGER AS b, (i % 4)::FLOAT AS c FROM range(10) t(i)`);
    const source = fromParquet(path, { layout: 'wide', chunkSize: 4 });
    const chunks = await collect(source);
    expect(source.featureNames).toEqual(['a', 'b', 'c']);
    expectSummary(chunks, { features: 3, samples: 10, nnz: 6 + 5 + 7, sum: 0.5 * (1 + 2 + 4 + 5 + 7 + 8) + 5 + 13 });
  });

  it('reads files written by parquetjs-lite (which parquet-wasm refuses) exactly, with hyparquet', async () => {
    const path = join(dir, 'birds-parquetjs.parquet');
    const schema = new parquetjs.ParquetSchema({
      feature: { type: 'INT32', compression: 'SNAPPY' }, sample: { type: 'INT32', compression: 'GZIP' }, value: { type: 'DOUBLE' },
    });
    const writer = await parquetjs.ParquetWriter.openFile(schema, path, { rowGroupSize: 5000 });
    for (let j = 0; j < birds.n; j++) {
      for (let p = birds.colPtr[j]!; p < birds.colPtr[j + 1]!; p++) await writer.appendRow({ feature: birds.rowIdx[p], sample: j, value: birds.values[p] });
    }
    await writer.close();
    await expect(ParquetFile.fromFile(new Blob([readFileSync(path)]))).rejects.toBeDefined();
    await expectSameAsMatrix(await collect(fromParquet(path, { layout: 'long', chunkSize: 200, batchSize: 1500 })), birds, 200);
  });
});

describe('fromParquet streams with bounded reading', () => {
  it('reads no further than it must: after take(3), only the first of 20 row groups was read', async () => {
    const path = await duck('many-groups.parquet', `SELECT (i % 1000)::INTEGER AS feature, (i // 10)::INTEGER AS sample,
      hash(i)::DOUBLE AS value FROM range(400000) t(i) ORDER BY i`, 'ROW_GROUP_SIZE 20480');
    const source = fromParquet(path, { layout: 'long', chunkSize: 10, batchSize: 1000 });
    await source.prepare();
    const spy = await trackHandles();
    try {
      const got = await lastValueFrom(source.chunks().pipe(take(3), toArray()));
      expect(got.map((c) => c.colStart)).toEqual([0, 10, 20]);
      const bytes = spy.reads.mock.calls.reduce((sum, c) => sum + ((c[2] as number | undefined) ?? (c[0] as Uint8Array).length), 0);
      expect(bytes).toBeLessThan(statSync(path).size / 5);
    } finally {
      spy.restore();
    }
  });

  it('closes the file handle at once when the consumer unsubscribes mid-file', async () => {
    const spy = await trackHandles();
    try {
      const calls: number[] = [];
      await new Promise<void>((resolve) => {
        let seen = 0;
        const sub: Subscription = fromParquet(snappy, { layout: 'long', features: 183, chunkSize: 10, batchSize: 500 }).chunks().subscribe(() => {
          if (++seen < 2) return;
          const reading = spy.closes[spy.closes.length - 1]!;
          calls.push(reading.mock.calls.length);
          sub.unsubscribe();
          calls.push(reading.mock.calls.length);
          resolve();
        });
      });
      expect(calls).toEqual([0, 1]);
      for (const close of spy.closes) expect(close).toHaveBeenCalled();
    } finally {
      spy.restore();
    }
  });
});

describe('fromParquet turns bad input into typed errors naming file, row group, row and column', () => {
  const rows = 20000;
  const base = (edit: string) => `SELECT (i % 5)::INTEGER AS feature, (${edit.includes('sample') ? edit : 'i // 5'})::INTEGER AS sample,
    (${edit.includes('sample') ? '1.0' : edit})::DOUBLE AS value FROM range(${rows}) t(i) ORDER BY i`;
  const rowGroupOf = async (path: string, row: number) => {
    const footer = await parquetMetadataAsync(await asyncBufferFromFile(path));
    let start = 0;
    for (let g = 0; ; g++) {
      const n = Number(footer.row_groups[g]!.num_rows);
      if (row < start + n) return g;
      start += n;
    }
  };
  const cases: [string, string, string, string][] = [
    ['a negative value', "CASE WHEN i = 9001 THEN -2 ELSE 1 END", 'INVALID_VALUE', 'value'],
    ['a NaN value', "CASE WHEN i = 9001 THEN 'NaN'::DOUBLE ELSE 1 END", 'INVALID_VALUE', 'value'],
    ['an infinite value', "CASE WHEN i = 9001 THEN 'inf'::DOUBLE ELSE 1 END", 'INVALID_VALUE', 'value'],
    ['a sample that goes backwards', 'CASE WHEN i = 9001 THEN 0 ELSE i // 5 END /* sample */', 'UNSORTED_INPUT', 'sample'],
  ];
  for (const [what, edit, code, column] of cases) {
    it(`${what} → ${code}`, async () => {
      const path = await duck(`bad-${code}-${column}-${what.length}.parquet`, base(edit), 'ROW_GROUP_SIZE 2048');
      const err = await errorOf(fromParquet(path, { layout: 'long', batchSize: 700 }).chunks());
      expect(err.code).toBe(code);
      expect(err.location).toMatchObject({ source: path, batch: await rowGroupOf(path, 9001), row: 9001, column });
      expect(err.message).toMatch(/row group \d+/);
    });
  }

  it('a feature index out of range → INDEX_OUT_OF_RANGE', async () => {
    const path = await duck('bad-feature.parquet', `SELECT CASE WHEN i = 15000 THEN 7 ELSE i % 5 END::INTEGER AS feature,
      (i // 5)::INTEGER AS sample, 1.0 AS value FROM range(${rows}) t(i) ORDER BY i`, 'ROW_GROUP_SIZE 2048');
    const err = await errorOf(fromParquet(path, { layout: 'long', features: 5 }).chunks());
    expect(err.code).toBe('INDEX_OUT_OF_RANGE');
    expect(err.location).toMatchObject({ source: path, batch: await rowGroupOf(path, 15000), row: 15000, column: 'feature', feature: 7 });
  });

  it('a missing column or a column of the wrong type → SCHEMA_MISMATCH', async () => {
    const path = await duck('bad-schema.parquet', `SELECT i::INTEGER AS feature, i::INTEGER AS sample, i::VARCHAR AS value FROM range(10) t(i)`);
    const missing = await errorOf(fromParquet(path, { layout: 'long', value: 'count', features: 10 }).chunks());
    expect([missing.code, missing.location?.source, missing.location?.column]).toEqual(['SCHEMA_MISMATCH', path, 'count']);
    const wrong = await errorOf(fromParquet(path, { layout: 'long', features: 10 }).chunks());
    expect([wrong.code, wrong.location?.source, wrong.location?.column, wrong.location?.batch]).toEqual(['SCHEMA_MISMATCH', path, 'value', 0]);
  });

  it('a truncated file, a corrupt one, or one that is not Parquet → MALFORMED_FILE', async () => {
    const bytes = readFileSync(snappy);
    const truncated = join(dir, 'truncated.parquet');
    writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
    const corrupt = join(dir, 'corrupt.parquet');
    const broken = Buffer.from(bytes);
    for (let p = 4; p < 3000; p++) broken[p] = (p * 7919) & 0xff;
    writeFileSync(corrupt, broken);
    const text = join(dir, 'text.parquet');
    writeFileSync(text, 'feature,sample,value\n1,2,3\n');
    for (const path of [truncated, corrupt, text]) {
      const err = await errorOf(fromParquet(path, { layout: 'long', features: 183 }).chunks());
      expect([err.code, err.location?.source]).toEqual(['MALFORMED_FILE', path]);
    }
  });

  it('an empty file, a file without rows, an empty directory → EMPTY_INPUT; a missing path → IO', async () => {
    const empty = join(dir, 'empty.parquet');
    writeFileSync(empty, '');
    const none = await duck('none.parquet', 'SELECT * FROM birds WHERE false');
    const emptyDir = join(dir, 'empty-dir');
    mkdirSync(emptyDir);
    for (const path of [empty, none, emptyDir]) {
      expect((await errorOf(fromParquet(path, { layout: 'long', features: 3 }).chunks())).code).toBe('EMPTY_INPUT');
    }
    expect((await errorOf(fromParquet(none, { layout: 'long' }).chunks())).code).toBe('EMPTY_INPUT');
    expect((await errorOf(fromParquet(join(dir, 'nope.parquet'), { layout: 'long' }).chunks())).code).toBe('IO');
  });

  it('rejects bad options synchronously', () => {
    expect(() => fromParquet([], { layout: 'long' })).toThrow(/Invalid option `input`/);
    expect(() => fromParquet('x.parquet', { layout: 'long', batchSize: -1 })).toThrow(/batchSize/);
    expect(() => fromParquet('x.parquet', { layout: 'list', entries: '' })).toThrow(/entries/);
  });
});
