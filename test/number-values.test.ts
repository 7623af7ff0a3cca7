// Value columns of every number type (int8…uint32, float32, float64) give the same chunks, byte for byte, as float64:
// the converters copy them into the chunk's float64 arrays (ChunkBuilder.appendRun widens as it copies), however the
// rows are cut into record batches, and whatever the nonzeros per sample (the builder sizes its arrays from them).
import { Float32, Float64, Int16, Int32, Int8, Table, Uint16, Uint32, Uint8, makeVector, vectorFromArray, type DataType, type RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { BatchWhere } from '../src/chunk/arrow-column.js';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import { LongToCsc } from '../src/chunk/long-to-csc.js';
import { DataError } from '../src/errors.js';

/** Long rows ordered by sample: sample j has `perSample(j)` features (some values 0, which are skipped). */
function longRows(n: number, m: number, perSample: (j: number) => number): { feature: number[]; sample: number[]; value: number[] } {
  const feature: number[] = [], sample: number[] = [], value: number[] = [];
  for (let j = 0; j < n; j++) {
    const k = perSample(j);
    for (let t = 0; t < k; t++) { feature.push((t * 7 + j) % m); sample.push(j); value.push((t * 31 + j * 17) % 11); }
  }
  // Sorted features within a sample (a repeat would be summed: keep them distinct by construction: k ≤ m, step 7 coprime to m).
  return { feature, sample, value };
}

function batches(rows: ReturnType<typeof longRows>, type: DataType, size: number): RecordBatch[] {
  const out: RecordBatch[] = [];
  for (let s = 0; s < rows.feature.length; s += size) {
    const table = new Table({
      feature: makeVector(Int32Array.from(rows.feature.slice(s, s + size))),
      sample: makeVector(Int32Array.from(rows.sample.slice(s, s + size))),
      value: vectorFromArray(rows.value.slice(s, s + size), type),
    });
    expect(String(table.schema.fields[2]!.type)).toBe(String(type));
    out.push(...table.batches);
  }
  return out;
}

function convert(list: RecordBatch[], m: number, chunkSize: number): CscChunk[] {
  const c = new LongToCsc({ m, chunkSize, samples: undefined, feature: 'feature', sample: 'sample', value: 'value', indexBase: 0,
    featureNames: undefined, extend: false });
  const out: CscChunk[] = [];
  let rowOffset = 0;
  list.forEach((b, i) => {
    const where: BatchWhere = { source: 'rows', batch: i, rowOffset, unit: 'record batch' };
    out.push(...c.push(b, where));
    rowOffset += b.numRows;
  });
  return [...out, ...c.finish()];
}

const bytes = (chunks: CscChunk[]): unknown[] => chunks.map((c) => ({ m: c.m, colStart: c.colStart, n: c.n, colPtr: [...c.colPtr],
  rowIdx: [...c.rowIdx.subarray(0, c.colPtr[c.n])], values: Buffer.from(c.values.buffer, c.values.byteOffset, 8 * c.colPtr[c.n]!).toString('hex') }));

describe('number-typed value columns', () => {
  const m = 97;
  const rows = longRows(300, m, (j) => (j === 0 ? 90 : j % 13 === 0 ? 0 : 5 + (j % 40)));
  const reference = bytes(convert(batches(rows, new Float64(), 1 << 20), m, 64));

  it('int8…uint32 and float32 values give the chunks of float64 values, for batches of 7, 37 and all rows', () => {
    expect(reference.length).toBe(5);
    for (const type of [new Int8(), new Uint8(), new Int16(), new Uint16(), new Int32(), new Uint32(), new Float32(), new Float64()]) {
      for (const size of [7, 37, 1 << 20]) expect(bytes(convert(batches(rows, type, size), m, 64)), `${String(type)} in batches of ${size}`).toEqual(reference);
    }
  });

  it('a first sample far denser than the rest, and chunks of 1 sample, give the same chunks as float64 in one batch', () => {
    const skewed = longRows(50, m, (j) => (j === 0 ? 97 : 2));
    const want = bytes(convert(batches(skewed, new Float64(), 1 << 20), m, 1000));
    expect(bytes(convert(batches(skewed, new Int32(), 3), m, 1000))).toEqual(want);
    expect(bytes(convert(batches(skewed, new Uint16(), 5), m, 1))).toEqual(bytes(convert(batches(skewed, new Float64(), 1 << 20), m, 1)));
  });

  it('a negative integer value is INVALID_VALUE naming its row and column', () => {
    const bad = longRows(3, m, () => 4);
    bad.value[6] = -2;
    let caught: unknown;
    try { convert(batches(bad, new Int16(), 5), m, 64); } catch (err) { caught = err; }
    expect(caught).toBeInstanceOf(DataError);
    expect((caught as DataError).code).toBe('INVALID_VALUE');
    expect((caught as DataError).location).toMatchObject({ row: 6, column: 'value', batch: 1 });
  });
});
