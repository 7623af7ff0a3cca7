/**
 * Issue #13, model files: a checksum verified by readModel, W and d checked (finite, ≥ 0), and the data
 * fingerprint of the fit kept, in CSV, Arrow and Parquet.
 */
import { RecordBatch, Schema, Struct, Table, makeData, makeVector, tableFromIPC, tableToIPC, type Field, type Vector } from 'apache-arrow';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel, writeModel } from '../src/io/model-file.js';
import { loadParquetWasm } from '../src/io/parquet-wasm.js';
import { fitModel } from '../src/pipeline/fit.js';
import type { Snapshot } from '../src/snapshot/snapshot.js';
import { fromCsc } from '../src/source/from-csc.js';
import { failure } from './helpers/failure.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'nmflow-model-integrity-'));
const small = {
  loss: 'l2', rank: 2, features: 3, samples: 4, iteration: 1, relativeLoss: 0.5, objective: 0.5, trace: [],
  W: Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.6, 0.4]), d: Float64Array.from([2, 1]), featureNames: ['a', 'b', 'c'],
  data: { features: 3, samples: 4, nonzeros: 5, sum: 7.5, sumSquares: 11.25, featureMoment: 13, sampleMoment: 17 },
} as unknown as Snapshot;

/** The model table of `path` with W's factor_0 at `feature` set to `value`, its metadata (and checksum) kept as they were. */
async function tamperTable(path: string, feature: number, value: number): Promise<void> {
  const parquet = path.endsWith('.parquet') ? await loadParquetWasm() : undefined;
  const bytes = readFileSync(path);
  const table = parquet ? tableFromIPC(parquet.readParquet(bytes).intoIPCStream()) : tableFromIPC(bytes);
  const columns: Record<string, Vector> = {};
  for (const field of table.schema.fields) columns[field.name] = table.getChild(field.name)!;
  const factor = Float64Array.from(columns.factor_0!.toArray() as Float64Array);
  factor[feature] = value;
  columns.factor_0 = makeVector(factor);
  const plain = new Table(columns);
  const schema = new Schema(plain.schema.fields as Field[], table.schema.metadata);
  const sealed = new Table(schema, plain.batches.map((b) => new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: b.numRows, children: b.data.children as never, nullCount: 0 }))));
  writeFileSync(path, parquet ? parquet.writeParquet(parquet.Table.fromIPCStream(tableToIPC(sealed, 'stream'))) : tableToIPC(sealed, 'file'));
}

describe('model file integrity', () => {
  it('a CSV model whose CSV or sidecar changed anywhere, or whose sidecar is missing, is an error naming the file; "sha256": "none" is read unchecked', async () => {
    const path = join(tmp(), 'model.csv');
    await writeModel(path, small);
    const text = readFileSync(path, 'utf8');
    const sidecar = readFileSync(`${path}.json`, 'utf8');
    expect(text.split('\n')[0]).toBe('feature,factor_0,factor_1');
    expect(JSON.parse(sidecar)).toMatchObject({ nmflow: 'model', loss: 'l2', d: [2, 1], sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown });
    for (const [file, from, to] of [[path, '0.40000000000000002', '0.50000000000000002'], [path, '\nb,', '\nB,'], [`${path}.json`, '"loss": "l2"', '"loss": "l1"'], [`${path}.json`, '"d": [\n  2,', '"d": [\n  3,']] as const) {
      const original = file === path ? text : sidecar;
      expect(original).toContain(from);
      writeFileSync(file, original.replace(from, to));
      const error = await failure(() => readModel(path));
      expect(error.code).toBe('CHECKSUM_MISMATCH');
      expect(error.location?.source).toBe(path);
      expect(error.message).toContain('the model file is damaged: the SHA-256');
      writeFileSync(file, original);
    }
    writeFileSync(path, text.replace('0.29999999999999999', '0.5'));
    writeFileSync(`${path}.json`, sidecar.replace(/"sha256": "[0-9a-f]+"/, '"sha256": "none"'));
    expect((await readModel(path)).W[2]).toBe(0.5);
    writeFileSync(`${path}.json`, sidecar.slice(0, 40));
    expect((await failure(() => readModel(path))).message).toContain('sidecar is not JSON');
    rmSync(`${path}.json`);
    const missing = await failure(() => readModel(path));
    expect(missing.code).toBe('MALFORMED_FILE');
    expect(missing.message).toContain('needs its sidecar');
  });

  it('CSV models of the first format (comment lines, checksum on line 1) are still read and verified', async () => {
    const body = '\n# d,2,1\nfeature,factor_0,factor_1\na,0.1,0.2\nb,0.3,0.4\nc,0.6,0.4\n';
    const first = '# nmflow model: loss=l2 rank=2 features=3 samples=4 iterations=1 relativeLoss=0.5 data.features=3 data.samples=4 data.nonzeros=5 data.sum=7.5 data.sumSquares=11.25 data.featureMoment=13 data.sampleMoment=17';
    const sealed = `${first} sha256=${createHash('sha256').update(first + body).digest('hex')}${body}`;
    const path = join(tmp(), 'legacy.csv');
    writeFileSync(path, sealed);
    const back = await readModel(path);
    expect(back.d).toEqual(Float64Array.from([2, 1]));
    expect(back.data).toEqual(small.data);
    expect(back.featureNames).toEqual(['a', 'b', 'c']);
    for (const [from, to] of [['0.3,0.4', '0.3,0.5'], ['loss=l2', 'loss=l1'], ['# d,2', '# d,3']] as const) {
      writeFileSync(path, sealed.replace(from, to));
      expect((await failure(() => readModel(path))).code).toBe('CHECKSUM_MISMATCH');
    }
    writeFileSync(path, sealed.replace(/ sha256=[0-9a-f]+/, ''));
    expect((await failure(() => readModel(path))).code).toBe('CHECKSUM_MISMATCH');
    writeFileSync(path, sealed.replace(/ sha256=[0-9a-f]+/, ' hermitian'));
    expect((await failure(() => readModel(path))).message).toContain('the model\'s first line has "hermitian"');
    const old = join(tmp(), 'old.csv');
    writeFileSync(old, '# nmflow model: loss=l2 rank=2 features=3 samples=4 iterations=1 relativeLoss=0.5\n# d,2,1\nfeature,factor_0,factor_1\na,0.1,0.2\nb,0.3,0.4\nc,0.6,0.4\n');
    expect((await readModel(old)).d).toEqual(Float64Array.from([2, 1]));
  });

  for (const ext of ['arrow', 'parquet']) {
    it(`the .${ext} model whose W or d changed under its checksum is CHECKSUM_MISMATCH naming the file`, async () => {
      const path = join(tmp(), `model.${ext}`);
      await writeModel(path, small);
      expect((await readModel(path)).W).toEqual(small.W);
      await tamperTable(path, 1, 0.30000000000000004);
      const error = await failure(() => readModel(path));
      expect(error.code).toBe('CHECKSUM_MISMATCH');
      expect(error.location?.source).toBe(path);
    });
  }

  for (const ext of ['csv', 'arrow', 'parquet']) {
    it(`a .${ext} model with NaN, negative or infinite d or W is INVALID_VALUE naming the file, factor, feature and value`, async () => {
      const dir = tmp();
      const cases: [Partial<Snapshot>, string][] = [
        [{ d: Float64Array.from([-2, 1]) }, "the model's scale d of factor 0 is -2"],
        [{ d: Float64Array.from([2, NaN]) }, "the model's scale d of factor 1 is NaN"],
        [{ W: Float64Array.from([0.1, 0.2, 0.3, -0.4, 0.6, 0.4]) }, 'W at feature "b", factor 1 is -0.4'],
        [{ W: Float64Array.from([0.1, 0.2, 0.3, 0.4, Infinity, 0.4]) }, 'W at feature "c", factor 0 is Infinity'],
      ];
      for (const [change, message] of cases) {
        const path = join(dir, `bad.${ext}`);
        await writeModel(path, { ...small, ...change } as Snapshot);
        const error = await failure(() => readModel(path));
        expect(error.code).toBe('INVALID_VALUE');
        expect(error.message).toContain(message);
        expect(error.location?.source).toBe(path);
      }
    });
  }

  it('CSV, Arrow and Parquet models keep the data fingerprint of the fit, and readModel returns it', async () => {
    const A = loadSharedMtx('pbmc_small');
    const model = await fitModel(fromCsc(A, { chunkSize: 20 }), { rank: 3, seed: 2, maxIterations: 3 });
    expect(model.data?.nonzeros).toBe(A.colPtr[A.n]);
    const dir = tmp();
    for (const ext of ['csv', 'arrow', 'parquet']) {
      const path = join(dir, `model.${ext}`);
      await writeModel(path, model);
      expect((await readModel(path)).data).toEqual(model.data);
    }
  });
});
