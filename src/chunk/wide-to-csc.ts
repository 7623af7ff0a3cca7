/**
 * Wide (dense) layout → CSC chunks: one table row per sample, one numeric column per feature.
 * Sample j is the j-th row over all batches and files; feature i is the i-th chosen column. Zeros and
 * nulls are skipped; a negative, NaN or infinite value is INVALID_VALUE naming file, batch / row group,
 * row and column. With `missing` (`missing: 'nan'`) NaN and NULL cells are missing entries (NaN). Cost O(rows × features) per batch (every cell is read once).
 */
import { DataType, type RecordBatch, type Schema } from 'apache-arrow';
import { columnData, dataError, isNumericType, isValidAt, nullsOf, toFloat64, valueError, type BatchWhere } from './arrow-column.js';
import { ChunkBuilder } from './chunk-builder.js';
import type { CscChunk } from './csc-chunk.js';

export interface WideToCscOptions {
  readonly chunkSize: number;
  /** n when known: the table must not have more rows; trailing empty samples are emitted. */
  readonly samples: number | undefined;
  /** The feature columns, in feature order (see `wideColumns`). */
  readonly columns: readonly string[];
  /** `missing: 'nan'`: a NaN or NULL cell is a missing entry (NaN); else NaN is INVALID_VALUE, NULL no entry. */
  readonly missing?: boolean | undefined;
}

/** The feature columns: `requested` checked against the schema, or every numeric column. */
export function wideColumns(schema: Schema, requested: readonly string[] | undefined, where: BatchWhere): string[] {
  if (requested) {
    for (const name of requested) {
      const field = schema.fields.find((f) => f.name === name);
      if (!field) throw dataError('SCHEMA_MISMATCH', `feature column "${name}" not found`, where, undefined, name);
      if (!isNumericType(field.type)) {
        throw dataError('SCHEMA_MISMATCH', `feature column "${name}" has type ${String(field.type)}; expected a float or integer type`,
          where, undefined, name);
      }
    }
    return [...requested];
  }
  const names = schema.fields.filter((f) => isNumericType(f.type) && !DataType.isDictionary(f.type)).map((f) => f.name);
  if (names.length === 0) throw dataError('SCHEMA_MISMATCH', 'the table has no numeric column to use as a feature', where, undefined, '*');
  return names;
}

/** One per subscription. */
export class WideToCsc {
  private readonly builder: ChunkBuilder;
  private nextSample = 0;

  constructor(private readonly o: WideToCscOptions) {
    this.builder = new ChunkBuilder(o.columns.length, o.chunkSize);
  }

  push(batch: RecordBatch, where: BatchWhere): CscChunk[] {
    const o = this.o;
    const m = o.columns.length;
    const data = o.columns.map((name) => columnData(batch, name, where));
    const values = data.map((d, i) => toFloat64(d, o.columns[i]!, where));
    const nulls = data.map(nullsOf);
    const offsets = data.map((d) => d.offset);
    const b = this.builder;
    const limit = o.samples ?? 2 ** 31 - 1;
    const out: CscChunk[] = [];
    let chunkEnd = b.colEnd;
    for (let r = 0; r < batch.numRows; r++) {
      const j = this.nextSample;
      if (j >= limit) throw dataError('INDEX_OUT_OF_RANGE', `row ${j} is past the ${limit} samples of option \`samples\``, where, r, o.columns[0]!);
      while (j >= chunkEnd) { out.push(b.finish(o.chunkSize)); chunkEnd = b.colEnd; }
      b.startColumn(j - b.colStart);
      for (let i = 0; i < m; i++) {
        const v = values[i]![r]!;
        const bits = nulls[i];
        if (bits && !isValidAt(bits, offsets[i]! + r)) {
          if (o.missing) b.append(i, Number.NaN); // a NULL cell: a missing entry
          continue;
        }
        if (v === 0) continue;
        if ((!(v > 0) || v === Infinity) && !(o.missing && v !== v)) throw valueError(v, where, r, o.columns[i]!, { feature: i, sample: j });
        b.append(i, v);
      }
      this.nextSample = j + 1;
    }
    return out;
  }

  finish(): CscChunk[] {
    const n = this.o.samples ?? this.nextSample;
    return this.builder.finishAll(n);
  }
}
