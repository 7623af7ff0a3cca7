import { DuckDBInstance } from '@duckdb/node-api';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NmfError } from '../src/errors.js';
import { readModel, writeFactorsH, writeModel } from '../src/io/model-file.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromCsc } from '../src/source/from-csc.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';

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
      if (ext !== 'csv') expect(back.featureNames).toEqual(names);
    }
    let sum0 = 0;
    for (let i = 0; i < A.m; i++) sum0 += model.W[i * 4]!;
    const parquet = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(factor_0) AS s, min(feature) AS f FROM read_parquet('${join(dir, 'model.parquet')}')`)).getRowObjects()[0]!;
    expect(parquet.n).toBe(A.m);
    expect(parquet.s as number).toBeCloseTo(sum0, 12);
    const csv = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(factor_0) AS s FROM read_csv('${join(dir, 'model.csv')}', skip = 2, header = true)`)).getRowObjects()[0]!;
    expect(csv.n).toBe(A.m);
    expect(csv.s as number).toBeCloseTo(sum0, 12);
    await writeFactorsH(join(dir, 'H.parquet'), model.H!, 4, A.n);
    const h = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(factor_0) AS s FROM read_parquet('${join(dir, 'H.parquet')}')`)).getRowObjects()[0]!;
    expect(h.n).toBe(A.n);
    expect(h.s as number).toBeCloseTo(1, 12);
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
});
