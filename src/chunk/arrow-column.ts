/**
 * Arrow columns as typed arrays, at the boundary where record batches become chunks. A float64
 * column is returned as its own buffer (no copy); float32 and integer columns are widened once.
 * Every problem becomes a DataError that names the file, the batch or row group, the row in the file
 * and the table column.
 *
 * Arrow JS slices value buffers with the data (row r of a `Data` is `values[r]`), but not validity
 * bitmaps: the bit of row r is `offset + r`.
 */
import { DataType, type Data, type RecordBatch } from 'apache-arrow';
import { DataError, type DataLocation, type NmfErrorCode } from '../errors.js';

/** Where a record batch came from. */
export interface BatchWhere {
  /** File path (or a description of the input). */
  readonly source: string;
  /** Record batch index (Arrow) or row group index (Parquet), 0-based. */
  readonly batch: number;
  /** Row, in the whole file, of the batch's first row (0-based). */
  readonly rowOffset: number;
  /** What `batch` counts, for messages. */
  readonly unit: 'record batch' | 'row group';
}

/** The location of row `row` (0-based, within the batch) of table column `column`. */
export function locate(where: BatchWhere, row: number, column: string, extra?: DataLocation): DataLocation {
  return { ...extra, source: where.source, batch: where.batch, row: where.rowOffset + row, column };
}

export function dataError(code: NmfErrorCode, message: string, where: BatchWhere, row: number | undefined, column: string,
  extra?: DataLocation): DataError {
  const loc = row === undefined ? { source: where.source, batch: where.batch, column } : locate(where, row, column, extra);
  return new DataError(code, `${message} (in ${where.unit} ${where.batch})`, loc);
}

/** The data of table column `name`; SCHEMA_MISMATCH when the batch has no such column. */
export function columnData(batch: RecordBatch, name: string, where: BatchWhere): Data {
  const fields = batch.schema.fields;
  const i = fields.findIndex((f) => f.name === name);
  const data = i < 0 ? undefined : batch.data.children[i];
  if (!data) {
    throw dataError('SCHEMA_MISMATCH', `column "${name}" not found; the table has ${fields.map((f) => `"${f.name}"`).join(', ')}`,
      where, undefined, name);
  }
  return data;
}

/**
 * INVALID_VALUE for a value that is not finite and ≥ 0, naming the file, batch, row and column; a NaN says how it is
 * read as a missing entry instead (`missing: 'nan'`, issue #15).
 */
export function valueError(v: number, where: BatchWhere, row: number, column: string, extra: DataLocation): DataError {
  const hint = Number.isNaN(v) ? " (a missing entry? read and fit with missing: 'nan')" : '';
  return dataError('INVALID_VALUE', `value ${v} is not finite and nonnegative${hint}`, where, row, column, extra);
}

export const isIntegerType = (t: DataType): boolean => DataType.isInt(t);
export const isNumericType = (t: DataType): boolean => DataType.isInt(t) || (DataType.isFloat(t) && t.precision !== 0)
  || DataType.isDecimal(t) || (DataType.isDictionary(t) && isNumericType(t.dictionary));
export const isStringType = (t: DataType): boolean =>
  DataType.isUtf8(t) || DataType.isLargeUtf8(t) || (DataType.isDictionary(t) && isStringType(t.dictionary));

export function typeError(data: Data, expected: string, column: string, where: BatchWhere): DataError {
  return dataError('SCHEMA_MISMATCH', `column "${column}" has type ${String(data.type)}; expected ${expected}`, where, undefined, column);
}

/** The validity bitmap when the column has nulls, else null. */
export function nullsOf(data: Data): Uint8Array | null {
  return data.nullCount > 0 && data.nullBitmap ? data.nullBitmap : null;
}

export function isValidAt(bitmap: Uint8Array, bit: number): boolean {
  return ((bitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

/** A typed array of numbers (not bigints): what a float or ≤ 32-bit integer column's values are. */
export type NumberArray = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/**
 * A numeric column's values as numbers, without a copy when they already are (float64, float32, integers up to 32
 * bits: their own buffer, which ChunkBuilder.appendRun widens to float64 as it copies runs, in one pass); other types
 * (64-bit integers, decimals, dictionaries) as toFloat64. Null rows read whatever the buffer holds: callers check the
 * validity bitmap first.
 */
export function numberValues(data: Data, column: string, where: BatchWhere): NumberArray {
  const t = data.type;
  const direct = (DataType.isFloat(t) && t.precision !== 0) || (DataType.isInt(t) && t.bitWidth <= 32);
  if (!direct) return toFloat64(data, column, where);
  const v = data.values as NumberArray;
  return v.length === data.length ? v : v.subarray(0, data.length);
}

/** A numeric column as float64: its own buffer when it is float64, else a widened copy. Nulls read as 0. */
export function toFloat64(data: Data, column: string, where: BatchWhere): Float64Array {
  const t = data.type;
  const n = data.length;
  if (DataType.isFloat(t) && t.precision === 2) {
    const v = data.values as Float64Array;
    return v.length === n ? v : v.subarray(0, n);
  }
  if (DataType.isDictionary(t) && isNumericType(t.dictionary) && data.dictionary) {
    const dict = toFloat64(data.dictionary.data[0]!, column, where);
    const keys = data.values as ArrayLike<number>;
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) out[r] = dict[keys[r]!] ?? 0;
    return out;
  }
  if (DataType.isDecimal(t)) return decimalToFloat64(data.values as Uint32Array, n, t.bitWidth / 32, 10 ** t.scale);
  if (!isNumericType(t)) throw typeError(data, 'a float32, float64, integer or decimal type', column, where);
  const v = data.values as ArrayLike<number | bigint>;
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) out[r] = Number(v[r]!);
  return out;
}

/** Decimal (little-endian two's complement words) → nearest double: exact integer / 10^scale. */
function decimalToFloat64(words: Uint32Array, n: number, stride: number, scale: number): Float64Array {
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const b = r * stride;
    const lo = words[b]!;
    const hi = stride > 1 ? words[b + 1]! : (lo & 0x80000000 ? 0xffffffff : 0);
    const ext = hi & 0x80000000 ? 0xffffffff : 0;
    let small = Math.abs(hi | 0) < 0x200000;
    for (let k = 2; k < stride && small; k++) small = words[b + k] === ext;
    if (small) { out[r] = ((hi | 0) * 4294967296 + lo) / scale; continue; }
    let x = 0n;
    for (let k = stride - 1; k >= 0; k--) x = (x << 32n) | BigInt(words[b + k]!);
    if (ext) x -= 1n << BigInt(32 * stride);
    out[r] = Number(x) / scale;
  }
  return out;
}
