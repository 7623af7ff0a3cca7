/**
 * Missing entries given in Parquet and Arrow IPC tables (issue #15): with `missing: 'nan'` a NaN or NULL value is a
 * missing entry, the same chunks (to the bit) and the same fit as the .mtx with `nan` at those places, for any chunk
 * size, on the decoder's worker and on the main thread; without it a NaN is INVALID_VALUE naming the file, row group /
 * batch, row and column, and a NULL value stays no entry. Files written by DuckDB (@duckdb/node-api) and apache-arrow.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { Float64, Int32, List, Field, makeTable, RecordBatch, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromArrow } from '../src/source/from-arrow.js';
import { loadMtx } from '../src/source/from-mtx.js';
import { fromParquet } from '../src/source/from-parquet.js';
import { seededSparse } from './helpers/seeded-sparse.js';
import { collect as collectChecked, errorOf, tmpDir } from './fixtures/sources.js';
import { nmflow } from './helpers/cli.js';

const collect = (source: Parameters<typeof collectChecked>[0]): Promise<CscChunk[]> => collectChecked(source, true);
const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const same = (a: Float64Array, b: Float64Array): boolean => bytes(a).equals(bytes(b));

/** The entries of a small matrix, a few of them missing: NaN (written as NaN) or NULL (written as NULL). */
interface Entry { i: number; j: number; v: number | 'nan' | 'null' }
const M = 7, N = 300;
let dir: string;
let db: DuckDBInstance;
let sql: DuckDBConnection;
let entries: Entry[];
let mtxPath: string;

beforeAll(async () => {
  dir = tmpDir('missing-tables');
  const A = seededSparse(M, N, 0.5, 11);
  entries = [];
  for (let j = 0; j < N; j++) {
    if (A.colPtr[j] === A.colPtr[j + 1]) entries.push({ i: j % M, j, v: 1.25 }); // every sample has a row in the list and wide tables
    for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) {
      const q = entries.length;
      entries.push({ i: A.rowIdx[p]!, j, v: q % 17 === 3 ? 'nan' : q % 23 === 5 ? 'null' : A.values[p]! });
    }
  }
  // The .mtx with `nan` at both kinds of missing entry (the reference).
  mtxPath = join(dir, 'a.mtx');
  writeFileSync(mtxPath, `%%MatrixMarket matrix coordinate real general\n${M} ${N} ${entries.length}\n`
    + entries.map((e) => `${e.i + 1} ${e.j + 1} ${typeof e.v === 'number' ? e.v : 'nan'}`).join('\n') + '\n');
  writeFileSync(join(dir, 'long.csv'), 'feature,sample,value\n' + entries.map((e) => `${e.i},${e.j},${e.v === 'null' ? '' : e.v}`).join('\n') + '\n');
  db = await DuckDBInstance.create(':memory:', { threads: '1' });
  sql = await db.connect();
  await sql.run(`CREATE TABLE long AS SELECT feature::INTEGER AS feature, sample::INTEGER AS sample,
    CASE WHEN value IS NULL OR value = '' THEN NULL ELSE CAST(value AS DOUBLE) END AS value
    FROM read_csv('${join(dir, 'long.csv')}', header = true, all_varchar = true) ORDER BY sample, feature`);
});
afterAll(() => {
  sql?.closeSync();
  db?.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

async function duck(name: string, query: string, rowGroup = 100): Promise<string> {
  const path = join(dir, name);
  await sql.run(`COPY (${query}) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE ${rowGroup})`);
  return path;
}

function expectSameChunks(got: readonly CscChunk[], want: readonly CscChunk[]): void {
  expect(got.map((c) => [c.colStart, c.n, c.m])).toEqual(want.map((c) => [c.colStart, c.n, c.m]));
  for (let c = 0; c < want.length; c++) {
    const g = got[c]!, w = want[c]!, nnz = w.colPtr[w.n]!;
    expect(bytes(g.colPtr).equals(bytes(w.colPtr))).toBe(true);
    expect(bytes(g.rowIdx.subarray(0, nnz)).equals(bytes(w.rowIdx.subarray(0, nnz)))).toBe(true);
    expect(same(g.values.subarray(0, nnz), w.values.subarray(0, nnz))).toBe(true);
  }
}

/** An Arrow IPC file of the long table in record batches of `rows` rows (apache-arrow's writer). */
function arrowLong(name: string, rows: number): string {
  const batches: RecordBatch[] = [];
  for (let r0 = 0; r0 < entries.length; r0 += rows) {
    const part = entries.slice(r0, r0 + rows);
    const table = makeTable({
      feature: Int32Array.from(part.map((e) => e.i)), sample: Int32Array.from(part.map((e) => e.j)),
    });
    const value = vectorFromArray(part.map((e) => (e.v === 'null' ? null : e.v === 'nan' ? Number.NaN : e.v)), new Float64());
    batches.push(...new Table({ feature: table.getChild('feature')!, sample: table.getChild('sample')!, value }).batches);
  }
  const path = join(dir, name);
  writeFileSync(path, tableToIPC(new Table(batches), 'file'));
  return path;
}

describe("NaN and NULL values in tables with missing: 'nan' (issue #15)", () => {
  it('long, wide and list Parquet (DuckDB, several row groups) give the chunks of the .mtx with nan, for chunk sizes 1, 37, 4096, in the worker and on the main thread', async () => {
    const wide = await duck('wide.parquet', `SELECT sample, ${Array.from({ length: M }, (_, i) =>
      `CASE WHEN bool_or(feature = ${i}) THEN coalesce(max(value) FILTER (WHERE feature = ${i}), CASE WHEN bool_or(feature = ${i} AND value IS NULL) THEN NULL END, 'NaN'::DOUBLE) ELSE 0 END AS f${i}`).join(', ')}
      FROM long GROUP BY sample ORDER BY sample`, 64);
    const list = await duck('list.parquet', 'SELECT sample, list(feature ORDER BY feature) AS indices, list(value ORDER BY feature) AS "values" FROM long GROUP BY sample ORDER BY sample', 50);
    const long = await duck('long.parquet', 'SELECT * FROM long', 128);
    for (const chunkSize of [1, 37, 4096]) {
      const want = await collect(await loadMtx(mtxPath, { missing: 'nan', chunkSize }));
      for (const readAhead of [undefined, 0]) {
        const opts = { chunkSize, missing: 'nan' as const, ...(readAhead === undefined ? {} : { readAhead }) };
        expectSameChunks(await collect(fromParquet(long, { layout: 'long', features: M, ...opts })), want);
        expectSameChunks(await collect(fromParquet(list, { layout: 'list', features: M, ...opts })), want);
        expectSameChunks(await collect(fromParquet(wide, { layout: 'wide', features: Array.from({ length: M }, (_, i) => `f${i}`), ...opts })), want);
      }
    }
  });

  it('an Arrow IPC file (apache-arrow writer, record batches of 61 rows) gives the chunks of the .mtx, and the fit its bytes', async () => {
    const path = arrowLong('long.arrow', 61);
    for (const chunkSize of [1, 50, 4096]) {
      expectSameChunks(await collect(fromArrow(path, { layout: 'long', features: M, chunkSize, missing: 'nan' })),
        await collect(await loadMtx(mtxPath, { missing: 'nan', chunkSize })));
    }
    // list layout from Arrow: NULL list elements are missing entries too
    const listTable = new Table({
      indices: vectorFromArray(Array.from({ length: N }, (_, j) => entries.filter((e) => e.j === j).map((e) => e.i)), new List(new Field('item', new Int32(), true))),
      values: vectorFromArray(Array.from({ length: N }, (_, j) => entries.filter((e) => e.j === j).map((e) => (e.v === 'null' ? null : e.v === 'nan' ? Number.NaN : e.v))),
        new List(new Field('item', new Float64(), true))),
    });
    const listPath = join(dir, 'list.arrow');
    writeFileSync(listPath, tableToIPC(listTable, 'file'));
    expectSameChunks(await collect(fromArrow(listPath, { layout: 'list', features: M, chunkSize: 64, missing: 'nan' })),
      await collect(await loadMtx(mtxPath, { missing: 'nan', chunkSize: 64 })));
    const options = { rank: 3, missing: 'nan' as const, maxIterations: 4, tol: 0, seed: 5 };
    const a = await fitModel(fromArrow(path, { layout: 'long', features: M, chunkSize: 40, missing: 'nan' }), options);
    const b = await fitModel(await loadMtx(mtxPath, { missing: 'nan' }), options);
    expect(same(a.W, b.W) && same(a.d, b.d)).toBe(true);
    expect(a.trainLoss).toBe(b.trainLoss);
  });

  it("without missing: 'nan' a NaN is INVALID_VALUE naming file, row group or batch, row and column (worker, main thread, Arrow); a NULL value is no entry", async () => {
    const long = await duck('long-err.parquet', 'SELECT * FROM long', 128);
    const firstNan = entries.findIndex((e) => e.v === 'nan');
    for (const readAhead of [undefined, 0]) {
      const error = await errorOf(fromParquet(long, { layout: 'long', features: M, ...(readAhead === undefined ? {} : { readAhead }) }).chunks());
      expect(error).toMatchObject({ code: 'INVALID_VALUE', location: { source: long, batch: Math.floor(firstNan / 128), row: firstNan, column: 'value' } });
      expect(error.message).toMatch(/missing: 'nan'/);
    }
    const arrow = arrowLong('long-err.arrow', 61);
    expect(await errorOf(fromArrow(arrow, { layout: 'long', features: M }).chunks()))
      .toMatchObject({ code: 'INVALID_VALUE', location: { source: arrow, batch: Math.floor(firstNan / 61), row: firstNan, column: 'value' } });
    // NULL values alone (NaN rows left out): read as no entry, as before
    const nulls = await duck('nulls.parquet', "SELECT * FROM long WHERE value IS NULL OR NOT isnan(value)", 128);
    const chunks = await collect(fromParquet(nulls, { layout: 'long', features: M }));
    const nnz = chunks.reduce((s, c) => s + c.colPtr[c.n]!, 0);
    expect(nnz).toBe(entries.filter((e) => typeof e.v === 'number').length);
  });

  it("a source read with missing: 'nan' fitted without it is INVALID_VALUE (the worker's check does not stand for the fit's); the CLI reads --missing nan", async () => {
    const long = await duck('long-fit.parquet', 'SELECT * FROM long', 128);
    await expect(fitModel(fromParquet(long, { layout: 'long', features: M, missing: 'nan' }), { rank: 2, maxIterations: 2 }))
      .rejects.toMatchObject({ code: 'INVALID_VALUE' });
    const bad = await nmflow('fit', long, '--rank', '2', '--json', '--max-iterations', '2');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stderr.trim()).error).toMatchObject({ code: 'INVALID_VALUE', location: { column: 'value' } });
    const good = await nmflow('fit', long, '--rank', '3', '--missing', 'nan', '--max-iterations', '4', '--tol', '0', '--seed', '5', '--json');
    expect(good.code).toBe(0);
    const b = await fitModel(await loadMtx(mtxPath, { missing: 'nan' }), { rank: 3, missing: 'nan', maxIterations: 4, tol: 0, seed: 5 });
    expect(JSON.parse(good.stdout.trim().split('\n').at(-1)!).trainLoss).toBe(b.trainLoss);
  });
});
