/**
 * Issue #13 (silently wrong results): `project` matches the data's features to the model's by name whenever
 * the model has names (src/pipeline/feature-names.ts): in any order, a model feature the data lacks counts
 * as zero, a data feature the model lacks is an error or ignored. Data that has no feature names (integer
 * ids, lists, unnamed wide columns, a .mtx) against a named model is SCHEMA_MISMATCH — it was matched by
 * position. A model without names (or with the indices "0"…"m−1" of a model file) still matches by position.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Field, Float64, Int32, List, RecordBatch, Table, Utf8, makeVector, vectorFromArray } from 'apache-arrow';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { makeCscChunk } from '../src/chunk/csc-chunk.js';
import { DataError } from '../src/errors.js';
import { writeModel } from '../src/io/model-file.js';
import { fitModel } from '../src/pipeline/fit.js';
import { project, type ProjectModel, type ProjectOptions } from '../src/pipeline/project.js';
import { fromCsc, type CscMatrix } from '../src/source/from-csc.js';
import { projectChunk } from '../src/model/project.js';
import { tmpDir } from './fixtures/sources.js';
import { nmflow } from './helpers/cli.js';

const m = 5;
const names = ['ACTB', 'CD3E', 'GAPDH', 'MS4A1', 'NKG7'];
/** A 5-feature rank-2 model with names. */
const model: ProjectModel = {
  loss: 'l2', rank: 2, features: m, d: Float64Array.of(3, 2), featureNames: names,
  W: Float64Array.of(0.4, 0.1, 0.3, 0, 0.1, 0.2, 0, 0.5, 0.2, 0.2),
};
/** Two samples as (feature name, value) pairs, in the data's own order. */
const samples: [string, number][][] = [[['NKG7', 4], ['ACTB', 1], ['GAPDH', 2]], [['MS4A1', 3], ['CD3E', 5]]];

/** The codes projectChunk gives for `samples` put in the model's feature order. */
function expected(): Float64Array {
  const colPtr = [0];
  const rows: number[] = [];
  const values: number[] = [];
  for (const s of samples) {
    const sorted = [...s].sort((a, b) => names.indexOf(a[0]) - names.indexOf(b[0]));
    for (const [f, v] of sorted) { rows.push(names.indexOf(f)); values.push(v); }
    colPtr.push(rows.length);
  }
  return projectChunk(model, makeCscChunk({ m, colStart: 0, colPtr: Int32Array.from(colPtr), rowIdx: Int32Array.from(rows), values: Float64Array.from(values) }));
}

function longBatch(ids: 'string' | 'int'): RecordBatch {
  const rows = samples.flatMap((s, j) => s.map(([f, v]) => ({ f, j, v })));
  return new Table({
    feature: ids === 'string' ? vectorFromArray(rows.map((r) => r.f), new Utf8()) : makeVector(Int32Array.from(rows, (r) => names.indexOf(r.f))),
    sample: makeVector(Int32Array.from(rows, (r) => r.j)),
    value: makeVector(Float64Array.from(rows, (r) => r.v)),
  }).batches[0]!;
}

/** Wide table: one column per data feature, named `column(name)`, in reverse model order, one feature missing. */
function wideBatch(column: (name: string) => string): RecordBatch {
  const present = ['NKG7', 'MS4A1', 'GAPDH', 'CD3E', 'ACTB'];
  return new Table(Object.fromEntries(present.map((f) => [column(f), makeVector(Float64Array.from(samples, (s) => s.find(([g]) => g === f)?.[1] ?? 0))]))).batches[0]!;
}

const run = (batch: RecordBatch, options: ProjectOptions, with_ = model): Promise<RecordBatch[]> => lastValueFrom(from([batch]).pipe(project(with_, options), toArray()));
/** factor_a of every output row (a long input gives its last sample in a batch of its own). */
const codes = (out: RecordBatch[]): number[][] => [0, 1].map((a) => out.flatMap((b) => Array.from({ length: b.numRows }, (_, r) => b.getChild(`factor_${a}`)!.get(r) as number)));
const want = (H: Float64Array): number[][] => [0, 1].map((a) => [H[a * 2]!, H[a * 2 + 1]!]);

async function failure(run: Promise<unknown>): Promise<DataError> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DataError);
  return error as DataError;
}

describe('project matches features by name against a named model', () => {
  it('long string ids and wide columns in another order, with model features missing from the data, give the codes of the model order', async () => {
    expect(codes(await run(longBatch('string'), { layout: 'long' }))).toEqual(want(expected()));
    expect(codes(await run(wideBatch((f) => f), { layout: 'wide' }))).toEqual(want(expected()));
  });

  it('integer feature ids against a named model are SCHEMA_MISMATCH that names both sides (they were matched by position)', async () => {
    const error = await failure(run(longBatch('int'), { layout: 'long' }));
    expect([error.code, error.location?.column, error.location?.batch]).toEqual(['SCHEMA_MISMATCH', 'feature', 0]);
    expect(error.message).toMatch(/5 features are named \("ACTB", "CD3E", "GAPDH", …\).*integer ids/);
  });

  it('a list table and a wide table of unnamed columns against a named model are SCHEMA_MISMATCH', async () => {
    const list = new Table({
      indices: vectorFromArray([[0, 2]], new List(new Field('item', new Int32()))), values: vectorFromArray([[1, 2]], new List(new Field('item', new Float64()))),
    }).batches[0]!;
    expect((await failure(run(list, { layout: 'list' }))).message).toMatch(/integer indices/);
    const unnamed = await failure(run(wideBatch((f) => `x${names.indexOf(f)}`), { layout: 'wide' }));
    expect([unnamed.code, unnamed.message]).toEqual(['SCHEMA_MISMATCH', expect.stringMatching(/none of which is a model feature/)]);
  });

  it('a model without names, or with the indices "0"…"4" of a model file, still takes integer ids and lists by position', async () => {
    const byIndex = { ...model, featureNames: names.map((_, i) => String(i)) };
    const unnamed: ProjectModel = { loss: model.loss, rank: model.rank, features: m, W: model.W, d: model.d };
    for (const other of [byIndex, unnamed]) expect(codes(await run(longBatch('int'), { layout: 'long' }, other))).toEqual(want(expected()));
  });
});

describe('nmflow project with a model of other features', () => {
  const dir = tmpDir('project-features');
  const A: CscMatrix = { m, n: 3, colPtr: Int32Array.of(0, 2, 4, 5), rowIdx: Int32Array.of(0, 3, 1, 4, 2), values: Float64Array.of(1, 2, 3, 4, 5) };
  const mtx = join(dir, 'data.mtx');
  writeFileSync(mtx, '%%MatrixMarket matrix coordinate real general\n5 3 5\n1 1 1\n4 1 2\n2 2 3\n5 2 4\n3 3 5\n');

  it('a .mtx against a model with feature names is a one-line SCHEMA_MISMATCH; against an unnamed model it is projected', async () => {
    const fitted = await fitModel(fromCsc(A, { featureNames: names }), { rank: 2, maxIterations: 3 });
    await writeModel(join(dir, 'named.arrow'), fitted);
    await writeModel(join(dir, 'unnamed.arrow'), { ...fitted, featureNames: undefined } as never);
    const bad = await nmflow('project', join(dir, 'named.arrow'), mtx, '--out', join(dir, 'codes.arrow'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/features are named \("ACTB".*Matrix Market/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    const good = await nmflow('project', join(dir, 'unnamed.arrow'), mtx, '--out', join(dir, 'codes.arrow'), '--json');
    expect([good.code, JSON.parse(good.stdout).samples]).toEqual([0, 3]);
  });
});
