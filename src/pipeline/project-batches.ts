/**
 * Record batches → samples for project() (project.ts): a long table through LongSamples (a sample straddling
 * batches is carried over), wide and list tables one sample per row, converted as one chunk and remapped
 * onto the model's features by the column plan (project-plan.ts).
 */
import type { RecordBatch } from 'apache-arrow';
import { columnData, isIntegerType, type BatchWhere } from '../chunk/arrow-column.js';
import { LongSamples, type SampleBatch } from '../chunk/long-samples.js';
import { makeCscChunk, type CscChunk } from '../chunk/csc-chunk.js';
import { ListToCsc } from '../chunk/list-to-csc.js';
import { sumDuplicates } from '../chunk/sum-duplicates.js';
import { WideToCsc } from '../chunk/wide-to-csc.js';
import { settle, unnamedDataError, type ProjectPlan } from './project-plan.js';

/** What one batch gives: the samples as a chunk, and the input data of the columns to keep. */
export type Projected = SampleBatch;
export interface BatchProjector { push(batch: RecordBatch, where: BatchWhere): Projected | null; finish(): Projected | null }

export function longProjector(plan: ProjectPlan): BatchProjector | undefined {
  const { layout } = plan;
  if (layout.layout !== 'long') return undefined;
  const samples = new LongSamples({
    m: plan.model.features, feature: layout.feature, sample: layout.sample, value: layout.value, indexBase: layout.indexBase,
    names: plan.names, ignoreUnknown: plan.ignoreUnknown, passThrough: plan.passThrough ?? [],
  });
  return {
    push: (batch, where) => {
      const type = batch.schema.fields.find((f) => f.name === layout.feature)?.type;
      if (plan.named && type && isIntegerType(type)) throw unnamedDataError(plan.named, `integer ids (${String(type)})`, where, layout.feature);
      return samples.push(batch, where);
    },
    finish: () => samples.finish(),
  };
}

/** wide and list: one sample per row; the column plan is settled by the first batch. */
export function tableProjector(plan: ProjectPlan): BatchProjector {
  const { layout, model } = plan;
  let settled: { keep: string[]; columns: string[]; featureOf: Int32Array | null } | undefined;
  return {
    push: (batch, where) => {
      settled ??= settle(plan, batch.schema, where);
      const n = batch.numRows;
      const fields = settled.keep.map((c) => batch.schema.fields.find((f) => f.name === c)!);
      const columns = settled.keep.map((c) => columnData(batch, c, where));
      let chunk: CscChunk;
      if (n === 0) chunk = makeCscChunk({ m: model.features, colStart: 0, colPtr: new Int32Array(1), rowIdx: new Int32Array(0), values: new Float64Array(0) });
      else if (layout.layout === 'wide') chunk = remap(new WideToCsc({ chunkSize: n, samples: undefined, columns: settled.columns }), batch, where, settled.featureOf, model.features);
      else if (layout.layout === 'list') {
        const m = plan.ignoreUnknown ? 2 ** 31 - 1 : model.features;
        const { indexBase, indices, values, entries } = layout;
        chunk = remap(new ListToCsc({ m, chunkSize: n, samples: undefined, indices, values, entries, indexBase }), batch, where, null, model.features);
      } else throw new Error('unreachable');
      return { chunk, fields, columns };
    },
    finish: () => null,
  };
}

/** Converts one batch (as one chunk) and maps converter rows onto model features; rows ≥ m (ignored features) are dropped. */
function remap(converter: WideToCsc | ListToCsc, batch: RecordBatch, where: BatchWhere, featureOf: Int32Array | null, m: number): CscChunk {
  const chunk = [...converter.push(batch, where), ...converter.finish()][0]!;
  const { n, colPtr, rowIdx: rows, values: vals } = chunk;
  const rowIdx = new Int32Array(colPtr[n]!);
  const values = new Float64Array(colPtr[n]!);
  const ptr = new Int32Array(n + 1);
  let q = 0;
  for (let j = 0; j < n; j++) {
    for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) {
      const i = featureOf ? featureOf[rows[p]!]! : rows[p]!;
      if (i >= m) continue;
      rowIdx[q] = i;
      values[q++] = vals[p]!;
    }
    ptr[j + 1] = q;
  }
  // Columns in model order, repeats summed (chunk/sum-duplicates.ts): the codes do not depend on the table's column order.
  const arrays = sumDuplicates({ colPtr: ptr, rowIdx, values }, n) ?? { colPtr: ptr, rowIdx, values };
  return makeCscChunk({ m, colStart: 0, ...arrays });
}
