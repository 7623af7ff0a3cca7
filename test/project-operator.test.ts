// The ETL stage: project(model, options) over record batches in every layout, and `nmflow project`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Field, Float64, Int32, List, RecordBatch, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { Observable, Subject, from, lastValueFrom, take, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeCscChunk } from '../src/chunk/csc-chunk.js';
import { DataError, OptionError } from '../src/errors.js';
import { writeModel } from '../src/io/model-file.js';
import { fitModel } from '../src/pipeline/fit.js';
import { project, type ProjectOptions } from '../src/pipeline/project.js';
import { fromCsc, type CscMatrix } from '../src/source/from-csc.js';
import type { Model } from '../src/snapshot/snapshot.js';
import { projectChunk } from '../src/model/project.js';
import { makeProjectPool } from '../src/parallel/project-pool.js';
import { loadSharedMtx, SHARED_DATA } from './helpers/load-mtx-sync.js';
import { nmflow } from './helpers/cli.js';

const A = loadSharedMtx('pbmc_small');
const names = Array.from({ length: A.m }, (_, i) => `gene${i}`);
let model: Model;
let H: Float64Array;
beforeAll(async () => {
  model = await fitModel(fromCsc(A), { rank: 3, seed: 1, maxIterations: 10, solver: 'exact' });
  H = projectChunk(model, makeCscChunk({ ...A, colStart: 0 }));
});

const dense = (j: number): Float64Array => {
  const a = new Float64Array(A.m);
  for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) a[A.rowIdx[p]!] = A.values[p]!;
  return a;
};
const cuts = (n: number, size: number): [number, number][] => Array.from({ length: Math.ceil(n / size) }, (_, b) => [b * size, Math.min(n, (b + 1) * size)]);

/** One row per sample: id, then one float64 column per feature (named `columns[i]`). */
function wideBatches(size: number, columns: readonly string[], order = columns.map((_, i) => i)): RecordBatch[] {
  return cuts(A.n, size).map(([j0, j1]) => {
    const cols: Record<string, ReturnType<typeof makeVector>> = { id: vectorFromArray(Array.from({ length: j1 - j0 }, (_, r) => `cell${j0 + r}`), new Utf8()) };
    for (const i of order) cols[columns[i]!] = makeVector(Float64Array.from({ length: j1 - j0 }, (_, r) => dense(j0 + r)[i]!));
    return new Table(cols).batches[0]!;
  });
}

function listBatches(size: number): RecordBatch[] {
  const list = (t: Int32 | Float64) => new List(new Field('item', t, false));
  return cuts(A.n, size).map(([j0, j1]) => {
    const span = Array.from({ length: j1 - j0 }, (_, r) => [A.colPtr[j0 + r]!, A.colPtr[j0 + r + 1]!] as const);
    return new Table({
      id: makeVector(Int32Array.from(span, (_, r) => j0 + r)),
      indices: vectorFromArray(span.map(([a, b]) => Array.from(A.rowIdx.subarray(a, b))), list(new Int32())),
      values: vectorFromArray(span.map(([a, b]) => Array.from(A.values.subarray(a, b))), list(new Float64())),
    }).batches[0]!;
  });
}

/** One row per nonzero, cut every `size` rows; `ts` = 1000·sample + position within the sample. */
function longBatches(size: number, sampleIds: 'int' | 'string', featureIds: 'int' | 'string' = 'int'): RecordBatch[] {
  const nnz = A.colPtr[A.n]!;
  const sample = new Int32Array(nnz);
  const ts = new Float64Array(nnz);
  for (let j = 0; j < A.n; j++) for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) { sample[p] = j; ts[p] = 1000 * j + p - A.colPtr[j]!; }
  return cuts(nnz, size).map(([a, b]) => new Table({
    feature: featureIds === 'int' ? makeVector(A.rowIdx.slice(a, b)) : vectorFromArray(Array.from(A.rowIdx.subarray(a, b), (i) => names[i]!), new Utf8()),
    sample: sampleIds === 'int' ? makeVector(sample.slice(a, b)) : vectorFromArray(Array.from(sample.subarray(a, b), (j) => `cell${j}`), new Utf8()),
    value: makeVector(A.values.slice(a, b)),
    ts: makeVector(ts.slice(a, b)),
  }).batches[0]!);
}

const run = (batches: RecordBatch[], options: ProjectOptions, m: Model = model): Promise<RecordBatch[]> =>
  lastValueFrom(from(batches).pipe(project(m, options), toArray()));

/** Concatenated column of the output batches. */
const columnOf = (out: RecordBatch[], name: string): unknown[] => out.flatMap((b) => Array.from({ length: b.numRows }, (_, r) => b.getChild(name)!.get(r)));

function expectCodes(out: RecordBatch[], samples: readonly number[], codes = H, digits = 12): void {
  for (let a = 0; a < 3; a++) {
    const got = columnOf(out, `factor_${a}`) as number[];
    expect(got).toHaveLength(samples.length);
    samples.forEach((j, r) => expect(got[r]!).toBeCloseTo(codes[a * A.n + j]!, digits));
  }
}
const allSamples = Array.from({ length: A.n }, (_, j) => j);
const nonEmpty = allSamples.filter((j) => A.colPtr[j + 1]! > A.colPtr[j]!);

describe('project (operator)', () => {
  it('wide: one row per input row, the codes of projectChunk, columns matched by name in any order; every column kept', async () => {
    const shuffled = names.map((_, i) => (i * 37) % A.m);
    const out = await run(wideBatches(13, names, shuffled), { layout: 'wide', featureNames: names });
    expect(out).toHaveLength(Math.ceil(A.n / 13));
    expect(out[0]!.schema.fields.map((f) => f.name)).toEqual(['id', ...shuffled.map((i) => names[i]), 'factor_0', 'factor_1', 'factor_2']);
    expect(columnOf(out, 'id')).toEqual(allSamples.map((j) => `cell${j}`));
    expectCodes(out, allSamples);
  });

  it('wide: a table whose columns carry none of the model names is matched by position; replaceFeatures drops them', async () => {
    const out = await run(wideBatches(32, names.map((_, i) => `f${i}`)), { layout: 'wide', passThrough: ['id'], replaceFeatures: true });
    expect(out[0]!.schema.fields.map((f) => f.name)).toEqual(['id', 'factor_0', 'factor_1', 'factor_2']);
    expectCodes(out, allSamples, H, 15);
    const dropped = await run(wideBatches(32, names.map((_, i) => `f${i}`)), { layout: 'wide', replaceFeatures: true, features: names.map((_, i) => `f${i}`) });
    expect(dropped[0]!.schema.fields.map((f) => f.name)).toEqual(['id', 'factor_0', 'factor_1', 'factor_2']);
  });

  it('list: one row per input row with the codes of projectChunk; the factors are appended to every input column', async () => {
    const out = await run(listBatches(9), { layout: 'list' });
    expect(out[0]!.schema.fields.map((f) => f.name)).toEqual(['id', 'indices', 'values', 'factor_0', 'factor_1', 'factor_2']);
    expect(columnOf(out, 'id')).toEqual(allSamples);
    expectCodes(out, allSamples, H, 15);
  });

  it('long: one row per sample, in order, with the codes of projectChunk, whatever the batch size (samples straddle batches)', async () => {
    for (const size of [1, 7, 250, 100000]) {
      for (const ids of ['int', 'string'] as const) {
        const out = await run(longBatches(size, ids), { layout: 'long' });
        expect(columnOf(out, 'sample')).toEqual(nonEmpty.map((j) => (ids === 'int' ? j : `cell${j}`)));
        expect(out[0]!.schema.fields.map((f) => f.name)).toEqual(['sample', 'factor_0', 'factor_1', 'factor_2']);
        expectCodes(out, nonEmpty, H, 15);
      }
    }
  });

  it('long: a sample is emitted once complete — carried over the batch boundary — and the last one on completion', () => {
    const batch = (samples: number[]): RecordBatch => new Table({
      feature: makeVector(Int32Array.from(samples, (_, r) => r)), sample: makeVector(Int32Array.from(samples)),
      value: makeVector(Float64Array.from(samples, () => 1)),
    }).batches[0]!;
    const input = new Subject<RecordBatch>();
    const seen: number[][] = [];
    let done = false;
    input.pipe(project(model, { layout: 'long' })).subscribe({ next: (b) => seen.push(columnOf([b], 'sample') as number[]), complete: () => { done = true; } });
    input.next(batch([0, 0, 1]));
    expect(seen).toEqual([[0]]);
    input.next(batch([1, 1]));
    expect(seen).toEqual([[0]]);
    input.next(batch([1, 2, 5, 5]));
    expect(seen).toEqual([[0], [1, 2]]);
    input.complete();
    expect(seen).toEqual([[0], [1, 2], [5]]);
    expect(done).toBe(true);
  });

  it("long: pass-through columns come from each sample's first row", async () => {
    const out = await run(longBatches(11, 'int'), { layout: 'long', passThrough: ['ts'] });
    expect(out[0]!.schema.fields.map((f) => f.name)).toEqual(['sample', 'ts', 'factor_0', 'factor_1', 'factor_2']);
    expect(columnOf(out, 'ts')).toEqual(nonEmpty.map((j) => 1000 * j));
  });

  it('string feature ids map through the model names; an unknown one is a typed error, or ignored by option', async () => {
    const named = { ...model, featureNames: names };
    expectCodes(await run(longBatches(300, 'int', 'string'), { layout: 'long' }, named), nonEmpty, H, 15);
    const fewer = { ...named, featureNames: names.map((f, i) => (i === 5 ? 'other' : f)) };
    const error = await run(longBatches(300, 'int', 'string'), { layout: 'long' }, fewer).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).code).toBe('INDEX_OUT_OF_RANGE');
    expect((error as DataError).location).toMatchObject({ column: 'feature' });
    expect((error as DataError).message).toMatch(/"gene5".*record batch \d+/);
    const ignored = await run(longBatches(300, 'int', 'string'), { layout: 'long', unknownFeatures: 'ignore' }, fewer);
    const without5 = fromCsc({ ...A, values: A.values.map((v, p) => (A.rowIdx[p] === 5 ? 0 : v)) }).matrix;
    expectCodes(ignored, nonEmpty, projectChunk(model, makeCscChunk({ ...without5, colStart: 0 })), 12);
  });

  it('wide and list: an unknown feature (column or index) is a typed error, or ignored by option', async () => {
    const withExtra = wideBatches(40, names).map((b) => new Table({ ...Object.fromEntries(b.schema.fields.map((f) => [f.name, b.getChild(f.name)!])),
      extra: makeVector(new Float64Array(b.numRows).fill(7)) }).batches[0]!);
    const options = { layout: 'wide', featureNames: names, passThrough: ['id'] } as const;
    await expect(run(withExtra, options)).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH', location: { column: 'extra', batch: 0 } });
    expectCodes(await run(withExtra, { ...options, unknownFeatures: 'ignore' }), allSamples, H, 12);
    const list = (index: number): RecordBatch => new Table({
      indices: vectorFromArray([[0, index]], new List(new Field('item', new Int32(), false))),
      values: vectorFromArray([[2, 5]], new List(new Field('item', new Float64(), false))),
    }).batches[0]!;
    await expect(run([list(1), list(300)], { layout: 'list' })).rejects.toMatchObject({ code: 'INDEX_OUT_OF_RANGE', location: { batch: 1, row: 1 } });
    const [ignored] = await run([list(300)], { layout: 'list', unknownFeatures: 'ignore' });
    const alone = projectChunk(model, makeCscChunk({ m: A.m, colStart: 0, colPtr: Int32Array.of(0, 1), rowIdx: Int32Array.of(0), values: Float64Array.of(2) }));
    for (let a = 0; a < 3; a++) expect(ignored!.getChild(`factor_${a}`)!.get(0)).toBe(alone[a]);
  });

  it('l1 models: the codes are those of projectChunk with the same λ', async () => {
    const l1 = await fitModel(fromCsc(A), { rank: 3, loss: 'l1', lambda: 0.5, seed: 3, maxIterations: 5 });
    const expected = projectChunk(l1, makeCscChunk({ ...A, colStart: 0 }), { lambda: 0.5 });
    expectCodes(await run(listBatches(20), { layout: 'list', lambda: 0.5 }, l1), allSamples, expected, 15);
  });

  it('a bad batch errors with a DataError naming the batch, row and column, and nothing follows it', () => {
    const [good, bad, after] = longBatches(400, 'int');
    const values = Float64Array.from(bad!.getChild('value')!.toArray() as Float64Array);
    values[3] = -1;
    const broken = new Table({ feature: bad!.getChild('feature')!, sample: bad!.getChild('sample')!, value: makeVector(values) }).batches[0]!;
    const input = new Subject<RecordBatch>();
    const seen: RecordBatch[] = [];
    let error: unknown;
    input.pipe(project(model, { layout: 'long', name: 'cells' })).subscribe({ next: (b) => seen.push(b), error: (e: unknown) => { error = e; } });
    input.next(good!);
    const before = seen.length;
    input.next(broken);
    input.next(after!);
    input.complete();
    expect(seen).toHaveLength(before);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).code).toBe('INVALID_VALUE');
    expect((error as DataError).location).toMatchObject({ source: 'cells', batch: 1, row: 403, column: 'value' });
  });

  it('integer sample ids that go down are UNSORTED_INPUT', async () => {
    const batch = new Table({ feature: makeVector(Int32Array.of(0, 1, 2)), sample: makeVector(Int32Array.of(4, 5, 3)), value: makeVector(Float64Array.of(1, 1, 1)) }).batches[0]!;
    await expect(run([batch], { layout: 'long' })).rejects.toMatchObject({ code: 'UNSORTED_INPUT', location: { row: 2 } });
  });

  it('unsubscribing stops the upstream; two subscriptions have their own state', async () => {
    let closed = 0;
    let sent = 0;
    const upstream = new Observable<RecordBatch>((subscriber) => {
      for (const b of listBatches(10)) { if (subscriber.closed) break; sent++; subscriber.next(b); }
      subscriber.complete();
      return () => { closed++; };
    });
    const first = await lastValueFrom(upstream.pipe(project(model, { layout: 'list' }), take(2), toArray()));
    expect(first).toHaveLength(2);
    expect(closed).toBe(1);
    expect(sent).toBe(2);
    const long$ = from(longBatches(333, 'int')).pipe(project(model, { layout: 'long' }));
    const [a, b] = await Promise.all([lastValueFrom(long$.pipe(toArray())), lastValueFrom(long$.pipe(toArray()))]);
    expect(columnOf(a, 'sample')).toEqual(columnOf(b, 'sample'));
  });

  it('bad options throw synchronously', () => {
    expect(() => project(model, { layout: 'long', l1: 1 })).toThrow(OptionError);
    expect(() => project(model, { layout: 'wide', unknownFeatures: 'skip' as never })).toThrow(/unknownFeatures/);
    expect(() => project(model, { layout: 'list', passThrough: 'id' as never })).toThrow(/passThrough/);
    expect(() => project(model, { layout: 'long', featureNames: ['a'] })).toThrow(/featureNames/);
    expect(() => project(model, { layout: 'sparse' as never })).toThrow(/layout/);
  });
});

describe('project with worker threads', () => {
  const chunkOf = (j0: number, j1: number) => makeCscChunk({
    m: A.m, colStart: 0, colPtr: A.colPtr.slice(j0, j1 + 1).map((p) => p - A.colPtr[j0]!),
    rowIdx: A.rowIdx.slice(A.colPtr[j0]!, A.colPtr[j1]!), values: A.values.slice(A.colPtr[j0]!, A.colPtr[j1]!),
  });

  it('the pool gives the codes of projectChunk bit for bit, for 2 and 3 threads, any chunk (l2 and l1 models)', async () => {
    const l1Model = await fitModel(fromCsc(A), { rank: 3, seed: 1, loss: 'l1', maxIterations: 3 });
    for (const m of [model, l1Model]) {
      for (const threads of [2, 3]) {
        const pool = makeProjectPool(m, { lambda: 0.5 }, threads);
        try {
          await pool.ready;
          // a whole chunk (grows the shared buffers), chunks smaller than the thread count, an empty one
          for (const [j0, j1] of [[0, A.n], [5, 6], [7, 9], [10, 10], [0, 40]] as const) {
            const chunk = chunkOf(j0, j1);
            expect(Array.from(pool.project(chunk))).toEqual(Array.from(projectChunk(m, chunk, { lambda: 0.5 })));
          }
        } finally {
          pool.close();
        }
      }
    }
  });

  it('the operator gives the same codes with threads = 1, 2, 3 and by default (batches before and after the workers are up)', async () => {
    // Batches come every 20 ms after a pause, so that the later ones meet running workers.
    const slow = (batches: RecordBatch[]) => new Observable<RecordBatch>((subscriber) => {
      let i = 0;
      const timer = setInterval(() => { if (i < batches.length) subscriber.next(batches[i++]!); else { clearInterval(timer); subscriber.complete(); } }, 20);
      return () => clearInterval(timer);
    });
    const bytesOf = (out: RecordBatch[]): number[][] => [0, 1, 2].map((a) => columnOf(out, `factor_${a}`) as number[]);
    const batches = listBatches(4);
    const one = bytesOf(await run(batches, { layout: 'list', threads: 1 }));
    expect(one[0]).toHaveLength(A.n);
    for (const threads of [2, 3, undefined]) {
      const out = await lastValueFrom(slow(batches).pipe(project(model, { layout: 'list', ...(threads ? { threads } : {}) }), toArray()));
      expect(bytesOf(out)).toEqual(one);
    }
  });

  it('a failing worker is a typed error (pool and operator)', async () => {
    process.env.NMFLOW_WORKER_FAULT = '2'; // the projection command
    const pool = makeProjectPool(model, {}, 2);
    try {
      await pool.ready;
      expect(() => pool.project(chunkOf(0, 40))).toThrow(/worker thread failed.*injected fault/s);
      // An endless source: the batches before the operator's workers are up are solved here; the first after fails.
      const batch = listBatches(40)[0]!;
      const endless = new Observable<RecordBatch>((subscriber) => {
        const timer = setInterval(() => subscriber.next(batch), 50);
        return () => clearInterval(timer);
      });
      const error = await lastValueFrom(endless.pipe(project(model, { layout: 'list', threads: 2 }))).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'NUMERICAL', message: expect.stringMatching(/worker thread failed/) });
    } finally {
      pool.close();
      delete process.env.NMFLOW_WORKER_FAULT;
    }
  });

  it('no worker keeps the process alive after completion, error or unsubscribe', () => {
    const script = `
      import { from, Observable, take, lastValueFrom, toArray } from 'rxjs';
      import { tableFromArrays } from 'apache-arrow';
      import { project } from './src/pipeline/project.ts';
      const model = { loss: 'l2', rank: 2, features: 3, W: Float64Array.of(1, 0, 0, 1, 1, 1), d: Float64Array.of(1, 1) };
      const batch = tableFromArrays({ a: Float64Array.of(1, 2, 3, 4), b: Float64Array.of(0, 1, 0, 1), c: Float64Array.of(2, 2, 2, 2) }).batches[0];
      await lastValueFrom(from([batch, batch]).pipe(project(model, { layout: 'wide', threads: 2 }), toArray()));
      const endless = new Observable((s) => { const t = setInterval(() => s.next(batch), 5); return () => clearInterval(t); });
      await lastValueFrom(endless.pipe(project(model, { layout: 'wide', threads: 2 }), take(3), toArray()));
      const bad = tableFromArrays({ a: Float64Array.of(-1), b: Float64Array.of(0), c: Float64Array.of(0) }).batches[0];
      await lastValueFrom(from([batch, bad]).pipe(project(model, { layout: 'wide', threads: 2 }))).catch(() => undefined);
    `;
    const result = spawnSync('node', ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url).pathname, timeout: 30_000 });
    expect(result.stderr.toString()).toBe('');
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(0);
  });
});


describe('nmflow project (CLI)', () => {
  const FIXTURES = new URL('../../shared/fixtures/', import.meta.url).pathname;
  const birds: CscMatrix = loadSharedMtx('hawaiibirds');

  it('projects the long Parquet fixture, the wide fixture and the .mtx to the codes of projectChunk, with and without --threads (read back by DuckDB)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-project-'));
    const fitted = await fitModel(fromCsc(birds), { rank: 4, seed: 7, maxIterations: 15 });
    await writeModel(join(dir, 'model.arrow'), fitted);
    const expected = projectChunk(fitted, makeCscChunk({ ...birds, colStart: 0 }));
    const runs = await Promise.all([
      nmflow('project', join(dir, 'model.arrow'), `${FIXTURES}hawaiibirds-long-snappy.parquet`, '--out', join(dir, 'long.parquet'), '--json', '--threads', '3'),
      nmflow('project', join(dir, 'model.arrow'), `${FIXTURES}hawaiibirds-wide.parquet`, '--layout', 'wide', '--replace-features', '--out', join(dir, 'wide.parquet')),
      nmflow('project', join(dir, 'model.arrow'), `${SHARED_DATA}hawaiibirds.mtx`, '--out', join(dir, 'mtx.parquet'), '--json', '--threads', '2'),
    ]);
    runs.forEach((r) => expect(r.stderr).toBe(''));
    expect(JSON.parse(runs[0]!.stdout)).toMatchObject({ samples: 1183, out: join(dir, 'long.parquet') });
    expect(runs[1]!.stdout).toMatch(/1183 samples, rank 4/);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    for (const [file, order] of [['long', 'sample'], ['wide', 'file_row_number'], ['mtx', 'sample']] as const) {
      const sql = `SELECT * FROM read_parquet('${join(dir, `${file}.parquet`)}', file_row_number = true) ORDER BY ${order}`;
      const rows = (await db.runAndReadAll(sql)).getRowObjects();
      expect(rows).toHaveLength(1183);
      expect(Object.keys(rows[0]!).filter((c) => c.startsWith('factor_'))).toEqual(['factor_0', 'factor_1', 'factor_2', 'factor_3']);
      rows.forEach((row, j) => { for (let a = 0; a < 4; a++) expect(row[`factor_${a}`] as number).toBeCloseTo(expected[a * 1183 + j]!, 12); });
    }
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a data error exits 1 with a one-line message and leaves neither the output nor a temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-project-'));
    const m = 50;
    const keep = Array.from(A.rowIdx, (i) => i < m);
    const colPtr = Int32Array.from(A.colPtr, (p) => keep.slice(0, p).filter(Boolean).length);
    const small = { m, n: A.n, colPtr, rowIdx: A.rowIdx.filter((_, p) => keep[p]), values: A.values.filter((_, p) => keep[p]) };
    await writeModel(join(dir, 'model.arrow'), await fitModel(fromCsc(small), { rank: 2, maxIterations: 3 }));
    const r = await nmflow('project', join(dir, 'model.arrow'), `${FIXTURES}hawaiibirds-long-snappy.parquet`, '--out', join(dir, 'codes.parquet'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/feature index \d+ is outside the model's \[0, 50\)/);
    expect(existsSync(join(dir, 'codes.parquet'))).toBe(false);
    expect(readdirSync(dir)).toEqual(['model.arrow']);
    const usage = await nmflow('project', join(dir, 'model.arrow'), `${FIXTURES}hawaiibirds-long-snappy.parquet`, '--out', join(dir, 'codes.csv'));
    expect(usage.code).toBe(2);
  });
});
