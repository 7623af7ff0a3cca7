import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { NmfError, OptionError } from '../src/errors.js';
import { formatToRead, formatToWrite } from '../src/format/registry.js';
import { readModel, writeModel } from '../src/io/model-file.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromParquet } from '../src/source/from-parquet.js';
import { fromCsc } from '../src/source/from-csc.js';
import { SHARED_DATA, loadSharedMtx } from './helpers/load-mtx-sync.js';

const FIXTURES = new URL('../../shared/fixtures/', import.meta.url).pathname;
const EXAMPLES = new URL('../examples/data/', import.meta.url).pathname;

describe('the format registry', () => {
  it('picks the reader of each extension, whatever its case, and Parquet for a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-format-'));
    const cases: [string, string][] = [
      ['a.mtx', 'mtx'], ['a.MTX.GZ', 'mtx'], ['a.parquet', 'parquet'], ['a.arrow', 'arrow'], ['a.feather', 'arrow'], ['a.ipc', 'arrow'],
      ['a.arrows', 'arrows'], [dir, 'parquet'],
    ];
    for (const [path, name] of cases) expect(formatToRead(path, 'matrix').name, path).toBe(name);
    expect(formatToRead('m.csv', 'model').name).toBe('csv');
  });

  it('picks the writer of each extension: models, tables, convert outputs', () => {
    expect(formatToWrite('m.csv', 'model').name).toBe('csv');
    expect(formatToWrite('m.parquet', 'model').name).toBe('parquet');
    expect(formatToWrite('m.feather', 'model').name).toBe('arrow');
    expect(formatToWrite('t.arrows', 'table-out').name).toBe('arrows');
    expect(formatToWrite('t.mtx', 'matrix-out').name).toBe('mtx');
    expect(() => formatToWrite('t.mtx.gz', 'matrix-out')).toThrow(OptionError); // written plain, so not under a .gz name
    expect(() => formatToWrite('m.arrows', 'model')).toThrow(/Invalid option `out`: expected a path ending in .*\.csv.*got "m\.arrows"/);
  });

  it('tells a file without an extension by its first bytes: PAR1, ARROW1, an IPC stream, %%MatrixMarket, gzip', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-format-'));
    const cases: [string, string][] = [
      [`${FIXTURES}hawaiibirds-long-snappy.parquet`, 'parquet'], [`${FIXTURES}hawaiibirds-long.arrow`, 'arrow'],
      [`${FIXTURES}hawaiibirds-long.arrows`, 'arrows'], [`${SHARED_DATA}pbmc_small.mtx`, 'mtx'], [`${EXAMPLES}hawaiibirds.mtx.gz`, 'mtx'],
    ];
    cases.forEach(([from, name], i) => {
      const copy = join(dir, `input-${i}`);
      copyFileSync(from, copy);
      expect(formatToRead(copy, 'matrix').name, from).toBe(name);
    });
  });

  it('an extensionless Parquet copy opens to the chunks of the named file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-format-'));
    const copy = join(dir, 'counts');
    copyFileSync(`${FIXTURES}hawaiibirds-long-snappy.parquet`, copy);
    const source = await formatToRead(copy, 'matrix').openMatrix!(copy, { layout: 'long', chunkSize: 300 });
    const [got, expected] = await Promise.all([firstValueFrom(source.chunks()),
      firstValueFrom(fromParquet(`${FIXTURES}hawaiibirds-long-snappy.parquet`, { layout: 'long', chunkSize: 300 }).chunks())]);
    expect(Array.from(got.values)).toEqual(Array.from(expected.values));
    expect(Array.from(got.rowIdx)).toEqual(Array.from(expected.rowIdx));
  });

  it('reads a model file without an extension by its first bytes (Arrow, Parquet and CSV models)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-format-'));
    const model = await fitModel(fromCsc(loadSharedMtx('pbmc_small')), { rank: 2, maxIterations: 2 });
    for (const ext of ['arrow', 'parquet', 'csv']) {
      await writeModel(join(dir, `m.${ext}`), model);
      copyFileSync(join(dir, `m.${ext}`), join(dir, `m-${ext}`));
      if (ext === 'csv') copyFileSync(join(dir, 'm.csv.json'), join(dir, 'm-csv.json')); // a CSV model's sidecar travels with it
      const read = await readModel(join(dir, `m-${ext}`));
      expect(Array.from(read.d), ext).toEqual(Array.from(model.d));
    }
  });

  it('an unknown format is an UNSUPPORTED error naming the file and the formats it could have been', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-format-'));
    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'hello\n');
    let error: unknown;
    try { formatToRead(notes, 'matrix'); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(NmfError);
    expect((error as NmfError).code).toBe('UNSUPPORTED');
    for (const word of [notes, 'Matrix Market (.mtx, .mtx.gz)', 'Parquet', 'Arrow IPC file', 'Arrow IPC stream']) {
      expect((error as Error).message).toContain(word);
    }
    expect(() => formatToRead(join(dir, 'missing.dat'), 'model')).toThrow(/missing\.dat: it does not exist.*CSV model/);
  });
});
