/**
 * A separate mask source (issue #15, `maskSource`, CLI `--mask FILE`): its entries are missing in the data, the fit
 * is the bytes of the same data with NaN there (`missing: 'nan'`) for any chunking of either source and any format
 * (in memory, .mtx, Parquet); shapes that do not match are typed errors naming maskSource or the entry; a fit with a
 * mask source checkpoints and resumes to the same bytes, and refuses another mask.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCscChunk, type CscChunk } from '../src/chunk/csc-chunk.js';
import { DataError, OptionError } from '../src/errors.js';
import { writeMtx } from '../src/format/write-mtx.js';
import { readCheckpoint } from '../src/io/checkpoint.js';
import type { FitOptions } from '../src/options.js';
import { crossValidate } from '../src/pipeline/cross-validate.js';
import { fit, fitModel } from '../src/pipeline/fit.js';
import type { Model } from '../src/snapshot/snapshot.js';
import { fromCsc, fromDense, splitColumns, type CscMatrix } from '../src/source/from-csc.js';
import { fromMtx } from '../src/source/from-mtx.js';
import { fromParquet } from '../src/source/from-parquet.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import { lastValueFrom } from 'rxjs';
import { nmflow } from './helpers/cli.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const trace = (m: Model): unknown => m.trace.map((t) => [t.relativeLoss, t.trainLoss, t.testLoss]);
function expectSameModel(a: Model, b: Model): void {
  expect(same(a.W, b.W)).toBe(true);
  expect(same(a.d, b.d)).toBe(true);
  expect(trace(a)).toEqual(trace(b));
}

/** A streamed source that says nothing of its shape before reading. */
function streamed(A: CscMatrix, chunkSize: number, name = 'streamed'): MatrixSource {
  return {
    name, rereadable: true,
    chunks: () => new Observable<CscChunk>((subscriber) => {
      for (const c of splitColumns(A, chunkSize)) subscriber.next(makeCscChunk({ ...c, colPtr: c.colPtr.slice() }));
      subscriber.complete();
    }),
  };
}

const A = loadSharedMtx('hawaiibirds');
/** Mask: every 11th stored entry of A and every 997th cell of the dense matrix (some of them zeros of A). */
let mask: CscMatrix;
/** A with NaN at the mask's entries (dense, column-major). */
let nanDense: Float64Array;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nmflow-mask-source-'));
  const { m, n } = A;
  const dense = new Float64Array(m * n), masked = new Uint8Array(m * n);
  for (let j = 0; j < n; j++) {
    for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) {
      dense[j * m + A.rowIdx[p]!] = A.values[p]!;
      if (p % 11 === 4) masked[j * m + A.rowIdx[p]!] = 1;
    }
  }
  for (let q = 5; q < m * n; q += 997) masked[q] = 1;
  const colPtr = new Int32Array(n + 1), rows: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) if (masked[j * m + i]) { rows.push(i); dense[j * m + i] = Number.NaN; }
    colPtr[j + 1] = rows.length;
  }
  mask = { m, n, colPtr, rowIdx: Int32Array.from(rows), values: new Float64Array(rows.length).fill(1) };
  nanDense = dense;
  await writeMtx(join(dir, 'mask.mtx'), mask);
  const csv = ['feature,sample,value'];
  for (let j = 0; j < n; j++) for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) csv.push(`${mask.rowIdx[p]},${j},1`);
  writeFileSync(join(dir, 'mask.csv'), csv.join('\n') + '\n');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const sql = await db.connect();
  await sql.run(`COPY (SELECT feature::INTEGER AS feature, sample::INTEGER AS sample, value::DOUBLE AS value FROM read_csv('${join(dir, 'mask.csv')}', header = true)
    ORDER BY sample, feature) TO '${join(dir, 'mask.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 500)`);
  sql.closeSync();
  db.closeSync();
  await writeMtx(join(dir, 'data.mtx'), A);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base: FitOptions = { rank: 4, seed: 3, tol: 0, maxIterations: 4, testFraction: 0.1 };

describe('a mask source (issue #15)', () => {
  it('gives the bytes of the NaN data for any chunking of data and mask, in memory, .mtx and Parquet (DuckDB, row groups of 500)', async () => {
    const reference = await fitModel(fromDense(nanDense, A.m, A.n, { missing: 'nan' }), { ...base, missing: 'nan' });
    const masks: [string, () => MatrixSource][] = [
      ['in memory, chunks of 37', () => fromCsc(mask, { chunkSize: 37 })],
      ['streamed, chunks of 1000', () => streamed(mask, 1000, 'mask')],
      ['.mtx', () => fromMtx(join(dir, 'mask.mtx'), { chunkSize: 64 })],
      ['Parquet, chunks of 7', () => fromParquet(join(dir, 'mask.parquet'), { layout: 'long', features: A.m, samples: A.n, chunkSize: 7 })],
    ];
    for (const [, make] of masks) {
      for (const data of [fromCsc(A, { chunkSize: 100 }), streamed(A, 300)]) {
        expectSameModel(await fitModel(data, { ...base, maskSource: make() }), reference);
      }
    }
    // mask zeros and a mask source together: the NaN data with mask zeros
    expectSameModel(await fitModel(fromCsc(A, { chunkSize: 250 }), { ...base, mask: 'zeros', maskSource: fromCsc(mask, { chunkSize: 90 }) }),
      await fitModel(fromDense(nanDense, A.m, A.n, { missing: 'nan' }), { ...base, mask: 'zeros', missing: 'nan' }));
  });

  it("the data's own NaN: missing with missing: 'nan' (the union with the mask), INVALID_VALUE without it", async () => {
    const values = A.values.slice();
    for (let p = 3; p < values.length; p += 29) values[p] = Number.NaN;
    const withNaN = { ...A, values };
    const error = await fitModel(fromCsc(withNaN, { missing: 'nan', chunkSize: 100 }), { ...base, maskSource: fromCsc(mask) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).code).toBe('INVALID_VALUE');
    const union = nanDense.slice();
    for (let j = 0; j < A.n; j++) for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) if (p % 29 === 3) union[j * A.m + A.rowIdx[p]!] = Number.NaN;
    expectSameModel(await fitModel(fromCsc(withNaN, { missing: 'nan', chunkSize: 100 }), { ...base, missing: 'nan', maskSource: fromCsc(mask, { chunkSize: 33 }) }),
      await fitModel(fromDense(union, A.m, A.n, { missing: 'nan' }), { ...base, missing: 'nan' }));
  });

  it('a mask of the wrong shape: OptionError naming maskSource when both say their shape, else SHAPE_MISMATCH naming the mask and the entry', async () => {
    const optionOf = (call: () => unknown): string | undefined => { try { call(); } catch (e) { expect(e).toBeInstanceOf(OptionError); return (e as OptionError).option; } return undefined; };
    const other = (m: number, n: number): CscMatrix => ({ m, n, colPtr: new Int32Array(n + 1), rowIdx: new Int32Array(0), values: new Float64Array(0) });
    expect(optionOf(() => fit(fromCsc(A), { ...base, maskSource: fromCsc(other(A.m + 1, A.n)) }))).toBe('maskSource');
    expect(optionOf(() => fit(fromCsc(A), { ...base, maskSource: fromCsc(other(A.m, A.n - 1)) }))).toBe('maskSource');
    expect(optionOf(() => fit(fromCsc(A), { ...base, maskSource: { name: 'x' } as never }))).toBe('maskSource');
    expect(optionOf(() => fit(fromCsc(A), { ...base, loss: 'l1', maskSource: fromCsc(mask) }))).toBe('maskSource');
    const wrongM = await fitModel(streamed(A, 100), { ...base, maskSource: streamed(other(A.m + 2, A.n), 50, 'mask') }).catch((e: unknown) => e) as DataError;
    expect(wrongM).toMatchObject({ code: 'SHAPE_MISMATCH', location: { source: 'mask' } });
    expect(wrongM.message).toMatch(/maskSource/);
    const longer = other(A.m, A.n + 5);
    const past = { ...longer, colPtr: Int32Array.from({ length: A.n + 6 }, (_, j) => (j > A.n + 2 ? 1 : 0)), rowIdx: Int32Array.of(7), values: Float64Array.of(1) };
    const tooLong = await fitModel(streamed(A, 100), { ...base, maskSource: streamed(past, 64, 'mask') }).catch((e: unknown) => e) as DataError;
    expect(tooLong).toMatchObject({ code: 'SHAPE_MISMATCH', location: { source: 'mask', sample: A.n + 2, feature: 7 } });
    // a mask that ends early (it does not say its samples): the last samples have no missing entries
    const short = { m: A.m, n: 500, colPtr: mask.colPtr.slice(0, 501), rowIdx: mask.rowIdx, values: mask.values };
    const head = nanDense.slice();
    for (let q = 500 * A.m; q < head.length; q++) if (Number.isNaN(head[q]!)) head[q] = 0;
    for (let j = 500; j < A.n; j++) for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) head[j * A.m + A.rowIdx[p]!] = A.values[p]!;
    expectSameModel(await fitModel(fromCsc(A, { chunkSize: 100 }), { ...base, maskSource: streamed(short, 128) }),
      await fitModel(fromDense(head, A.m, A.n, { missing: 'nan' }), { ...base, missing: 'nan' }));
  });

  it('checkpoints within a pass and resumes to the uninterrupted bytes; refuses another mask (DATA_CHANGED) or none (resumeFrom)', async () => {
    const options = { ...base, maxIterations: 5, keepH: true };
    const make = (): MatrixSource => fromParquet(join(dir, 'mask.parquet'), { layout: 'long', features: A.m, samples: A.n, chunkSize: 300 });
    const whole = await fitModel(fromCsc(A, { chunkSize: 100 }), { ...options, maskSource: make() });
    const ckpt = join(dir, 'ckpt');
    const crashed = await fitModel(fromCsc(A, { chunkSize: 100 }), {
      ...options, maskSource: make(), checkpoint: { dir: ckpt, every: 100, chunks: 4 },
      onChunk: ({ iteration, samples }) => { if (iteration === 3 && samples >= 900) throw new Error('crash'); },
    }).catch((e: unknown) => e);
    expect(String(crashed)).toMatch(/crash/);
    expect(readCheckpoint(ckpt).state.numbers.passChunks).toBe(8);
    const resumed = await fitModel(fromCsc(A, { chunkSize: 100 }), { ...options, maskSource: make(), resumeFrom: ckpt });
    expectSameModel(resumed, whole);
    expect(same(resumed.H!, whole.H!)).toBe(true);
    const fewer = { ...mask, colPtr: mask.colPtr.map((p, j) => (j === 0 ? 0 : Math.max(0, p - 1))), rowIdx: mask.rowIdx.subarray(1), values: mask.values.subarray(1) };
    await expect(fitModel(fromCsc(A, { chunkSize: 100 }), { ...options, maskSource: fromCsc(fewer), resumeFrom: ckpt })).rejects.toMatchObject({ code: 'DATA_CHANGED' });
    await expect(fitModel(fromCsc(A, { chunkSize: 100 }), { ...options, resumeFrom: ckpt })).rejects.toMatchObject({ option: 'resumeFrom' });
  });

  it('the CLI: --mask FILE (Parquet on fit, .mtx on cv), the bytes of the library; a mask file that does not exist is an IO error', async () => {
    const args = ['--rank', '4', '--seed', '3', '--tol', '0', '--max-iterations', '4', '--test-fraction', '0.1', '--json'];
    const reference = await fitModel(fromDense(nanDense, A.m, A.n, { missing: 'nan' }), { ...base, missing: 'nan' });
    const [parquet, missing] = await Promise.all([
      nmflow('fit', join(dir, 'data.mtx'), ...args, '--mask', join(dir, 'mask.parquet'), '--chunk-size', '128'),
      nmflow('fit', join(dir, 'data.mtx'), ...args, '--mask', join(dir, 'nope.mtx')),
    ]);
    expect(parquet.code).toBe(0);
    expect(JSON.parse(parquet.stdout.trim().split('\n').at(-1)!).trainLoss).toBe(reference.trainLoss);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr.trim()).error.code).toBe('IO');
    const cv = await nmflow('cv', join(dir, 'data.mtx'), '--ranks', '2,3', '--replicates', '1', '--max-iterations', '3', '--mask', join(dir, 'mask.mtx'), '--json');
    expect(cv.code).toBe(0);
    const table = await lastValueFrom(crossValidate(fromCsc(A), { ranks: [2, 3], replicates: 1, maxIterations: 3, maskSource: fromCsc(mask) }));
    expect(JSON.parse(cv.stdout.trim().split('\n').at(-1)!).testLoss).toEqual((table as unknown as { testLoss: number[] }).testLoss);
  }, 240_000);
});
