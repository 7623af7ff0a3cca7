import { readFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Dictionary, Field, Float32, Float64, Int32, Int64, List, RecordBatch, Struct, Table, Utf8, tableFromArrays, tableToIPC, vectorFromArray,
} from 'apache-arrow';
import fc from 'fast-check';

import { beforeAll, describe, expect, it } from 'vitest';
import type { Subscription } from 'rxjs';
import { OptionError } from '../src/errors.js';
import type { CscMatrix } from '../src/source/from-csc.js';
import { fromArrow } from '../src/source/from-arrow.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';
import { FIXTURES, MANIFEST, collect, errorOf, expectSameAsMatrix, expectSummary, tmpDir, trackHandles } from './fixtures/sources.js';

/** The long table of a CSC matrix (rows in column order), cut into record batches at `cuts`. */
function longBatches(a: CscMatrix, cuts: readonly number[] = []): RecordBatch[] {
  const nnz = a.colPtr[a.n]!;
  const sample = new Int32Array(nnz);
  for (let j = 0; j < a.n; j++) sample.fill(j, a.colPtr[j]!, a.colPtr[j + 1]!);
  const table = tableFromArrays({ feature: a.rowIdx.slice(0, nnz), sample, value: a.values.slice(0, nnz) });
  const bounds = [0, ...[...cuts].sort((x, y) => x - y), nnz];
  return bounds.slice(1).map((end, k) => table.slice(bounds[k]!, end).batches[0] ?? table.slice(0, 0).batches[0]!)
    .filter((b): b is RecordBatch => b !== undefined);
}

function writeIpc(dir: string, name: string, table: Table, format: 'file' | 'stream' = 'file'): string {
  const path = join(dir, name);
  writeFileSync(path, tableToIPC(table, format));
  return path;
}

const small: CscMatrix = {
  m: 4, n: 5,
  colPtr: Int32Array.from([0, 2, 2, 3, 6, 7]),
  rowIdx: Int32Array.from([0, 3, 1, 0, 2, 3, 1]),
  values: Float64Array.from([1, 2, 3, 4, 5, 6, 7]),
};

describe('fromArrow', () => {
  let dir: string;
  let birds: CscMatrix;
  beforeAll(() => {
    dir = tmpDir('arrow');
    birds = loadSharedMtx('hawaiibirds');
  });

  for (const entry of MANIFEST.filter((f) => /\.arrows?$/.test(f.file))) {
    it(`reads the fixture ${entry.file} to the features, samples, nnz and sum of fixtures.json`, async () => {
      const source = fromArrow(join(FIXTURES, entry.file), { layout: entry.layout, chunkSize: 500 });
      expectSummary(await collect(source), entry);
      expect(source.features).toBe(entry.features);
    });

    it(`gives the same chunks from ${entry.file} as from the .mtx, array by array`, async () => {
      const chunks = await collect(fromArrow(join(FIXTURES, entry.file), { layout: 'long', chunkSize: 97 }));
      await expectSameAsMatrix(chunks, birds, 97);
    });
  }

  it('reads an IPC file by random access, one record batch at a time, and closes its handle', async () => {
    const path = join(FIXTURES, 'hawaiibirds-long.arrow');
    const size = (await readFile(path)).length;
    const spy = await trackHandles();
    try {
      await collect(fromArrow(path, { layout: 'long', features: 183 }));
      const largest = Math.max(...spy.reads.mock.calls.map((c) => (c[2] as number | undefined) ?? (c[0] as Uint8Array).length));
      expect(largest).toBeLessThan(size / 3);
      // One handle reads the schema, one the batches; both are closed.
      expect(spy.closes.length).toBe(2);
      for (const close of spy.closes) expect(close).toHaveBeenCalled();
    } finally {
      spy.restore();
    }
  });

  it('closes the file handle as soon as the consumer unsubscribes mid-file', async () => {
    const path = join(FIXTURES, 'hawaiibirds-long.arrows');
    const spy = await trackHandles();
    try {
      const got: number[] = [];
      const calls: number[] = [];
      await new Promise<void>((resolve) => {
        const sub: Subscription = fromArrow(path, { layout: 'long', features: 183, chunkSize: 10 }).chunks().subscribe((c) => {
          got.push(c.colStart);
          if (got.length < 2) return;
          const reading = spy.closes[spy.closes.length - 1]!;
          calls.push(reading.mock.calls.length);
          sub.unsubscribe();
          calls.push(reading.mock.calls.length);
          resolve();
        });
      });
      expect(calls).toEqual([0, 1]);
      const after = got.length;
      await new Promise((r) => setTimeout(r, 20));
      expect(got.length).toBe(after);
      expect(got.length).toBeLessThan(119);
    } finally {
      spy.restore();
    }
  });

  it('reads IPC file and stream bytes, and arrays of record batches, to the same chunks', async () => {
    const file = await readFile(join(FIXTURES, 'hawaiibirds-long.arrow'));
    const stream = await readFile(join(FIXTURES, 'hawaiibirds-long.arrows'));
    await expectSameAsMatrix(await collect(fromArrow(new Uint8Array(file), { layout: 'long', chunkSize: 200 })), birds, 200);
    await expectSameAsMatrix(await collect(fromArrow(new Uint8Array(stream), { layout: 'long', chunkSize: 200 })), birds, 200);
    await expectSameAsMatrix(await collect(fromArrow(longBatches(birds, [1000, 1001, 20000]), { layout: 'long', chunkSize: 200 })), birds, 200);
  });

  it('makes chunks that do not depend on how the rows are cut into batches (property)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 25 }), fc.integer({ min: 1, max: 9 }),
      fc.array(fc.tuple(fc.nat(5), fc.nat(24), fc.double({ min: 0, max: 10, noNaN: true })), { maxLength: 60 }),
      fc.array(fc.nat(60), { maxLength: 6 }),
      async (m, n, chunkSize, entries, cuts) => {
        const dense = new Float64Array(m * n);
        for (const [i, j, v] of entries) if (i < m && j < n) dense[j * m + i] = v;
        const colPtr = new Int32Array(n + 1);
        const rows: number[] = [];
        const vals: number[] = [];
        for (let j = 0; j < n; j++) {
          for (let i = 0; i < m; i++) if (dense[j * m + i]! > 0) { rows.push(i); vals.push(dense[j * m + i]!); }
          colPtr[j + 1] = rows.length;
        }
        const a: CscMatrix = { m, n, colPtr, rowIdx: Int32Array.from(rows), values: Float64Array.from(vals) };
        const batches = longBatches(a, cuts.filter((c) => c < rows.length));
        if (rows.length === 0) return;
        const chunks = await collect(fromArrow(batches, { layout: 'long', features: m, samples: n, chunkSize }));
        await expectSameAsMatrix(chunks, a, chunkSize);
      },
    ), { numRuns: 60 });
  });

  it('returns views of the batch buffers when a chunk lies in one batch (zero-copy)', async () => {
    const [batch] = longBatches(small);
    const [chunk] = await collect(fromArrow([batch!], { layout: 'long', chunkSize: 10 }));
    expect(chunk!.values.buffer).toBe(batch!.getChild('value')!.data[0]!.values.buffer);
    expect(chunk!.rowIdx.buffer).toBe(batch!.getChild('feature')!.data[0]!.values.buffer);
  });

  it('counts empty samples between ids and, with `samples`, after the last one', async () => {
    const chunks = await collect(fromArrow(longBatches(small), { layout: 'long', chunkSize: 2, samples: 8 }));
    expect(chunks.map((c) => [c.colStart, c.n])).toEqual([[0, 2], [2, 2], [4, 2], [6, 2]]);
    expect(Array.from(chunks[0]!.colPtr)).toEqual([0, 2, 2]);
  });

  it('widens float32 values and int64 / 1-based ids, and skips zeros and null values', async () => {
    const table = new Table({
      feature: vectorFromArray([1n, 4n, 2n, 1n, 3n, 4n, 2n], new Int64()),
      sample: vectorFromArray([1n, 1n, 3n, 4n, 4n, 4n, 5n], new Int64()),
      value: vectorFromArray([1, 2, 3, 4, 0, null, 7], new Float32()),
    });
    const chunks = await collect(fromArrow(table.batches, { layout: 'long', indexBase: 1, chunkSize: 10 }));
    expect(chunks[0]!.m).toBe(4);
    expect(Array.from(chunks[0]!.colPtr)).toEqual([0, 2, 2, 3, 4, 5]);
    expect(Array.from(chunks[0]!.rowIdx)).toEqual([0, 3, 1, 0, 1]);
    expect(Array.from(chunks[0]!.values)).toEqual([1, 2, 3, 4, 7]);
  });

  it('maps string feature ids through a sorted dictionary, or through the given featureNames', async () => {
    const table = new Table({
      feature: vectorFromArray(['g2', 'g10', 'g1', 'g2'], new Dictionary(new Utf8(), new Int32())),
      sample: vectorFromArray(['c9', 'c9', 'c1', 'c1'], new Utf8()),
      value: vectorFromArray([1, 2, 3, 4], new Float64()),
    });
    const path = writeIpc(dir, 'strings.arrow', table);
    const source = fromArrow(path, { layout: 'long' });
    const info = await source.prepare();
    expect(info.featureNames).toEqual(['g1', 'g10', 'g2']);
    const [chunk] = await collect(source);
    expect(Array.from(chunk!.rowIdx)).toEqual([1, 2, 0, 2]); // rows sorted within each sample (chunk/sum-duplicates.ts)
    expect(Array.from(chunk!.colPtr)).toEqual([0, 2, 4]);
    expect(source.sampleNames).toEqual(['c9', 'c1']);
    const named = fromArrow(path, { layout: 'long', featureNames: ['g2', 'g1', 'g10', 'g3'] });
    const [c2] = await collect(named);
    expect([c2!.m, ...c2!.rowIdx]).toEqual([4, 0, 2, 0, 1]);
    const unknown = await errorOf(fromArrow(path, { layout: 'long', featureNames: ['g1', 'g2'] }).chunks());
    expect(unknown.code).toBe('INDEX_OUT_OF_RANGE');
    expect(unknown.location).toMatchObject({ source: path, batch: 0, row: 1, column: 'feature' });
  });

  it('reads the wide layout: numeric columns as features, nulls and zeros skipped, names kept', async () => {
    const table = new Table({
      id: vectorFromArray(['a', 'b', 'c'], new Utf8()),
      x: vectorFromArray([1, 0, null], new Float64()),
      y: vectorFromArray([0, 5, 6], new Int32()),
    });
    const source = fromArrow(writeIpc(dir, 'wide.arrow', table), { layout: 'wide', chunkSize: 2 });
    const chunks = await collect(source);
    expect(source.featureNames).toEqual(['x', 'y']);
    expect(chunks.map((c) => Array.from(c.colPtr))).toEqual([[0, 1, 2], [0, 1]]);
    expect(chunks.flatMap((c) => Array.from(c.rowIdx))).toEqual([0, 1, 1]);
    const chosen = await collect(fromArrow(table.batches, { layout: 'wide', features: ['y'] }));
    expect(Array.from(chosen[0]!.values)).toEqual([5, 6]);
  });

  it('reads the list layout from parallel lists and from a list<struct<index, value>> column', async () => {
    const indices = vectorFromArray([[0, 2], [1], [], null], new List(new Field('element', new Int32(), true)));
    const values = vectorFromArray([[1.5, 2], [0], [], null], new List(new Field('element', new Float64(), true)));
    const chunks = await collect(fromArrow(new Table({ indices, values }).batches, { layout: 'list', features: 3 }));
    expect(Array.from(chunks[0]!.colPtr)).toEqual([0, 2, 2, 2, 2]);
    expect(Array.from(chunks[0]!.values)).toEqual([1.5, 2]);
    const entry = new Struct([new Field('index', new Int32()), new Field('value', new Float64())]);
    const entries = vectorFromArray([[{ index: 3, value: 1 }, { index: 0, value: 2 }], []], new List(new Field('item', entry, true)));
    const [c] = await collect(fromArrow(new Table({ entries }).batches, { layout: 'list', entries: 'entries' }));
    expect([c!.m, ...c!.colPtr, ...c!.rowIdx, ...c!.values]).toEqual([4, 0, 2, 2, 0, 3, 2, 1]); // rows sorted within the sample
  });

  it("reads a one-shot AsyncIterable once, and needs `features` up front (unless unknownFeatures is 'extend')", async () => {
    async function* batches() { yield* longBatches(small, [3]); }
    expect(() => fromArrow(batches(), { layout: 'long' })).toThrow(OptionError);
    expect(() => fromArrow(batches(), { layout: 'long', unknownFeatures: 'extend' })).not.toThrow(); // test/new-features.test.ts
    const source = fromArrow(batches(), { layout: 'long', features: 4 });
    expect(source.rereadable).toBe(false);
    await expectSameAsMatrix(await collect(source), small, 5);
    expect((await errorOf(source.chunks())).code).toBe('UNSUPPORTED');
  });

  it('rejects bad options synchronously', () => {
    expect(() => fromArrow('x.arrow', { layout: 'tall' } as never)).toThrow(/Invalid option `layout`/);
    expect(() => fromArrow('x.arrow', { layout: 'long', chunkSize: 0 })).toThrow(/chunkSize/);
    expect(() => fromArrow('x.arrow', { layout: 'long', features: 3, featureNames: ['a'] })).toThrow(/featureNames/);
    expect(() => fromArrow('x.arrow', { layout: 'wide', features: [] })).toThrow(/features/);
    expect(() => fromArrow(42 as never)).toThrow(OptionError);
  });

  describe('bad input becomes a typed error naming file, batch, row and column', () => {
    const bad = (edit: (v: number[], s: number[], f: number[]) => void) => {
      const f = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
      const s = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3];
      const v = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
      edit(v, s, f);
      const t = tableFromArrays({ feature: Int32Array.from(f), sample: Int32Array.from(s), value: Float64Array.from(v) });
      return new Table([t.slice(0, 4).batches[0]!, t.slice(4, 10).batches[0]!]);
    };
    const cases: [string, (v: number[], s: number[], f: number[]) => void, string, number][] = [
      ['a negative value', (v) => { v[6] = -1; }, 'INVALID_VALUE', 6],
      ['a NaN value', (v) => { v[5] = NaN; }, 'INVALID_VALUE', 5],
      ['an infinite value', (v) => { v[9] = Infinity; }, 'INVALID_VALUE', 9],
      ['a feature index out of range', (_v, _s, f) => { f[7] = 9; }, 'INDEX_OUT_OF_RANGE', 7],
      ['a sample that goes backwards', (_v, s) => { s[8] = 0; }, 'UNSORTED_INPUT', 8],
    ];
    for (const [what, edit, code, row] of cases) {
      it(`${what} → ${code}`, async () => {
        const path = writeIpc(dir, `bad-${code}-${row}.arrow`, bad(edit));
        const err = await errorOf(fromArrow(path, { layout: 'long', features: 3 }).chunks());
        const column = code === 'INVALID_VALUE' ? 'value' : code === 'UNSORTED_INPUT' ? 'sample' : 'feature';
        expect(err.code).toBe(code);
        expect(err.location).toMatchObject({ source: path, batch: 1, row, column });
        expect(err.message).toContain('record batch 1');
      });
    }

    it('a missing column → SCHEMA_MISMATCH', async () => {
      const path = writeIpc(dir, 'missing.arrow', bad(() => undefined));
      const err = await errorOf(fromArrow(path, { layout: 'long', value: 'count', features: 3 }).chunks());
      expect([err.code, err.location?.source, err.location?.column]).toEqual(['SCHEMA_MISMATCH', path, 'count']);
    });

    it('a column of the wrong type → SCHEMA_MISMATCH', async () => {
      const t = new Table({ feature: vectorFromArray([0], new Int32()), sample: vectorFromArray([0], new Int32()), value: vectorFromArray(['1'], new Utf8()) });
      const err = await errorOf(fromArrow(writeIpc(dir, 'type.arrow', t), { layout: 'long', features: 1 }).chunks());
      expect([err.code, err.location?.column]).toEqual(['SCHEMA_MISMATCH', 'value']);
    });

    it('a truncated IPC file or stream, or garbage → MALFORMED_FILE', async () => {
      for (const name of ['hawaiibirds-long.arrow', 'hawaiibirds-long.arrows']) {
        const bytes = await readFile(join(FIXTURES, name));
        const path = join(dir, `truncated-${name}`);
        writeFileSync(path, bytes.subarray(0, 200_000));
        const err = await errorOf(fromArrow(path, { layout: 'long', features: 183 }).chunks());
        expect([err.code, err.location?.source]).toEqual(['MALFORMED_FILE', path]);
      }
      const garbage = join(dir, 'garbage.arrow');
      writeFileSync(garbage, 'this is not an Arrow file at all, just some text');
      expect((await errorOf(fromArrow(garbage, { layout: 'long', features: 3 }).chunks())).code).toBe('MALFORMED_FILE');
    });

    it('an empty file, or a file with a schema and no rows → EMPTY_INPUT; a missing file → IO', async () => {
      const empty = join(dir, 'empty.arrow');
      writeFileSync(empty, '');
      expect((await errorOf(fromArrow(empty, { layout: 'long', features: 3 }).chunks())).code).toBe('EMPTY_INPUT');
      const none = writeIpc(dir, 'none.arrow', tableFromArrays({ feature: new Int32Array(0), sample: new Int32Array(0), value: new Float64Array(0) }));
      expect((await errorOf(fromArrow(none, { layout: 'long', features: 3 }).chunks())).code).toBe('EMPTY_INPUT');
      expect((await errorOf(fromArrow(none, { layout: 'long' }).chunks())).code).toBe('EMPTY_INPUT');
      expect((await errorOf(fromArrow(join(dir, 'nope.arrow'), { layout: 'long', features: 3 }).chunks())).code).toBe('IO');
    });
  });
});
