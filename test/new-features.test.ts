/**
 * New features in a live long-layout stream (`unknownFeatures`): string ids not seen before either
 * raise a typed error ('error', default) or extend the matrix ('extend'), and `fitOnline` grows W.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dictionary, Float64, Int32, RecordBatch, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { Observable, lastValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { makeCscChunk, type CscChunk } from '../src/chunk/csc-chunk.js';
import { DataError, OptionError } from '../src/errors.js';
import { makeRandom } from '../src/kernel/random.js';
import { fit } from '../src/pipeline/fit.js';
import { fitOnline, type OnlineOptions } from '../src/pipeline/fit-online.js';
import { fromArrow } from '../src/source/from-arrow.js';
import type { SourceOptions } from '../src/source/layout.js';
import type { Snapshot } from '../src/snapshot/snapshot.js';
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

const rowOf = (s: Snapshot, id: string): number[] => {
  const i = s.featureNames!.indexOf(id);
  expect(i).toBeGreaterThanOrEqual(0);
  return Array.from(s.W.subarray(i * s.rank, (i + 1) * s.rank));
};
const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

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

describe('fitOnline on a stream whose features grow', () => {
  const options: OnlineOptions = { rank: K, seed: 4, forgetting: 0.9 };

  it('l2: completes with one row of W per distinct id; rows of late features are fitted from 0 once they appear', async () => {
    const rows = plantedRows();
    const source = liveSource(batchesOf(rows, 37), { unknownFeatures: 'extend' });
    expect((await source.prepare()).features).toBe(0);
    expect(source.features).toBeUndefined(); // nothing read yet
    const snaps = await lastValueFrom(fitOnline(source, options).pipe(toArray()));
    expect(snaps.length).toBe(CHUNKS + 1);
    for (const s of snaps) {
      expect(s.W.length).toBe(s.features * K);
      expect(s.featureNames!.length).toBe(s.features);
    }
    expect(snaps.map((s) => s.features)).toEqual([8, 8, 8, 11, 11, 11, 11, 12, 12]);
    const final = snaps.at(-1)!;
    expect(final.features).toBe(M);
    expect([...final.featureNames!].sort()).toEqual([...ID].sort());
    expect(final.W.every((v) => v >= 0)).toBe(true);
    for (const f of [8, 9, 10]) {
      expect(snaps[2]!.featureNames).not.toContain(ID[f]);
      expect(rowOf(snaps[3]!, ID[f]!).some((v) => v > 0)).toBe(true);
      expect(rowOf(final, ID[f]!).some((v) => v > 0)).toBe(true);
    }
    // the feature of the last chunk only: fitted from that chunk
    expect(snaps[CHUNKS - 2]!.featureNames).not.toContain(ID[M - 1]);
    expect(rowOf(final, ID[M - 1]!).some((v) => v > 0)).toBe(true);
    // About as good as a fit that knew every feature from the start (whose extra rows start random).
    const known = await lastValueFrom(fitOnline(liveSource(batchesOf(rows, 37), { featureNames: ID }), options));
    expect(final.relativeLoss).toBeLessThan(known.relativeLoss * 1.1);
  });

  it("l2: 'extend' with every feature known up front gives the same bytes as 'error'", async () => {
    const rows = plantedRows(FIRST.map(() => 0));
    const names = [...new Set(rows.feature)];
    const run = async (unknownFeatures: 'error' | 'extend') =>
      await lastValueFrom(fitOnline(liveSource(batchesOf(rows, 37), { featureNames: names, unknownFeatures }), options).pipe(toArray()));
    const [error, extend] = [await run('error'), await run('extend')];
    expect(extend.length).toBe(error.length);
    for (const [t, s] of extend.entries()) {
      expect(same(s.W, error[t]!.W)).toBe(true);
      expect(same(s.d, error[t]!.d)).toBe(true);
      expect(s.relativeLoss).toBe(error[t]!.relativeLoss);
      expect(s.featureNames).toEqual(names);
    }
  });

  it('l2: growing from chunk 3 on gives the same bytes as declaring every feature up front with zero rows of W', async () => {
    const rows = plantedRows();
    const batches = batchesOf(rows, 37);
    const m0 = 8;
    const rnd = makeRandom(9);
    const W0 = Float64Array.from({ length: m0 * K }, () => rnd.uniform());
    const padded = new Float64Array(M * K);
    padded.set(W0);
    const grownSource = liveSource(batches, { unknownFeatures: 'extend' });
    const grown = await lastValueFrom(fitOnline(grownSource, { ...options, init: { W: W0 } }).pipe(toArray()));
    const names = grownSource.featureNames!;
    const full = await lastValueFrom(fitOnline(liveSource(batches, { featureNames: names }), { ...options, init: { W: padded } }).pipe(toArray()));
    expect(grown.length).toBe(full.length);
    for (const [t, s] of grown.entries()) {
      const f = full[t]!;
      // The full model's rows of features not seen yet are exactly 0; the rest are the same bytes.
      expect(same(s.W, f.W.subarray(0, s.W.length))).toBe(true);
      expect(f.W.subarray(s.W.length).every((v) => v === 0)).toBe(true);
      expect(same(s.d, f.d)).toBe(true);
      expect(s.relativeLoss).toBe(f.relativeLoss);
    }
    expect(grown.at(-1)!.featureNames).toEqual(full.at(-1)!.featureNames);
  });

  it('l2: a checkpoint taken after the features grew resumes to the same bytes', async () => {
    const rows = plantedRows();
    const batches = batchesOf(rows, 37);
    const extend = { unknownFeatures: 'extend' } as const;
    const whole = await lastValueFrom(fitOnline(liveSource(batches, extend), options));
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-grow-ckpt-'));
    await lastValueFrom(fitOnline(liveSource(batches, extend), { ...options, checkpoint: { dir, every: 5 } }).pipe(take(6)));
    const resumed = await lastValueFrom(fitOnline(liveSource(batches, extend), { ...options, resumeFrom: dir }).pipe(toArray()));
    expect(resumed[0]!.iteration).toBe(6);
    expect(resumed[0]!.features).toBe(11);
    const final = resumed.at(-1)!;
    expect(same(final.W, whole.W)).toBe(true);
    expect(final.relativeLoss).toBe(whole.relativeLoss);
    expect(final.featureNames).toEqual(whole.featureNames);
  });

  it('l1: completes with W of the final m rows and names of the same length', async () => {
    const rows = plantedRows();
    const snaps = await lastValueFrom(fitOnline(liveSource(batchesOf(rows, 37), { unknownFeatures: 'extend' }),
      { rank: K, loss: 'l1', lambda: 0.1, window: 3, seed: 1 }).pipe(toArray()));
    expect(snaps.map((s) => s.features)).toEqual([8, 8, 8, 11, 11, 11, 11, 12, 12]);
    for (const s of snaps) {
      expect(s.W.length).toBe(s.features * K);
      expect(s.featureNames!.length).toBe(s.features);
      expect(s.W.every((v) => v >= 0)).toBe(true);
    }
    const final = snaps.at(-1)!;
    // The last feature is nonzero in a quarter of the window's samples: with λ = 0.1 its zeros do not outweigh them.
    for (const f of [8, 9, 10, 11]) expect(rowOf(final, ID[f]!).some((v) => v > 0)).toBe(true);
  });

  for (const loss of ['l2', 'l1'] as const) {
    it(`${loss}: a chunk with fewer features than the model is SHAPE_MISMATCH naming the chunk`, async () => {
      const chunk = (m: number, position: number): CscChunk => makeCscChunk({
        m, colStart: position * 3, position, colPtr: Int32Array.from([0, 2, 3, 4]),
        rowIdx: Int32Array.from([0, 2, 1, 3]), values: Float64Array.from([1, 2, 3, 4]),
      });
      const chunks$ = new Observable<CscChunk>((s) => { for (const c of [chunk(4, 0), chunk(6, 1), chunk(5, 2)]) s.next(c); s.complete(); });
      const err = await errorOf(fitOnline(chunks$, { rank: 2, loss, name: 'shrinking' }));
      expect(err).toBeInstanceOf(DataError);
      expect(err.code).toBe('SHAPE_MISMATCH');
      expect(err.location).toMatchObject({ source: 'shrinking', batch: 2 });
      expect(err.message).toContain('5 features');
    });
  }
});
