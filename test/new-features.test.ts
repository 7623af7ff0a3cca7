/**
 * New features in a live long-layout stream (`unknownFeatures`): string ids not seen before either
 * raise a typed error ('error', default) or extend the matrix ('extend'), and `fitOnline` grows W.
 */
import { Dictionary, Float64, Int32, RecordBatch, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import { OptionError } from '../src/errors.js';
import { makeRandom } from '../src/kernel/random.js';
import { fit } from '../src/pipeline/fit.js';
import { fromArrow } from '../src/source/from-arrow.js';
import type { SourceOptions } from '../src/source/layout.js';
import { collect, errorOf } from './fixtures/sources.js';

const K = 3;
const CHUNK = 20;
const CHUNKS = 8;
/** Feature f (0-based, in planted order) first appears in chunk FIRST[f]: 8 from the start, 3 from chunk 3, one only in the last chunk. */
const FIRST = [0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, CHUNKS - 1];
const M = FIRST.length;
/** String ids that do not sort in planted order, so that the dictionary order is visible. */
const ID = Array.from({ length: M }, (_, f) => `gene-${(f * 7) % M}-${String.fromCharCode(122 - f)}`);

interface LongRows { feature: string[]; sample: number[]; value: number[] }

/** A planted rank-3 model; sample j's rows list its present features in a shuffled order; ~25% of entries dropped. */
function plantedRows(first: readonly number[] = FIRST): LongRows {
  const rnd = makeRandom(11);
  const W = Array.from({ length: first.length * K }, () => 0.1 + rnd.uniform());
  const rows: LongRows = { feature: [], sample: [], value: [] };
  for (let j = 0; j < CHUNK * CHUNKS; j++) {
    const h = Array.from({ length: K }, () => rnd.uniform());
    const order = first.map((_, t) => (t * 5 + j) % first.length); // a permutation (5 and 12 are coprime)
    for (const f of order) {
      if (first[f]! > Math.floor(j / CHUNK) || rnd.uniform() < 0.25) continue;
      rows.feature.push(ID[f]!);
      rows.sample.push(j);
      rows.value.push(h.reduce((s, v, a) => s + v * W[f * K + a]!, 0));
    }
  }
  return rows;
}

/** The rows as record batches of `cut` rows (not aligned with chunks); feature ids plain Utf8 or dictionary-encoded. */
function batchesOf(rows: LongRows, cut: number, dictionary = false): RecordBatch[] {
  const table = new Table({
    feature: vectorFromArray(rows.feature, dictionary ? new Dictionary(new Utf8(), new Int32()) : new Utf8()),
    sample: vectorFromArray(rows.sample, new Int32()),
    value: vectorFromArray(rows.value, new Float64()),
  });
  const out: RecordBatch[] = [];
  for (let r = 0; r < table.numRows; r += cut) out.push(...table.slice(r, Math.min(r + cut, table.numRows)).batches);
  return out;
}

async function* live(batches: readonly RecordBatch[]): AsyncGenerator<RecordBatch> {
  for (const b of batches) yield await Promise.resolve(b);
}

const liveSource = (batches: readonly RecordBatch[], options: Omit<SourceOptions, 'layout'> = {}) =>
  fromArrow(live(batches), { layout: 'long', chunkSize: CHUNK, name: 'live', ...options } as SourceOptions);

describe("unknownFeatures: 'error' (default)", () => {
  it('a string id outside featureNames is INDEX_OUT_OF_RANGE naming the source, batch, row and column', async () => {
    const rows = plantedRows();
    const batches = batchesOf(rows, 37);
    const known = ID.slice(0, 8);
    const err = await errorOf(liveSource(batches, { featureNames: known }).chunks());
    const first = rows.feature.findIndex((f) => !known.includes(f));
    expect(err.code).toBe('INDEX_OUT_OF_RANGE');
    expect(err.location).toMatchObject({ source: 'live', batch: Math.floor(first / 37), row: first, column: 'feature' });
    expect(err.message).toContain(JSON.stringify(rows.feature[first]));
  });

  it('an AsyncIterable without features or featureNames is refused synchronously; a bad unknownFeatures too', () => {
    expect(() => fromArrow(live([]), { layout: 'long' })).toThrow(OptionError);
    expect(() => fromArrow(live([]), { layout: 'long', unknownFeatures: 'grow' as never })).toThrow(/unknownFeatures/);
    expect(() => fromArrow(live([]), { layout: 'wide', unknownFeatures: 'extend' })).toThrow(/long layout/);
    expect(() => fromArrow(live([]), { layout: 'list', features: 3, unknownFeatures: 'extend' })).toThrow(OptionError);
  });
});

describe("unknownFeatures: 'extend'", () => {
  it('a live source numbers new ids by first appearance; chunks carry the m seen so far, whatever the batch cuts', async () => {
    const rows = plantedRows();
    const firstSeen = [...new Set(rows.feature)];
    let reference: CscChunk[] | undefined;
    for (const [cut, dictionary] of [[37, false], [5, true], [1000, false]] as const) {
      const source = liveSource(batchesOf(rows, cut, dictionary), { unknownFeatures: 'extend' });
      expect(source.features).toBeUndefined();
      const chunks = await collect(source);
      expect(source.featureNames).toEqual(firstSeen);
      expect(source.features).toBe(M);
      for (const [c, chunk] of chunks.entries()) {
        // m = the distinct ids among the rows up to the end of this chunk
        const end = rows.sample.findIndex((j) => j >= (c + 1) * CHUNK);
        expect(chunk.m).toBe(new Set(rows.feature.slice(0, end < 0 ? undefined : end)).size);
        expect(Math.max(...chunk.rowIdx)).toBeLessThan(chunk.m);
      }
      expect(chunks.map((c) => c.m)).toEqual([8, 8, 8, 11, 11, 11, 11, 12]);
      expect((await errorOf(source.chunks())).code).toBe('UNSUPPORTED'); // read once; what it learnt stays
      expect(source.featureNames).toEqual(firstSeen);
      if (reference) {
        expect(chunks.map((c) => [c.m, ...c.colPtr, ...c.rowIdx, ...c.values])).toEqual(reference.map((c) => [c.m, ...c.colPtr, ...c.rowIdx, ...c.values]));
      }
      reference = chunks;
    }
  });

  it('starts from the given featureNames and appends new ids after them', async () => {
    const rows = plantedRows();
    const given = ['unused', ...ID.slice(0, 8).reverse()];
    const source = liveSource(batchesOf(rows, 37), { featureNames: given, unknownFeatures: 'extend' });
    const chunks = await collect(source);
    expect(source.featureNames).toEqual([...given, ...[...new Set(rows.feature)].filter((id) => !given.includes(id))]);
    expect(chunks[0]!.m).toBe(given.length);
    expect(chunks.at(-1)!.m).toBe(given.length + 4);
  });

  it('integer ids grow m to the largest id + 1 (no names are invented)', async () => {
    const table = new Table({
      feature: vectorFromArray([0, 1, 1, 4, 2, 6], new Int32()),
      sample: vectorFromArray([0, 0, 1, 1, 2, 2], new Int32()),
      value: vectorFromArray([1, 2, 3, 4, 5, 6], new Float64()),
    });
    const source = fromArrow(live(table.batches), { layout: 'long', chunkSize: 1, unknownFeatures: 'extend' });
    const chunks = await collect(source);
    expect(chunks.map((c) => c.m)).toEqual([2, 5, 7]);
    expect(source.features).toBe(7);
    expect(source.featureNames).toBeUndefined();
  });

  it('a re-readable input is scanned first: every chunk has the final m, in the order a one-shot read gives, and the batch fit works', async () => {
    const rows = plantedRows();
    const batches = batchesOf(rows, 37, true);
    const given = ID.slice(0, 8);
    const source = fromArrow(batches, { layout: 'long', chunkSize: CHUNK, featureNames: given, unknownFeatures: 'extend' });
    const chunks = await collect(source);
    const oneShot = liveSource(batches, { featureNames: given, unknownFeatures: 'extend' });
    const liveChunks = await collect(oneShot);
    expect(chunks.every((c) => c.m === M)).toBe(true);
    expect(source.featureNames).toEqual(oneShot.featureNames);
    expect(chunks.map((c) => [...c.rowIdx])).toEqual(liveChunks.map((c) => [...c.rowIdx]));
    const model = await lastValueFrom(fit(source, { rank: K, maxIterations: 3 }));
    expect(model.features).toBe(M);
  });
});
