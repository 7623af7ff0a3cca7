/**
 * The second Parquet engine: hyparquet (pure JS, + hyparquet-compressors), for files that parquet-wasm
 * refuses to open although their footer is sound. Seen with every file written by parquetjs-lite:
 * its page index lacks the required `null_pages` field, and parquet-wasm's file reader rejects the
 * whole file ("Required field null_pages is missing"); hyparquet does not read page indexes.
 *
 * A row group is decoded at once (hyparquet has no batch cursor) in the decoder's worker thread, under its
 * time limit (parquet-worker.ts: `decode`), converted here to Arrow vectors with types taken from the Parquet
 * schema, and cut into record batches of `batchSize` rows. Slower than parquet-wasm (see
 * bench/parquet-readers.ts), but the values are exact.
 */
import {
  Bool, Field, Float32, Float64, Int32, Int64, List, RecordBatch, Struct, Table, Utf8, makeVector, vectorFromArray, type DataType,
  type Vector,
} from 'apache-arrow';
import { parquetSchema, type FileMetaData, type SchemaTree } from 'hyparquet';
import { DataError } from '../errors.js';
import type { SourceBatch } from './batch-source.js';
import { fileError } from './file-handles.js';

/** The Arrow type hyparquet's values of a schema node become; undefined when not supported here. */
export function arrowTypeOf(node: SchemaTree): DataType | undefined {
  const e = node.element;
  if (e.converted_type === 'LIST' || e.logical_type?.type === 'LIST') {
    const repeated = node.children[0];
    const element = repeated && repeated.children.length === 1 ? repeated.children[0] : repeated;
    const inner = element && arrowTypeOf(element);
    return inner && new List(new Field(element.element.name, inner, true));
  }
  if (node.children.length > 0) {
    const fields = node.children.map((c) => ({ name: c.element.name, type: arrowTypeOf(c) }));
    if (fields.some((f) => !f.type)) return undefined;
    return new Struct(fields.map((f) => new Field(f.name, f.type!, true)));
  }
  // hyparquet turns decimals into doubles; dates, times and timestamps are not features or ids.
  if (e.converted_type === 'DECIMAL' || e.logical_type?.type === 'DECIMAL') return new Float64();
  const logical = e.logical_type?.type ?? e.converted_type;
  if (logical !== undefined && !/^(INTEGER|U?INT_\d+|STRING|UTF8|ENUM)$/.test(logical)) return undefined;
  switch (e.type) {
    case 'INT32': return new Int32();
    case 'INT64': return new Int64();
    case 'FLOAT': return new Float32();
    case 'DOUBLE': return new Float64();
    case 'BOOLEAN': return new Bool();
    case 'BYTE_ARRAY': return e.converted_type === 'UTF8' || e.logical_type?.type === 'STRING' ? new Utf8() : undefined;
    default: return undefined;
  }
}

/** The file's top-level columns as Arrow fields (unsupported types are left out). */
export function arrowFieldsOf(footer: FileMetaData): Field[] {
  const fields: Field[] = [];
  for (const node of parquetSchema(footer).children) {
    const type = arrowTypeOf(node);
    if (type) fields.push(new Field(node.element.name, type, true));
  }
  return fields;
}

/** Decodes rows [rowStart, rowEnd) of `columns` with hyparquet (in the decoder's worker): each column's values. */
export type DecodeRows = (rowStart: number, rowEnd: number, columns: string[], group: number) => Promise<Record<string, ArrayLike<unknown>>>;

export async function* hyparquetBatches(decode: DecodeRows, footer: FileMetaData, path: string,
  columns: readonly string[] | undefined, batchSize: number, closed: () => boolean): AsyncGenerator<SourceBatch> {
  const fields = arrowFieldsOf(footer).filter((f) => !columns || columns.includes(f.name));
  const names = fields.map((f) => f.name);
  let rowStart = 0;
  for (let g = 0; g < footer.row_groups.length; g++) {
    const rows = Number(footer.row_groups[g]!.num_rows);
    let decoded: Map<string, ArrayLike<unknown>>;
    try {
      decoded = new Map(Object.entries(await decode(rowStart, rowStart + rows, names, g)));
    } catch (err) {
      if (closed()) return;
      throw fileError('MALFORMED_FILE', `cannot decode row group ${g}`, err, { source: path, batch: g, row: rowStart });
    }
    const vectors: Record<string, Vector> = {};
    for (const field of fields) {
      const data = decoded.get(field.name);
      if (!data || data.length !== rows) {
        throw new DataError('MALFORMED_FILE', `row group ${g}: column "${field.name}" decoded to ${data?.length ?? 0} rows, not ${rows}`,
          { source: path, batch: g, row: rowStart, column: field.name });
      }
      // Typed arrays (flat numeric columns without nulls) become vectors without a copy.
      vectors[field.name] = ArrayBuffer.isView(data) && !(data instanceof DataView)
        ? makeVector(data as Float64Array)
        : vectorFromArray(Array.from(data as ArrayLike<unknown>), field.type as DataType);
    }
    const table = new Table(vectors);
    for (let start = 0; start < rows; start += batchSize) {
      for (const batch of table.slice(start, Math.min(rows, start + batchSize)).batches as RecordBatch[]) {
        yield { batch, where: { source: path, batch: g, rowOffset: rowStart + start, unit: 'row group' } };
      }
    }
    rowStart += rows;
  }
}
