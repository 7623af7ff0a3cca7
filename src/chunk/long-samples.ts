/**
 * Long (coordinate) record batches → complete samples, for projection (pipeline/project.ts): rows
 * (feature, sample, value) grouped by consecutive sample id. A sample is complete once a row of another
 * sample is seen; the last sample of a batch is carried over to the next batch, and `finish` gives it at
 * the end. Unlike LongToCsc (long-to-csc.ts), samples are not columns of a fixed matrix: sample ids may be
 * any integers (no gaps filled) or strings, and nothing is kept per sample once it has been emitted.
 *
 * Per row: an integer sample id below the previous one is UNSORTED_INPUT; a null sample or feature id, or
 * a negative / NaN / infinite value, is INVALID_VALUE; a feature the model does not have is
 * INDEX_OUT_OF_RANGE unless `ignoreUnknown`. Null values and zeros are skipped; a sample's rows are put in
 * feature order and repeated features summed (sum-duplicates.ts), as in every source. Each output sample
 * keeps its id and the `passThrough` columns of its first row.
 */
import { makeVector, vectorFromArray, type Data, type Field, type RecordBatch, type Vector } from 'apache-arrow';
import { columnData, dataError, isIntegerType, isStringType, isValidAt, nullsOf, toFloat64, typeError, type BatchWhere } from './arrow-column.js';
import { makeCscChunk, type CscChunk } from './csc-chunk.js';
import { toIndices } from './id-dictionary.js';
import { sumDuplicates } from './sum-duplicates.js';

export interface LongSamplesOptions {
  readonly m: number;
  readonly feature: string;
  readonly sample: string;
  readonly value: string;
  readonly indexBase: number;
  /** String feature ids → feature index. */
  readonly names: ReadonlyMap<string, number> | undefined;
  readonly ignoreUnknown: boolean;
  /** Columns copied from each sample's first row (the sample id column comes first anyway). */
  readonly passThrough: readonly string[];
}

/** Complete samples: their CSC chunk and the output columns (sample id, pass-through), one row per sample. */
export interface SampleBatch { chunk: CscChunk; fields: Field[]; columns: Data[] }

type Key = number | bigint | string;
interface Open { key: Key; row: unknown[]; features: Int32Array; values: Float64Array }

export class LongSamples {
  private carry: Open | null = null;
  private fields: Field[] | undefined;
  private readonly kept: string[];

  constructor(private readonly o: LongSamplesOptions) {
    this.kept = [o.sample, ...o.passThrough.filter((c) => c !== o.sample)];
  }

  push(batch: RecordBatch, where: BatchWhere): SampleBatch | null {
    const o = this.o;
    this.fields ??= this.kept.map((c) => { columnData(batch, c, where); return batch.schema.fields.find((f) => f.name === c)!; });
    const featureData = columnData(batch, o.feature, where);
    const sampleData = columnData(batch, o.sample, where);
    const valueData = columnData(batch, o.value, where);
    const lookup = o.names ? (id: string, r: number): number => {
      const i = o.names!.get(id);
      if (i !== undefined || o.ignoreUnknown) return i ?? -1;
      throw dataError('INDEX_OUT_OF_RANGE', `feature id ${JSON.stringify(id)} is not one of the model's ${o.m} features`, where, r, o.feature);
    } : null;
    const features = toIndices(featureData, o.feature, where, o.indexBase, lookup);
    const values = toFloat64(valueData, o.value, where);
    const keyAt = keyReader(sampleData, o.sample, where);
    const kept = this.kept.map((c) => makeVector(columnData(batch, c, where)) as Vector);
    const [featureNulls, sampleNulls, valueNulls] = [nullsOf(featureData), nullsOf(sampleData), nullsOf(valueData)];
    const n = batch.numRows;
    const carried = this.carry?.features.length ?? 0;
    const rowIdx = new Int32Array(carried + n);
    const vals = new Float64Array(carried + n);
    const colPtr: number[] = [0];
    const rows: unknown[][] = [];
    let open = this.carry;
    if (open) { rowIdx.set(open.features); vals.set(open.values); }
    let nnz = carried;
    let start = 0;
    for (let r = 0; r < n; r++) {
      if (sampleNulls && !isValidAt(sampleNulls, sampleData.offset + r)) throw dataError('INVALID_VALUE', 'null sample id', where, r, o.sample);
      const key = keyAt(r);
      if (!open || key !== open.key) {
        if (open) {
          if (typeof key !== 'string' && key < (open.key as number | bigint)) {
            throw dataError('UNSORTED_INPUT', `sample ${key} comes after sample ${open.key}: the long layout needs rows grouped and ordered by sample`,
              where, r, o.sample);
          }
          rows.push(open.row);
          colPtr.push(nnz);
        }
        open = { key, row: kept.map((v) => v.get(r)), features: rowIdx, values: vals };
        start = nnz;
      }
      const i = features[r]!;
      if (featureNulls && !isValidAt(featureNulls, featureData.offset + r)) throw dataError('INVALID_VALUE', 'null feature id', where, r, o.feature);
      if (i < 0 || i >= o.m) {
        if (o.ignoreUnknown) continue;
        throw dataError('INDEX_OUT_OF_RANGE', `feature index ${i} is outside the model's [0, ${o.m})`, where, r, o.feature, { feature: i });
      }
      const v = values[r]!;
      if (v === 0 || (valueNulls && !isValidAt(valueNulls, valueData.offset + r))) continue;
      if (!(v > 0) || v === Infinity) throw dataError('INVALID_VALUE', `value ${v} is not finite and nonnegative`, where, r, o.value, { feature: i });
      rowIdx[nnz] = i;
      vals[nnz++] = v;
    }
    // The last sample of the batch (entries [start, nnz)) may go on in the next one: carry it over.
    this.carry = open && { ...open, features: rowIdx.slice(start, nnz), values: vals.slice(start, nnz) };
    if (rows.length === 0) return null;
    return this.output(rows, Int32Array.from(colPtr), rowIdx.subarray(0, start), vals.subarray(0, start));
  }

  /** The carried sample, at the end of the input. */
  finish(): SampleBatch | null {
    const open = this.carry;
    this.carry = null;
    if (!open || !this.fields) return null;
    return this.output([open.row], Int32Array.of(0, open.features.length), open.features, open.values);
  }

  private output(rows: unknown[][], colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array): SampleBatch {
    const fields = this.fields!;
    const columns = fields.map((f, c) => vectorFromArray(rows.map((row) => row[c]), f.type).data[0]!);
    const arrays = sumDuplicates({ colPtr, rowIdx, values }, colPtr.length - 1) ?? { colPtr, rowIdx, values };
    return { chunk: makeCscChunk({ m: this.o.m, colStart: 0, ...arrays }), fields, columns };
  }
}

/** Row r's sample id, comparable with ===: the integer (number or bigint) or the string. */
function keyReader(data: Data, column: string, where: BatchWhere): (r: number) => Key {
  if (isIntegerType(data.type)) {
    const v = data.values as ArrayLike<number | bigint>;
    return (r) => v[r]!;
  }
  if (!isStringType(data.type)) throw typeError(data, 'an integer or string sample id', column, where);
  const vector = makeVector(data);
  return (r) => vector.get(r) as string;
}
