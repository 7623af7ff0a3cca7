/**
 * Checks that a decoded record batch's buffers hold what its lengths say, before any converter reads it.
 * apache-arrow builds a column from a file's lengths and offsets without comparing them with the buffers
 * (a typed-array view is cut to what is there), so a damaged length would have the converters read
 * `undefined` as values, or loop over rows that do not exist. Checked for every column, nested ones included:
 * each column has the batch's row count; value buffers hold its values (× the type's stride), validity
 * bitmaps offset + length bits; string, binary and list offsets start ≥ 0, never decrease and end inside
 * their values / child; dictionary indices lie inside the dictionary. (Arrow JS slices value and offset
 * buffers with the data — row r is `values[r]`, `valueOffsets[r]` — but not bitmaps: bit offset + r.) Cost: O(rows) only for offset and
 * dictionary columns, O(columns) otherwise. A failure is MALFORMED_FILE naming the file, the batch or row
 * group, and the column.
 */
import { DataType, type Data, type RecordBatch, type Vector } from 'apache-arrow';
import { dataError, type BatchWhere } from '../chunk/arrow-column.js';

class BufferError extends Error {}

const fail = (what: string): never => { throw new BufferError(what); };

export function checkBatch(batch: RecordBatch, where: BatchWhere): void {
  const fields = batch.schema.fields;
  const children = batch.data.children;
  if (children.length !== fields.length) {
    throw dataError('MALFORMED_FILE', `the record batch has ${children.length} columns but its schema ${fields.length}`, where, undefined, '');
  }
  for (let i = 0; i < fields.length; i++) {
    const column = fields[i]!.name;
    try {
      if (children[i]!.length !== batch.numRows) fail(`${children[i]!.length} values in a batch of ${batch.numRows} rows`);
      checkData(children[i]!, 0);
    } catch (error) {
      if (!(error instanceof BufferError)) throw error;
      throw dataError('MALFORMED_FILE', `column "${column}" is damaged: ${error.message}`, where, undefined, column);
    }
  }
}

function checkData(data: Data, depth: number): void {
  if (depth > 64) fail('nested more than 64 deep');
  const { type, offset, length } = data;
  const end = offset + length;
  if (!(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0)) fail(`offset ${offset} and length ${length}`);
  const bitmap = data.nullBitmap;
  if (bitmap && bitmap.length > 0 && bitmap.length * 8 < end) fail(`a validity bitmap of ${bitmap.length} bytes for ${end} values`);
  if (data.nullCount > length) fail(`${data.nullCount} nulls among ${length} values`);
  const values = data.values as ArrayLike<unknown> | undefined;
  const children = data.children;
  if (DataType.isDictionary(type)) {
    if (!values || values.length < length) fail(`${values?.length ?? 0} dictionary indices for ${length} values`);
    const dictionary = data.dictionary as Vector | undefined;
    if (!dictionary) fail('a dictionary-encoded column without its dictionary');
    const size = dictionary!.length;
    const keys = values as ArrayLike<number | bigint>;
    for (let r = 0; r < length; r++) {
      const key = Number(keys[r]);
      const bit = offset + r;
      if (!(key >= 0 && key < size) && (bitmap === null || bitmap.length === 0 || ((bitmap[bit >> 3]! >> (bit & 7)) & 1) === 1)) {
        fail(`dictionary index ${key} at row ${r}; the dictionary has ${size} entries`);
      }
    }
    for (const piece of dictionary!.data) checkData(piece, depth + 1);
  } else if (DataType.isBool(type)) {
    if (!values || values.length * 8 < end) fail(`${values?.length ?? 0} bytes of booleans for ${end} values`);
  } else if (DataType.isInt(type) || DataType.isFloat(type) || DataType.isDecimal(type) || DataType.isDate(type) || DataType.isTime(type)
    || DataType.isTimestamp(type) || DataType.isInterval(type) || DataType.isDuration(type) || DataType.isFixedSizeBinary(type)) {
    if (!values || values.length < length * data.stride) fail(`${values?.length ?? 0} entries in its value buffer for ${length} values`);
  } else if (DataType.isUtf8(type) || DataType.isBinary(type) || DataType.isLargeUtf8(type) || DataType.isLargeBinary(type)) {
    checkOffsets(data, values?.length ?? 0, 'bytes');
  } else if (DataType.isList(type) || DataType.isMap(type)) {
    const child = children[0];
    if (!child) fail('a list without its values');
    checkOffsets(data, child!.length, 'list values');
    checkData(child!, depth + 1);
  } else if (DataType.isFixedSizeList(type)) {
    const child = children[0];
    if (!child || child.length < length * type.listSize) fail(`${child?.length ?? 0} list values for ${length} lists of ${type.listSize}`);
    checkData(child!, depth + 1);
  } else if (DataType.isStruct(type)) {
    for (const child of children) {
      if (child.length < length) fail(`a struct field with ${child.length} values for ${length} rows`);
      checkData(child, depth + 1);
    }
  }
}

/** Offsets 0 … length (sliced with the data): inside the offsets buffer, ≥ 0, nondecreasing, ending inside `limit`. */
function checkOffsets(data: Data, limit: number, what: string): void {
  const { length } = data;
  const offsets = data.valueOffsets as ArrayLike<number | bigint> | undefined;
  if (!offsets || offsets.length < length + 1) fail(`${offsets?.length ?? 0} offsets for ${length} values`);
  let previous = Number(offsets![0]);
  if (!(previous >= 0)) fail(`a negative offset (${previous})`);
  for (let r = 1; r <= length; r++) {
    const next = Number(offsets![r]);
    if (!(next >= previous)) fail(`offsets decrease at row ${r - 1} (${previous} → ${next})`);
    previous = next;
  }
  if (previous > limit) fail(`offsets reach ${previous}, past the ${limit} ${what} there are`);
}
