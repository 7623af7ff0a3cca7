/**
 * CSC chunks as Arrow record batches in the table layouts (source/layout.ts), 0-based integer ids — what `nmflow
 * convert` writes and `nmflow stream publish` sends as messages:
 *   long — feature int32, sample int32 (the chunk's colStart + j), value float64: one row per nonzero;
 *   wide — one float64 column per feature (named by `names`, else f0…f{m−1}), split so a batch has at most 2^22 cells;
 *   list — indices list<int32>, values list<float64>: one row per sample.
 * The schema metadata records `nmflow.features` (m) and, when given, `nmflow.samples` (n).
 */
import { Field, Float64, Int32, List, RecordBatch, Schema, Struct, makeData, type Data } from 'apache-arrow';
import { nnzOf, type CscChunk } from '../chunk/csc-chunk.js';

export type OutLayout = 'long' | 'wide' | 'list';

/** At most this many cells per wide output batch (m columns × rows), so a batch stays near 32 MB. */
const WIDE_CELLS = 1 << 22;

/** One chunk as record batches of the output layout (wide: split so that a batch has at most WIDE_CELLS cells). */
export function toBatches(chunk: CscChunk, layout: OutLayout, m: number, n: number | undefined, names: readonly string[] | undefined): RecordBatch[] {
  const nnz = nnzOf(chunk);
  const { colPtr, rowIdx, values } = chunk;
  const meta = new Map([['nmflow.features', String(m)], ...(n === undefined ? [] : [['nmflow.samples', String(n)] as [string, string]])]);
  const f64 = new Float64();
  const i32 = new Int32();
  if (layout === 'long') {
    const sample = new Int32Array(nnz);
    for (let j = 0; j < chunk.n; j++) sample.fill(chunk.colStart + j, colPtr[j]!, colPtr[j + 1]!);
    return [batchOf([['feature', i32, rowIdx.subarray(0, nnz)], ['sample', i32, sample], ['value', f64, values.subarray(0, nnz)]], nnz, meta)];
  }
  if (layout === 'list') {
    const listOf = (type: Int32 | Float64, child: Int32Array | Float64Array): Data => makeData({
      type: new List(new Field('item', type, false)) as List<Float64>, length: chunk.n, nullCount: 0, valueOffsets: colPtr.subarray(0, chunk.n + 1),
      child: plainData(type, nnz, child.subarray(0, nnz)) as Data<Float64>,
    }) as Data;
    const indices = listOf(i32, rowIdx);
    const vals = listOf(f64, values);
    const fields = [new Field('indices', indices.type, false), new Field('values', vals.type, false)];
    return [new RecordBatch(new Schema(fields, meta), makeData({ type: new Struct(fields), length: chunk.n, nullCount: 0, children: [indices, vals] }))];
  }
  const step = Math.max(1, Math.floor(WIDE_CELLS / Math.max(1, m)));
  const out: RecordBatch[] = [];
  for (let j0 = 0; j0 < chunk.n || (chunk.n === 0 && out.length === 0); j0 += step) {
    const rows = Math.max(0, Math.min(step, chunk.n - j0));
    const dense = Array.from({ length: m }, () => new Float64Array(rows));
    for (let j = 0; j < rows; j++) for (let p = colPtr[j0 + j]!; p < colPtr[j0 + j + 1]!; p++) dense[rowIdx[p]!]![j] = values[p]!;
    out.push(batchOf(dense.map((col, i) => [names?.[i] ?? `f${i}`, f64, col]), rows, meta));
  }
  return out;
}

function batchOf(columns: [string, Int32 | Float64, Int32Array | Float64Array][], length: number, meta: Map<string, string>): RecordBatch {
  const fields = columns.map(([name, type]) => new Field(name, type, false));
  const children = columns.map(([, type, data]) => plainData(type, length, data));
  return new RecordBatch(new Schema(fields, meta), makeData({ type: new Struct(fields), length, nullCount: 0, children }));
}

/** A non-null int32 or float64 column over `data` (no copy). */
const plainData = (type: Int32 | Float64, length: number, data: Int32Array | Float64Array): Data =>
  makeData({ type: type as Float64, length, nullCount: 0, data: data as Float64Array }) as Data;

