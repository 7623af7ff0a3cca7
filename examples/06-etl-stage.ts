// 06 — NMF as an ETL stage: Parquet in, Parquet out. We fit a model on the bundled hawaiibirds matrix,
// write the same counts as a long Parquet table (species, cell, value, plus a `survey` column that a
// real pipeline would carry along), then stream that table record batch by record batch through
// `project(model, …)` and write a Parquet table with one row per cell: cell, survey, factor_0…factor_5.
// Cells straddling record batches are carried over by the operator. Run: npx tsx examples/06-etl-stage.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Table, makeVector, vectorFromArray, Utf8, type RecordBatch } from 'apache-arrow';
import { concatMap, from, lastValueFrom, map, tap } from 'rxjs';
import { fitModel, fromParquet, loadMtx, openTableWriter, project, writeTable } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nmflow-etl-'));
const source = await loadMtx(fileURLToPath(new URL('./data/hawaiibirds.mtx.gz', import.meta.url)));
const model = await fitModel(source, { rank: 6, seed: 1 });
console.log(`model: ${model.features} species × rank ${model.rank}, relative loss ${model.relativeLoss.toFixed(4)}`);

// The upstream table: one row per nonzero, in record batches of 5000 rows (cells straddle batches).
const { colPtr, rowIdx, values, n } = source.matrix;
const cellOf = new Int32Array(rowIdx.length);
for (let j = 0; j < n; j++) cellOf.fill(j, colPtr[j]!, colPtr[j + 1]!);
const input = join(dir, 'observations.parquet');
const upstream: RecordBatch[] = [];
for (let p = 0; p < rowIdx.length; p += 5000) {
  const q = Math.min(rowIdx.length, p + 5000);
  upstream.push(new Table({
    species: makeVector(rowIdx.slice(p, q)), cell: makeVector(cellOf.slice(p, q)), value: makeVector(values.slice(p, q)),
    survey: vectorFromArray(Array.from(cellOf.subarray(p, q), (j) => `survey-${j % 4}`), new Utf8()),
  }).batches[0]!);
}
await writeTable(input, upstream, { rowGroupSize: 5000 });

// The stage: Parquet record batches → codes → Parquet. Each batch is projected as it arrives.
const output = join(dir, 'codes.parquet');
const writer = await openTableWriter(output);
const reader = fromParquet(input, { layout: 'long', feature: 'species', sample: 'cell', value: 'value', batchSize: 4096 });
let first: RecordBatch | undefined;
await lastValueFrom(from({ [Symbol.asyncIterator]: () => reader.batches() }).pipe(
  map(({ batch }) => batch),
  project(model, { layout: 'long', feature: 'species', sample: 'cell', value: 'value', passThrough: ['survey'] }),
  tap((batch) => { first ??= batch; }),
  concatMap((batch) => writer.write(batch)),
), { defaultValue: undefined });
await writer.close();
console.log(`wrote ${writer.rows} rows in ${writer.batches} batches to codes.parquet`);
console.log(`columns: ${first!.schema.fields.map((f) => f.name).join(', ')}`);

// Read the result back (a wide table now: one row per cell) and show the dominant factor per survey.
const counts = new Map<string, number[]>();
const codes = fromParquet(output, { layout: 'wide' }).batches();
for (let r = await codes.next(); !r.done; r = await codes.next()) {
  const batch = r.value.batch;
  for (let row = 0; row < batch.numRows; row++) {
    const factors = Array.from({ length: model.rank }, (_, a) => batch.getChild(`factor_${a}`)!.get(row) as number);
    const survey = String(batch.getChild('survey')!.get(row));
    const tally = counts.get(survey) ?? new Array<number>(model.rank).fill(0);
    tally[factors.indexOf(Math.max(...factors))]! += 1;
    counts.set(survey, tally);
  }
}
for (const [survey, tally] of [...counts].sort()) console.log(`${survey}: cells per dominant factor ${tally.join(' ')}`);
rmSync(dir, { recursive: true, force: true });
