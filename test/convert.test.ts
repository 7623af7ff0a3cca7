// `nmflow convert` round trips (.mtx ↔ Parquet ↔ Arrow in every layout) and the atomic table writers.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Table, makeVector, type RecordBatch } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { DataError, NmfError } from '../src/errors.js';
import { openTableWriter, writeTable } from '../src/io/write-table.js';
import { readMtx } from '../src/source/read-mtx.js';
import { SHARED_DATA } from './helpers/load-mtx-sync.js';
import { nmflow } from './helpers/cli.js';

const FIXTURES = new URL('../../shared/fixtures/', import.meta.url).pathname;


/**
 * The CLI in this process (`main`, what bin/nmflow runs), for the many round trips: a CLI process costs
 * ~2 s of start-up, which is all of the work here. Calls run one at a time (stdout is captured).
 */
async function inProcess(...args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { stdout += String(chunk); return true; });
  try {
    return { code: await main(args), stdout };
  } finally {
    spy.mockRestore();
  }
}

const temporaries = (dir: string): string[] => readdirSync(dir).filter((f) => f.includes('.tmp-'));

describe('nmflow convert', () => {
  it('mtx → {long, wide, list} × {parquet, arrow, arrows} → mtx gives the identical CSC (pbmc_small and hawaiibirds)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-convert-'));
    const cases = [
      ...['long', 'wide', 'list'].flatMap((layout) => ['pbmc_small', 'hawaiibirds'].map((data) => ({ data, layout, ext: 'parquet' }))),
      { data: 'pbmc_small', layout: 'long', ext: 'arrow' }, { data: 'pbmc_small', layout: 'list', ext: 'arrows' },
      { data: 'hawaiibirds', layout: 'wide', ext: 'arrows' },
    ];
    for (const { data, layout, ext } of cases) {
      const table = join(dir, `${data}-${layout}.${ext}`);
      const back = join(dir, `${data}-${layout}-${ext}.mtx`);
      expect((await inProcess('convert', `${SHARED_DATA}${data}.mtx`, table, '--out-layout', layout, '--chunk-size', '100', '-q')).code).toBe(0);
      const home = await inProcess('convert', table, back, '--layout', layout, '--json');
      expect(JSON.parse(home.stdout)).toMatchObject({ features: data === 'pbmc_small' ? 230 : 183, samples: data === 'pbmc_small' ? 80 : 1183 });
      expect(await readMtx(back)).toEqual(await readMtx(`${SHARED_DATA}${data}.mtx`));
    }
    expect(temporaries(dir)).toEqual([]);
  });

  it('streams the long Parquet fixture to list Arrow and back to the matrix of the .mtx; DuckDB reads what convert wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-convert-'));
    const list = await nmflow('convert', `${FIXTURES}hawaiibirds-long-snappy.parquet`, join(dir, 'birds.arrows'), '--out-layout', 'list');
    expect(list.stdout).toMatch(/183 features × 1183 samples, 30815 nonzeros → .*birds\.arrows \(list\)/);
    expect((await inProcess('convert', join(dir, 'birds.arrows'), join(dir, 'birds.mtx'), '--layout', 'list', '-q')).code).toBe(0);
    expect(await readMtx(join(dir, 'birds.mtx'))).toEqual(await readMtx(`${SHARED_DATA}hawaiibirds.mtx`));
    expect((await inProcess('convert', `${SHARED_DATA}hawaiibirds.mtx`, join(dir, 'birds.parquet'), '-q')).code).toBe(0);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const row = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS nnz, sum(value) AS total, max(feature) AS m, max(sample) AS n,
      typeof(any_value(feature)) AS t FROM read_parquet('${join(dir, 'birds.parquet')}')`)).getRowObjects()[0]!;
    expect(row).toMatchObject({ nnz: 30815, m: 182, n: 1182, t: 'INTEGER' });
    expect(row.total as number).toBeCloseTo(7476.977083950215, 9);
  });

  it('trailing empty features and samples survive a long or list round trip (nmflow.features / nmflow.samples metadata)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-convert-'));
    writeFileSync(join(dir, 'tiny.mtx'), '%%MatrixMarket matrix coordinate real general\n5 4 3\n1 1 2\n3 2 1.5\n2 3 4\n');
    for (const f of ['long.parquet', 'list.parquet', 'long.arrows', 'list.arrow']) {
      const layout = f.split('.')[0]!;
      await inProcess('convert', join(dir, 'tiny.mtx'), join(dir, f), '--out-layout', layout, '-q');
      await inProcess('convert', join(dir, f), join(dir, `${f}.mtx`), '--layout', layout, '-q');
      expect(readFileSync(join(dir, `${f}.mtx`), 'utf8').split('\n')[1]).toBe('5 4 3');
    }
  });

  it('bad usage exits 2 and bad data exits 1, leaving neither the output nor a temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-convert-'));
    const [usage, data] = await Promise.all([
      nmflow('convert', `${SHARED_DATA}pbmc_small.mtx`, join(dir, 'out.csv')),
      nmflow('convert', `${FIXTURES}hawaiibirds-wide.parquet`, join(dir, 'out.parquet'), '--layout', 'long'),
    ]);
    expect(usage.code).toBe(2);
    expect(data.code).toBe(1);
    expect(data.stderr).toMatch(/column "feature" not found/);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('table writers', () => {
  const batch = (from: number, rows: number): RecordBatch =>
    new Table({ x: makeVector(Float64Array.from({ length: rows }, (_, r) => from + r)) }).batches[0]!;

  it('write Parquet in row groups of at most rowGroupSize rows and rowGroupBytes bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-write-'));
    const path = join(dir, 'x.parquet');
    expect(await writeTable(path, [batch(0, 700), batch(700, 700), batch(1400, 100)], { rowGroupSize: 500 })).toEqual({ rows: 1500, batches: 3 });
    const bytes = readFileSync(path);
    const footer = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(footer.row_groups.map((g) => Number(g.num_rows))).toEqual([500, 500, 500]);
    const tenths = Array.from({ length: 10 }, (_, b) => batch(b * 20000, 20000));
    await writeTable(path, tenths, { rowGroupBytes: 256 * 1024, rowGroupSize: 1 << 20, compression: 'uncompressed' });
    const wide = readFileSync(path);
    const groups = parquetMetadata(wide.buffer.slice(wide.byteOffset, wide.byteOffset + wide.byteLength)).row_groups.map((g) => Number(g.num_rows));
    expect(groups.length).toBeGreaterThan(4); // 200000 float64 = 1.6 MB, in groups of about 256 kB
    expect(groups.reduce((a, b) => a + b, 0)).toBe(200000);
    expect(temporaries(dir)).toEqual([]);
  });

  it('a batch with another schema fails with SCHEMA_MISMATCH and removes the temporary file; abort and close on nothing leave no file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-write-'));
    for (const name of ['a.parquet', 'a.arrow', 'a.arrows']) {
      const writer = await openTableWriter(join(dir, name));
      await writer.write(batch(0, 10));
      const other = new Table({ y: makeVector(Int32Array.of(1)) }).batches[0]!;
      await expect(writer.write(other)).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH' });
      await expect(writer.close()).rejects.toBeInstanceOf(NmfError);
      const aborted = await openTableWriter(join(dir, `b-${name}`));
      await aborted.write(batch(0, 10));
      await aborted.abort();
      const empty = await openTableWriter(join(dir, `c-${name}`));
      await expect(empty.close()).rejects.toBeInstanceOf(DataError);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an unwritable path is an IO error', async () => {
    await expect(openTableWriter(join(tmpdir(), 'no-such-dir-nmflow', 'x.arrow'))).rejects.toMatchObject({ code: 'IO' });
    await expect(openTableWriter('x.csv')).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(existsSync('x.csv')).toBe(false);
  });
});
