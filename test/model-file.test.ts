import { DuckDBInstance } from '@duckdb/node-api';
import { tableFromIPC } from 'apache-arrow';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NmfError } from '../src/errors.js';
import { readModel, writeFactorsH, writeModel } from '../src/io/model-file.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromCsc } from '../src/source/from-csc.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';
import { NMFLOW_VERSION } from '../src/io/nmflow-version.js';

const hasPyarrow = ((): boolean => {
  try { execFileSync('/usr/bin/python3', ['-c', 'import pyarrow'], { stdio: 'ignore' }); return true; } catch { return false; }
})();

describe('model files', () => {
  it('CSV, Arrow and Parquet models round-trip W, d and feature names exactly, and DuckDB reads them', async () => {
    const A = loadSharedMtx('pbmc_small');
    const names = Array.from({ length: A.m }, (_, i) => `gene "${i}", x`);
    const model = await fitModel(fromCsc(A, { featureNames: names }), { rank: 4, seed: 3, keepH: true });
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-model-'));
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    for (const ext of ['csv', 'arrow', 'parquet']) {
      const path = join(dir, `model.${ext}`);
      await writeModel(path, model);
      const back = await readModel(path);
      expect(back.rank).toBe(4);
      expect(Array.from(back.W)).toEqual(Array.from(model.W));
      expect(Array.from(back.d)).toEqual(Array.from(model.d));
      expect(back.featureNames).toEqual(names);
    }
    let sum0 = 0;
    for (let i = 0; i < A.m; i++) sum0 += model.W[i * 4]!;
    const parquet = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(factor_0) AS s, min(feature) AS f FROM read_parquet('${join(dir, 'model.parquet')}')`)).getRowObjects()[0]!;
    expect(parquet.n).toBe(A.m);
    expect(parquet.s as number).toBeCloseTo(sum0, 12);
    const csv = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(factor_0) AS s FROM read_csv('${join(dir, 'model.csv')}')`)).getRowObjects()[0]!;
    expect(csv.n).toBe(A.m);
    expect(csv.s as number).toBeCloseTo(sum0, 12);
    const samples = Array.from({ length: A.n }, (_, j) => `cell-${j}`);
    for (const ext of ['parquet', 'csv']) {
      await writeFactorsH(join(dir, `H.${ext}`), model.H!, 4, A.n, samples);
      const h = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(factor_0) AS s, min(sample) AS first FROM read_${ext}('${join(dir, `H.${ext}`)}')`)).getRowObjects()[0]!;
      expect(h.n).toBe(A.n);
      expect(h.s as number).toBeCloseTo(1, 12);
      expect(h.first).toBe('cell-0');
    }
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a write that fails leaves nothing behind and says where', async () => {
    const A = loadSharedMtx('pbmc_small');
    const model = await fitModel(fromCsc(A), { rank: 2, maxIterations: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-model-'));
    await expect(writeModel(join(dir, 'missing', 'model.parquet'), model)).rejects.toThrow(NmfError);
    await expect(writeModel(join(dir, 'missing', 'model.parquet'), model)).rejects.toThrow(/missing\/model.parquet/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('every format records nmflow\'s version, the resolved options, the seed, the data fingerprint and the final loss; readModel returns them; DuckDB reads them with defaults', async () => {
    expect(NMFLOW_VERSION).toBe((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version);
    const A = loadSharedMtx('pbmc_small');
    const model = await fitModel(fromCsc(A), { rank: 3, seed: 11, maxIterations: 4, l1: [0.1, 0] });
    expect(model.options).toMatchObject({ rank: 3, seed: 11, maxIterations: 4, l1: [0.1, 0], loss: 'l2', solver: 'fast' });
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-model-'));
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    for (const ext of ['csv', 'arrow', 'parquet']) {
      const path = join(dir, `model.${ext}`);
      await writeModel(path, model);
      const back = await readModel(path);
      expect(back.version).toBe(NMFLOW_VERSION);
      expect(back.seed).toBe(11);
      expect(back.options).toEqual(JSON.parse(JSON.stringify(model.options)));
      expect(back.data).toEqual(model.data);
      expect(back.relativeLoss).toBe(model.relativeLoss);
      expect(back.objective).toBe(model.objective);
      expect(back.iterations).toBe(4);
    }
    const sidecar = JSON.parse(readFileSync(join(dir, 'model.csv.json'), 'utf8')) as Record<string, unknown>;
    expect(sidecar).toMatchObject({ nmflow: 'model', version: NMFLOW_VERSION, seed: 11, rank: 3, d: Array.from(model.d) });
    // DuckDB's defaults: the CSV's header and types, the sidecar as JSON, Parquet's key-value metadata
    const csv = (await db.runAndReadAll(`SELECT * FROM read_csv('${join(dir, 'model.csv')}') LIMIT 1`)).getRowObjects()[0]!;
    expect(Object.keys(csv)).toEqual(['feature', 'factor_0', 'factor_1', 'factor_2']);
    expect(typeof csv.factor_0).toBe('number');
    const kv = (await db.runAndReadAll(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${join(dir, 'model.parquet')}')`)).getRowObjects();
    const meta = new Map(kv.map((r) => [String(r.k), String(r.v)]));
    expect(meta.get('nmflow.version')).toBe(NMFLOW_VERSION);
    expect(meta.get('nmflow.seed')).toBe('11');
    expect(JSON.parse(meta.get('nmflow.options')!)).toMatchObject({ rank: 3, seed: 11 });
    const arrow = tableFromIPC(readFileSync(join(dir, 'model.arrow')));
    expect(arrow.schema.metadata.get('nmflow.version')).toBe(NMFLOW_VERSION);
    expect(arrow.schema.fields[0]!.name).toBe('feature');
  });

  it.skipIf(!hasPyarrow)('pyarrow reads the CSV, Arrow and Parquet models and their metadata with defaults', async () => {
    const A = loadSharedMtx('pbmc_small');
    const model = await fitModel(fromCsc(A), { rank: 2, seed: 5, maxIterations: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-model-'));
    for (const ext of ['csv', 'arrow', 'parquet']) await writeModel(join(dir, `model.${ext}`), model);
    const script = `import sys, json, pyarrow.csv as c, pyarrow.parquet as p, pyarrow.ipc as i
d = sys.argv[1]
a = c.read_csv(d + '/model.csv'); b = p.read_table(d + '/model.parquet'); f = i.open_file(d + '/model.arrow').read_all()
print(json.dumps([a.num_rows, a.column_names, b.schema.metadata[b'nmflow.version'].decode(), f.schema.metadata[b'nmflow.seed'].decode()]))`;
    const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, dir], { encoding: 'utf8' })) as unknown[];
    expect(out).toEqual([A.m, ['feature', 'factor_0', 'factor_1'], NMFLOW_VERSION, '5']);
  });
});
