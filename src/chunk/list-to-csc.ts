/**
 * Sparse-vector-list layout → CSC chunks: one table row per sample, with either two parallel list
 * columns (integer feature indices, numeric values) or one list<struct<index, value>> column.
 * A null list is an empty sample; a null value or a zero is skipped; a null index, an index outside
 * [0, m), a negative / NaN / infinite value, or lists of different lengths in one row are DataErrors
 * naming file, batch / row group, row and column. With `missing` (`missing: 'nan'`) a NaN value is kept and a
 * NULL value becomes NaN: missing entries.
 *
 * Zero-copy: int32 indices and float64 values of one batch are appended as runs of the list's child
 * arrays, so a chunk inside one batch with no zeros is a view of the batch's buffers.
 */
import { DataType, type Data, type RecordBatch } from 'apache-arrow';
import { columnData, dataError, isValidAt, nullsOf, numberValues, typeError, valueError, type BatchWhere } from './arrow-column.js';
import { ChunkBuilder } from './chunk-builder.js';
import type { CscChunk } from './csc-chunk.js';
import { toIndices } from './id-dictionary.js';

export interface ListToCscOptions {
  readonly m: number;
  readonly chunkSize: number;
  /** n when known: the table must not have more rows; trailing empty samples are emitted. */
  readonly samples: number | undefined;
  readonly indices: string;
  readonly values: string;
  /** The list<struct<index, value>> column, instead of `indices` + `values`. */
  readonly entries: string | undefined;
  readonly indexBase: number;
  /** `missing: 'nan'`: a NaN value is kept (a missing entry) and a NULL value becomes one; else NaN is INVALID_VALUE, NULL no entry. */
  readonly missing?: boolean | undefined;
}

interface ListColumn { offsets: ArrayLike<number | bigint>; nulls: Uint8Array | null; offset: number; child: Data }

function listColumn(data: Data, column: string, where: BatchWhere): ListColumn {
  if (!DataType.isList(data.type) && !DataType.isLargeList(data.type)) throw typeError(data, 'a list type', column, where);
  const child = data.children[0];
  if (!child) throw typeError(data, 'a list with a child column', column, where);
  return { offsets: data.valueOffsets as ArrayLike<number | bigint>, nulls: nullsOf(data), offset: data.offset, child };
}

/** The `index` and `value` children of a list<struct> column (else its first two children). */
function structChildren(child: Data, column: string, where: BatchWhere): [Data, Data] {
  if (!DataType.isStruct(child.type)) throw typeError(child, 'list<struct<index, value>>', column, where);
  const names = child.type.children.map((f) => f.name);
  const i = names.indexOf('index') >= 0 ? names.indexOf('index') : 0;
  const v = names.indexOf('value') >= 0 ? names.indexOf('value') : 1;
  const index = child.children[i];
  const value = child.children[v];
  if (!index || !value || i === v) throw typeError(child, 'list<struct<index, value>>', column, where);
  return [index, value];
}

/** The feature-index child of a list layout's index column and the table row of each of its entries (for a first pass that only scans ids). */
export function listIndexData(batch: RecordBatch, column: string, entries: boolean, where: BatchWhere): [Data, (p: number) => number] {
  const list = listColumn(columnData(batch, column, where), column, where);
  return [entries ? structChildren(list.child, column, where)[0] : list.child, listRowOf(list.offsets, batch.numRows)];
}

/** The table row of entry p of a list column's child: the last r < rows with offsets[r] ≤ p (for error locations only). */
function listRowOf(offsets: ArrayLike<number | bigint>, rows: number): (p: number) => number {
  return (p) => {
    let lo = 0;
    let hi = rows - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (Number(offsets[mid]!) <= p) lo = mid; else hi = mid - 1;
    }
    return lo;
  };
}

/** One per subscription. */
export class ListToCsc {
  private readonly builder: ChunkBuilder;
  private nextSample = 0;

  constructor(private readonly o: ListToCscOptions) {
    this.builder = new ChunkBuilder(o.m, o.chunkSize);
  }

  push(batch: RecordBatch, where: BatchWhere): CscChunk[] {
    const o = this.o;
    const indexColumn = o.entries ?? o.indices;
    const valueColumn = o.entries ?? o.values;
    const list = listColumn(columnData(batch, indexColumn, where), indexColumn, where);
    const valueList = o.entries === undefined ? listColumn(columnData(batch, valueColumn, where), valueColumn, where) : list;
    const [indexData, valueData] = o.entries === undefined ? [list.child, valueList.child] : structChildren(list.child, indexColumn, where);
    const rows = toIndices(indexData, indexColumn, where, o.indexBase, null, listRowOf(list.offsets, batch.numRows));
    const values = numberValues(valueData, valueColumn, where);
    const indexNulls = nullsOf(indexData);
    const valueNulls = nullsOf(valueData);
    const b = this.builder;
    const m = o.m;
    const limit = o.samples ?? 2 ** 31 - 1;
    const out: CscChunk[] = [];
    let chunkEnd = b.colEnd;
    for (let r = 0; r < batch.numRows; r++) {
      const j = this.nextSample++;
      if (j >= limit) throw dataError('INDEX_OUT_OF_RANGE', `row ${j} is past the ${limit} samples of option \`samples\``, where, r, indexColumn);
      while (j >= chunkEnd) { out.push(b.finish(o.chunkSize)); chunkEnd = b.colEnd; }
      b.startColumn(j - b.colStart);
      if (list.nulls && !isValidAt(list.nulls, list.offset + r)) continue;
      const start = Number(list.offsets[r]!);
      const end = Number(list.offsets[r + 1]!);
      const shift = Number(valueList.offsets[r]!) - start;
      if (Number(valueList.offsets[r + 1]!) - shift !== end) {
        throw dataError('SHAPE_MISMATCH', `"${indexColumn}" has ${end - start} entries but "${valueColumn}" has ${Number(valueList.offsets[r + 1]!) - start - shift}`,
          where, r, valueColumn, { sample: j });
      }
      let run = start;
      for (let p = start; p < end; p++) {
        const i = rows[p]!;
        if (indexNulls && !isValidAt(indexNulls, indexData.offset + p)) {
          throw dataError('INVALID_VALUE', 'null feature index', where, r, indexColumn, { sample: j });
        }
        if (i < 0 || i >= m) {
          throw dataError('INDEX_OUT_OF_RANGE', `feature index ${i} is outside [0, ${m})`, where, r, indexColumn, { feature: i, sample: j });
        }
        const v = values[p + shift]!;
        const isNull = valueNulls !== null && !isValidAt(valueNulls, valueData.offset + p + shift);
        if (v === 0 || isNull) {
          b.appendRun(rows, run, values, run + shift, p - run);
          run = p + 1;
          if (isNull && o.missing) b.append(i, Number.NaN); // a NULL value: a missing entry
          continue;
        }
        if ((!(v > 0) || v === Infinity) && !(o.missing && v !== v)) throw valueError(v, where, r, valueColumn, { feature: i, sample: j });
      }
      b.appendRun(rows, run, values, run + shift, end - run);
    }
    return out;
  }

  finish(): CscChunk[] {
    const n = this.o.samples ?? this.nextSample;
    return this.builder.finishAll(n);
  }
}
