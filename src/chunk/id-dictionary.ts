/**
 * Feature and sample ids → 0-based indices. Integer ids are indices (id − indexBase); string ids go
 * through a dictionary: for features a fixed one (the user's `featureNames`, or the sorted distinct ids
 * of a first pass) or, with `unknownFeatures: 'extend'`, one that starts from the user's names and
 * appends each new id; for samples one that numbers ids in order of first appearance.
 *
 * `toIndices` converts one column of one record batch into an Int32Array: the column's own buffer
 * for int32 ids with indexBase 0 (no copy), else one new array. An id below `indexBase` is
 * INDEX_OUT_OF_RANGE (file, batch / row group, row, column; `rowOf` maps a position in `data` to its table
 * row, for the child column of a list). Null ids become -1 (or keep whatever the buffer holds, on the
 * no-copy path); callers check the validity bitmap and report them.
 */
import { DataType, makeVector, type Data } from 'apache-arrow';
import { dataError, isIntegerType, isStringType, nullsOf, isValidAt, typeError, type BatchWhere } from './arrow-column.js';

/** Maps a string id to an index, or throws a DataError for row `row` (within the batch). */
export type IdLookup = (id: string, row: number) => number;

/** A fixed dictionary: index = position in `names`. */
export function fixedLookup(names: readonly string[], column: string, what: string, getWhere: () => BatchWhere): IdLookup {
  const index = new Map<string, number>();
  names.forEach((name, i) => index.set(name, i));
  return (id, row) => {
    const i = index.get(id);
    if (i === undefined) {
      throw dataError('INDEX_OUT_OF_RANGE', `${what} id ${JSON.stringify(id)} is not one of the ${names.length} ${what} names`,
        getWhere(), row, column);
    }
    return i;
  };
}

/**
 * Numbers string ids in order of first appearance, after the `initial` ones (index = position); an id
 * seen before keeps its number. `ids` is the live list: it grows as new ids are looked up.
 */
export function appearanceLookup(initial: readonly string[] = []): IdLookup & { readonly ids: string[] } {
  const ids = [...initial];
  const index = new Map<string, number>(ids.map((id, i) => [id, i]));
  const lookup = (id: string): number => {
    let i = index.get(id);
    if (i === undefined) { i = ids.length; index.set(id, i); ids.push(id); }
    return i;
  };
  return Object.assign(lookup, { ids });
}

/** One id column of one batch as 0-based indices (see the header). */
export function toIndices(data: Data, column: string, where: BatchWhere, indexBase: number, lookup: IdLookup | null,
  rowOf: (p: number) => number = (p) => p): Int32Array {
  const t = data.type;
  const n = data.length;
  const nulls = nullsOf(data);
  if (DataType.isInt(t) && t.bitWidth === 32 && t.isSigned && indexBase === 0) {
    const v = data.values as Int32Array;
    checkNonNegative(v, n, nulls, data.offset, column, where, rowOf);
    return v.length === n ? v : v.subarray(0, n);
  }
  const out = new Int32Array(n);
  if (isIntegerType(t)) {
    const v = data.values as ArrayLike<number | bigint>;
    for (let r = 0; r < n; r++) {
      if (nulls && !isValidAt(nulls, data.offset + r)) { out[r] = -1; continue; }
      const x = Number(v[r]!) - indexBase;
      if (!(x >= 0 && x < 2 ** 31)) {
        throw dataError('INDEX_OUT_OF_RANGE', `id ${String(v[r])} gives index ${x}, outside [0, 2^31)`, where, rowOf(r), column);
      }
      out[r] = x;
    }
    return out;
  }
  if (!isStringType(t)) throw typeError(data, 'an integer or string type', column, where);
  if (!lookup) throw typeError(data, 'integer ids (string ids need feature names)', column, where);
  if (DataType.isDictionary(t) && data.dictionary) {
    const dict = data.dictionary;
    const mapped = new Int32Array(dict.length).fill(-1);
    const keys = data.values as ArrayLike<number>;
    for (let r = 0; r < n; r++) {
      if (nulls && !isValidAt(nulls, data.offset + r)) { out[r] = -1; continue; }
      const k = keys[r]!;
      // Map each dictionary entry once, on first use, so that appearance order follows the rows.
      if (mapped[k] === -1) mapped[k] = lookup(String(dict.get(k)), r);
      out[r] = mapped[k]!;
    }
    return out;
  }
  const vector = makeVector(data);
  for (let r = 0; r < n; r++) {
    const s = vector.get(r) as string | null;
    out[r] = s === null ? -1 : lookup(s, r);
  }
  return out;
}

/** The int32 fast path passes ids through as indices: a negative one (not under a null) is INDEX_OUT_OF_RANGE, never index −1 or below. */
function checkNonNegative(v: Int32Array, n: number, nulls: Uint8Array | null, offset: number, column: string, where: BatchWhere,
  rowOf: (p: number) => number): void {
  // The sign bits of all ids at once (a tight loop); only a negative one needs the row-by-row look.
  let any = 0;
  for (let r = 0; r < n; r++) any |= v[r]!;
  if (any >= 0) return;
  for (let r = 0; r < n; r++) {
    if (v[r]! < 0 && !(nulls && !isValidAt(nulls, offset + r))) {
      throw dataError('INDEX_OUT_OF_RANGE', `id ${v[r]} gives index ${v[r]}, outside [0, 2^31)`, where, rowOf(r), column);
    }
  }
}

/** What a first pass over an id column learns: the largest integer index, or the distinct strings (in order of first appearance). */
export interface IdScan {
  maxIndex: number;
  strings: Set<string> | null;
}

export function scanIds(data: Data, column: string, where: BatchWhere, indexBase: number, acc: IdScan,
  rowOf?: (p: number) => number): void {
  if (isStringType(data.type)) {
    const strings = acc.strings ?? (acc.strings = new Set());
    const vector = makeVector(data);
    if (DataType.isDictionary(data.type) && data.dictionary && data.nullCount === 0) {
      const keys = data.values as ArrayLike<number>;
      const seen = new Uint8Array(data.dictionary.length);
      for (let r = 0; r < data.length; r++) {
        const k = keys[r]!;
        if (seen[k] === 0) { seen[k] = 1; strings.add(String(data.dictionary.get(k))); }
      }
      return;
    }
    for (let r = 0; r < data.length; r++) { const s = vector.get(r) as string | null; if (s !== null) strings.add(s); }
    return;
  }
  const idx = toIndices(data, column, where, indexBase, null, rowOf);
  let max = acc.maxIndex;
  for (let r = 0; r < idx.length; r++) if (idx[r]! > max) max = idx[r]!;
  acc.maxIndex = max;
}

/** Sorted distinct strings (by UTF-16 code units, the same on every platform). */
export function sortedNames(strings: Set<string>): string[] {
  return [...strings].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
