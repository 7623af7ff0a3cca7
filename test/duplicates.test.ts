/**
 * Issue #13 (silently wrong results): repeated (feature, sample) entries follow one rule in every layout —
 * they are SUMMED, as the Matrix Market reader does (src/chunk/sum-duplicates.ts). The .mtx, the long and
 * list tables in Arrow and Parquet, fromCsc and a custom source with the same repeats give the same chunks
 * and the same model bytes as the matrix with the sums written once, for any chunk size.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Field, Float64, Int32, List, RecordBatch, Table, tableFromArrays, vectorFromArray } from 'apache-arrow';
import { from, lastValueFrom } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { sumDuplicates } from '../src/chunk/sum-duplicates.js';
import { writeTable } from '../src/io/write-table.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fitOnline } from '../src/pipeline/fit-online.js';
import { fromArrow } from '../src/source/from-arrow.js';
import { fromCsc, splitColumns, type CscMatrix } from '../src/source/from-csc.js';
import { fromMtx } from '../src/source/from-mtx.js';
import { fromParquet } from '../src/source/from-parquet.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import { collect, expectSameAsMatrix, tmpDir } from './fixtures/sources.js';

const M = 12;
const N = 30;
/** One entry of the input, in input order. */
interface Entry { i: number; j: number; v: number }

/**
 * A 12 × 30 matrix as entries ordered by sample; within a sample rows descend, and about a third of the
 * entries are given as two or three parts (integers, so every sum is exact), the later parts at the end.
 */
function entries(): Entry[] {
  const out: Entry[] = [];
  for (let j = 0; j < N; j++) {
    const rest: Entry[] = [];
    for (let i = M - 1; i >= 0; i--) {
      if ((i * 7 + j * 3) % 4 === 0) continue;
      const v = 1 + ((i * 5 + j * 11) % 9);
      const parts = (i + j) % 3 === 0 ? [1, v] : (i + j) % 5 === 0 ? [2, 1, v] : [v];
      out.push({ i, j, v: parts[0]! });
      for (const p of parts.slice(1)) rest.push({ i, j, v: p });
    }
    out.push(...rest);
  }
  return out;
}

/** The matrix with every (feature, sample) once, holding the sum of its parts, rows ascending. */
function summed(list: readonly Entry[]): CscMatrix {
  const dense = new Float64Array(M * N);
  for (const e of list) dense[e.j * M + e.i]! += e.v;
  const colPtr = new Int32Array(N + 1);
  const rows: number[] = [];
  const values: number[] = [];
  for (let j = 0; j < N; j++) {
    for (let i = 0; i < M; i++) if (dense[j * M + i]! > 0) { rows.push(i); values.push(dense[j * M + i]!); }
    colPtr[j + 1] = rows.length;
  }
  return { m: M, n: N, colPtr, rowIdx: Int32Array.from(rows), values: Float64Array.from(values) };
}

/** The entries as a CSC matrix in input order (unsorted columns, repeats kept). */
function asGiven(list: readonly Entry[]): CscMatrix {
  const colPtr = new Int32Array(N + 1);
  for (const e of list) colPtr[e.j + 1]!++;
  for (let j = 0; j < N; j++) colPtr[j + 1]! += colPtr[j]!;
  return { m: M, n: N, colPtr, rowIdx: Int32Array.from(list, (e) => e.i), values: Float64Array.from(list, (e) => e.v) };
}

/** The long table in record batches of 7 rows (samples straddle batches). */
function longBatches(list: readonly Entry[]): RecordBatch[] {
  const t = tableFromArrays({ feature: Int32Array.from(list, (e) => e.i), sample: Int32Array.from(list, (e) => e.j), value: Float64Array.from(list, (e) => e.v) });
  const batches: RecordBatch[] = [];
  for (let r = 0; r < t.numRows; r += 7) batches.push(...t.slice(r, r + 7).batches);
  return batches;
}

/** The list table (two parallel list columns), one row per sample, in batches of 4 samples. */
function listBatches(list: readonly Entry[]): RecordBatch[] {
  const idx = Array.from({ length: N }, (_, j) => list.filter((e) => e.j === j).map((e) => e.i));
  const val = Array.from({ length: N }, (_, j) => list.filter((e) => e.j === j).map((e) => e.v));
  const t = new Table({
    indices: vectorFromArray(idx, new List(new Field('item', new Int32()))),
    values: vectorFromArray(val, new List(new Field('item', new Float64()))),
  });
  const batches: RecordBatch[] = [];
  for (let r = 0; r < N; r += 4) batches.push(...t.slice(r, r + 4).batches);
  return batches;
}

const list = entries();
const want = summed(list);
const sources = new Map<string, (chunkSize: number) => MatrixSource>();

beforeAll(async () => {
  const dir = tmpDir('duplicates');
  const mtx = join(dir, 'dups.mtx');
  writeFileSync(mtx, `%%MatrixMarket matrix coordinate real general\n${M} ${N} ${list.length}\n${list.map((e) => `${e.i + 1} ${e.j + 1} ${e.v}`).join('\n')}\n`);
  const longParquet = join(dir, 'long.parquet');
  const listParquet = join(dir, 'list.parquet');
  await writeTable(longParquet, longBatches(list), { rowGroupSize: 11 });
  await writeTable(listParquet, listBatches(list), { rowGroupSize: 4 });
  const longLayout = { layout: 'long', features: M } as const;
  const listLayout = { layout: 'list', features: M } as const;
  sources.set('.mtx', (chunkSize) => fromMtx(mtx, { chunkSize }));
  sources.set('long Arrow', (chunkSize) => fromArrow(longBatches(list), { ...longLayout, chunkSize }));
  sources.set('long Parquet', (chunkSize) => fromParquet(longParquet, { ...longLayout, chunkSize, batchSize: 9 }));
  sources.set('list Arrow', (chunkSize) => fromArrow(listBatches(list), { ...listLayout, chunkSize }));
  sources.set('list Parquet', (chunkSize) => fromParquet(listParquet, { ...listLayout, chunkSize }));
  sources.set('fromCsc', (chunkSize) => fromCsc(asGiven(list), { chunkSize }));
});

describe('repeated (feature, sample) entries are summed in every layout', () => {
  it('the input really has repeats and unsorted columns', () => {
    const given = asGiven(list);
    expect(given.colPtr[N]!).toBeGreaterThan(want.colPtr[N]! + 20);
    expect(sumDuplicates(want, N)).toBeNull();
  });

  for (const name of ['.mtx', 'long Arrow', 'long Parquet', 'list Arrow', 'list Parquet', 'fromCsc']) {
    it(`${name}: the chunks equal those of the summed matrix, for chunk sizes 1, 7 and 30`, async () => {
      for (const chunkSize of [1, 7, 30]) await expectSameAsMatrix(await collect(sources.get(name)!(chunkSize)), want, chunkSize);
    });
  }

  it('every layout gives the model bytes of the summed matrix (l2 and l1)', async () => {
    for (const loss of ['l2', 'l1'] as const) {
      const options = { rank: 3, seed: 7, maxIterations: 8, loss, threads: 1 };
      const reference = await fitModel(fromCsc(want, { chunkSize: 7 }), options);
      for (const [name, make] of sources) {
        const model = await fitModel(make(7), options);
        expect([name, loss, Buffer.from(model.W.buffer, model.W.byteOffset, model.W.byteLength).equals(
          Buffer.from(reference.W.buffer, reference.W.byteOffset, reference.W.byteLength))]).toEqual([name, loss, true]);
        expect([name, Array.from(model.d), model.relativeLoss]).toEqual([name, Array.from(reference.d), reference.relativeLoss]);
      }
    }
  });

  it('a custom MatrixSource and a live Observable of chunks with the same repeats give the model of the summed matrix (fit, fitOnline)', async () => {
    const given = asGiven(list);
    const custom = (): MatrixSource => ({ name: 'custom', rereadable: true, features: M, chunks: () => from(splitColumns(given, 7)) });
    const options = { rank: 3, seed: 7, maxIterations: 8, threads: 1 };
    const reference = await fitModel(fromCsc(want, { chunkSize: 7 }), options);
    const model = await fitModel(custom(), options);
    expect(Array.from(model.W)).toEqual(Array.from(reference.W));
    expect(model.relativeLoss).toBe(reference.relativeLoss);
    const online = await lastValueFrom(fitOnline(from(splitColumns(given, 7)), { rank: 3, seed: 7 }));
    const onlineReference = await lastValueFrom(fitOnline(fromCsc(want, { chunkSize: 7 }), { rank: 3, seed: 7 }));
    expect(Array.from(online.W)).toEqual(Array.from(onlineReference.W));
  });

  it('sums repeats left to right in input order, as read-mtx.ts does (0.1 + 0.2 + 0.3 ≠ 0.3 + 0.2 + 0.1 in binary)', () => {
    const m: CscMatrix = { m: 2, n: 1, colPtr: Int32Array.of(0, 4), rowIdx: Int32Array.of(1, 0, 1, 1), values: Float64Array.of(0.1, 5, 0.2, 0.3) };
    const out = sumDuplicates(m, 1)!;
    expect(Array.from(out.rowIdx)).toEqual([0, 1]);
    expect(Array.from(out.values)).toEqual([5, (0.1 + 0.2) + 0.3]);
    expect(Array.from(out.colPtr)).toEqual([0, 2]);
    expect(Array.from(m.values)).toEqual([0.1, 5, 0.2, 0.3]);
  });
});
