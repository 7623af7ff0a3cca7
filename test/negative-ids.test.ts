/**
 * Issue #13 (silently wrong results): a negative sample or feature id in an Arrow or Parquet table is
 * INDEX_OUT_OF_RANGE naming the file, batch / row group, row and column. The int32 ids of a table with
 * indexBase 0 are used as indices without a copy (src/chunk/id-dictionary.ts), and sample −1 used to
 * merge into sample 0.
 */
import { join } from 'node:path';
import { Field, Float64, Int32, List, RecordBatch, Table, makeData, tableFromArrays, vectorFromArray } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { writeTable } from '../src/io/write-table.js';
import { fromArrow } from '../src/source/from-arrow.js';
import { fromParquet } from '../src/source/from-parquet.js';
import { collect, errorOf, tmpDir } from './fixtures/sources.js';

/** A long table of 3 samples in two batches (rows 0–3, 4–7), with `patch` applied to its id columns. */
function longBatches(patch: (feature: Int32Array, sample: Int32Array) => void): RecordBatch[] {
  const feature = Int32Array.of(0, 1, 2, 0, 1, 2, 0, 1);
  const sample = Int32Array.of(0, 0, 0, 1, 1, 1, 2, 2);
  patch(feature, sample);
  const t = tableFromArrays({ feature, sample, value: Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8) });
  return new Table([...t.slice(0, 4).batches, ...t.slice(4).batches]).batches;
}

/** A list table (two parallel list columns) of 2 samples whose second sample's first index is `index`. */
function listBatches(index: number): RecordBatch[] {
  const idx = vectorFromArray([[0, 2], [index, 1]], new List(new Field('item', new Int32())));
  const val = vectorFromArray([[1, 2], [3, 4]], new List(new Field('item', new Float64())));
  return new Table({ idx, val }).batches;
}

const long = { layout: 'long', features: 3 } as const;

describe('negative ids are INDEX_OUT_OF_RANGE with their location', () => {
  it('a sample id of −1 on the first row of an Arrow table (it merged into sample 0)', async () => {
    const err = await errorOf(fromArrow(longBatches((_, s) => { s[0] = -1; }), long).chunks());
    expect(err.code).toBe('INDEX_OUT_OF_RANGE');
    expect(err.location).toMatchObject({ source: 'Arrow record batches', batch: 0, row: 0, column: 'sample' });
  });

  it('a sample id of −5 in the second record batch (was reported as unsorted input)', async () => {
    const err = await errorOf(fromArrow(longBatches((_, s) => { s[5] = -5; }), long).chunks());
    expect(err.code).toBe('INDEX_OUT_OF_RANGE');
    expect(err.location).toMatchObject({ batch: 1, row: 5, column: 'sample' });
    expect(err.message).toContain('-5');
  });

  it('a negative sample id in a Parquet row group', async () => {
    const path = join(tmpDir('negative-ids'), 'neg.parquet');
    await writeTable(path, longBatches((_, s) => { s[6] = -1; s[7] = -1; }), { rowGroupSize: 4 });
    const err = await errorOf(fromParquet(path, long).chunks());
    expect(err.code).toBe('INDEX_OUT_OF_RANGE');
    expect(err.location).toMatchObject({ source: path, batch: 1, row: 6, column: 'sample' });
  });

  it('a negative feature id in a Parquet file whose feature count is scanned first', async () => {
    const path = join(tmpDir('negative-ids'), 'neg-feature.parquet');
    await writeTable(path, longBatches((f) => { f[2] = -1; }));
    const err = await errorOf(fromParquet(path, { layout: 'long' }).chunks());
    expect(err.code).toBe('INDEX_OUT_OF_RANGE');
    expect(err.location).toMatchObject({ source: path, batch: 0, row: 2, column: 'feature' });
  });

  it('a negative feature index in a list column names the table row, with or without a first pass that scans the ids', async () => {
    for (const features of [3, undefined]) {
      const err = await errorOf(fromArrow(listBatches(-1), { layout: 'list', indices: 'idx', values: 'val', ...(features ? { features } : {}) }).chunks());
      expect(err.code).toBe('INDEX_OUT_OF_RANGE');
      expect(err.location).toMatchObject({ batch: 0, row: 1, column: 'idx' });
    }
  });

  it('a null sample id whose buffer holds −1 is still reported as a null id (INVALID_VALUE)', async () => {
    const sample = makeData({ type: new Int32(), length: 3, nullCount: 1, nullBitmap: Uint8Array.of(0b110), data: Int32Array.of(-1, 0, 1) });
    const batch = new RecordBatch({
      feature: makeData({ type: new Int32(), data: Int32Array.of(0, 1, 2) }), sample, value: makeData({ type: new Float64(), data: Float64Array.of(1, 2, 3) }),
    });
    const err = await errorOf(fromArrow([batch], long).chunks());
    expect([err.code, err.location?.row, err.location?.column]).toEqual(['INVALID_VALUE', 0, 'sample']);
    expect(err.message).toContain('null sample id');
  });

  it('the same tables with nonnegative ids read as 3 samples', async () => {
    const chunks = await collect(fromArrow(longBatches(() => undefined), long));
    expect(chunks.reduce((n, c) => n + c.n, 0)).toBe(3);
  });
});
