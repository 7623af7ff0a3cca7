/**
 * Integrity of model files (io/model-file.ts), issue #13:
 *  - a SHA-256 checksum: CSV — `sha256` in the sidecar JSON, over the CSV's bytes and the rest of the sidecar
 *    (model-csv.ts); CSV files of the first format — ` sha256=<hex>` at the end of the first line, over every other byte;
 *    Arrow and Parquet — schema metadata `nmflow.sha256` over the feature names, W (row-major float64 bytes)
 *    and every other `nmflow.*` metadata entry (d, loss, rank, trace, data fingerprint…), in key order.
 *    readModel verifies it (CHECKSUM_MISMATCH). A file without one (written before issue #13) is read unchecked,
 *    as is a CSV edited by hand whose token says `sha256=none`; a CSV first line with `data.*` tokens (written
 *    with a checksum) but none, or with a token nmflow does not write, is damaged.
 *  - values: W and d finite and ≥ 0, else INVALID_VALUE naming the feature, the factor and the value;
 *  - the data fingerprint of the fit (chunk/data-fingerprint.ts): `nmflow.data` (Arrow, Parquet), `data` in a CSV
 *    model's sidecar, or tokens ` data.nonzeros=…` in the first line of a CSV of the first format.
 */
import { createHash } from 'node:crypto';
import type { DataFingerprint } from '../chunk/data-fingerprint.js';
import { DataError } from '../errors.js';

export const CHECKSUM_KEY = 'nmflow.sha256';
export const DATA_KEY = 'nmflow.data';
const CSV_CHECKSUM = / sha256=(\S*)\r?$/;
/** The tokens of a CSV model's first line (`# nmflow model: loss=l2 rank=3 …`), as io/model-file.ts writes them. */
const CSV_TOKEN = /^(loss|rank|features|samples|iterations|relativeLoss|data\.\w+|sha256)=\S*$/;
const FIELDS = ['features', 'samples', 'nonzeros', 'sum', 'sumSquares', 'featureMoment', 'sampleMoment'] as const;

/** Verifies the checksum of a CSV model, when its first line has one. */
export function verifyCsvChecksum(text: string, path: string): void {
  const cut = text.indexOf('\n');
  const first = cut < 0 ? text : text.slice(0, cut);
  checkCsvFirstLine(first, path);
  const match = CSV_CHECKSUM.exec(first);
  if (match === null && / data\./.test(first)) {
    throw new DataError('CHECKSUM_MISMATCH', 'the model file is damaged: its first line has the data fingerprint but no sha256= checksum (truncated or altered)', { source: path, line: 1 });
  }
  if (match === null || match[1] === 'none') return; // written before checksums, or edited by hand: read unchecked
  const token = ` sha256=${match[1]!}`;
  compare(sha256(text.slice(0, match.index) + text.slice(match.index + token.length)), match[1]!, path);
}

function checkCsvFirstLine(first: string, path: string): void {
  if (!first.startsWith('# nmflow model:')) return;
  const odd = first.slice('# nmflow model:'.length).trim().split(/\s+/).find((token) => !CSV_TOKEN.test(token));
  if (odd !== undefined) {
    throw new DataError('MALFORMED_FILE', `the model's first line has ${JSON.stringify(odd.slice(0, 40))}, not one of loss=, rank=, features=, samples=, iterations=, relativeLoss=, data.*=, sha256= (damaged)`, { source: path, line: 1 });
  }
}

/** The metadata with its checksum entry added. */
export function sealMetadata(metadata: Record<string, string>, W: Float64Array, names: readonly string[]): Record<string, string> {
  return { ...metadata, [CHECKSUM_KEY]: tableChecksum(new Map(Object.entries(metadata)), W, names) };
}

/** Verifies `nmflow.sha256` of an Arrow / Parquet model, when it has one. */
export function verifyTableChecksum(metadata: ReadonlyMap<string, string>, W: Float64Array, names: readonly string[], path: string): void {
  const stored = metadata.get(CHECKSUM_KEY);
  if (stored !== undefined) compare(tableChecksum(metadata, W, names), stored, path);
}

/** W (features × rank, row-major) and d: finite and ≥ 0. */
export function checkModelValues(W: Float64Array, d: Float64Array, names: readonly string[], path: string): void {
  const rank = d.length;
  for (let a = 0; a < rank; a++) {
    const v = d[a]!;
    if (!(v >= 0 && v < Infinity)) {
      throw new DataError('INVALID_VALUE', `the model's scale d of factor ${a} is ${v}; d must be finite and ≥ 0`, { source: path, column: `factor_${a}` });
    }
  }
  for (let q = 0; q < W.length; q++) {
    const v = W[q]!;
    if (v >= 0 && v < Infinity) continue;
    const i = Math.floor(q / rank), a = q % rank;
    throw new DataError('INVALID_VALUE', `the model's W at feature ${JSON.stringify(names[i] ?? String(i))}, factor ${a} is ${v}; W must be finite and ≥ 0`,
      { source: path, feature: i, column: `factor_${a}` });
  }
}

/**
 * The data fingerprint as text: `features=183 samples=1183 nonzeros=…` (numbers as JavaScript writes them, which
 * read back to the same bits) — the value of `nmflow.data`, and with the prefix `data.` tokens of a CSV's first line.
 */
export function dataEntry(data: DataFingerprint | undefined): Record<string, string> {
  return data === undefined ? {} : { [DATA_KEY]: FIELDS.map((f) => `${f}=${data[f]}`).join(' ') };
}

/** The data fingerprint of a CSV model's sidecar (`"data": {…}`). */
export function dataFromRecord(value: unknown, path: string): DataFingerprint {
  const record = typeof value === 'object' && value !== null ? value as Record<string, unknown> : {};
  return dataOf(FIELDS.map((f) => [f, typeof record[f] === 'number' ? String(record[f]) : undefined]), path).data;
}

/** The data fingerprint of an Arrow / Parquet model's `nmflow.data`, if present. */
export function tableDataOf(text: string | undefined, path: string): { data?: DataFingerprint } {
  return text === undefined ? {} : dataOf(text.split(' ').map((token) => token.split('=')), path);
}

/** The data fingerprint of a CSV model's first line, if it has `data.*` tokens. */
export function csvDataOf(line: string | undefined, path: string): { data?: DataFingerprint } {
  const tokens = [...(line ?? '').matchAll(/ data\.(\w+)=(\S*)/g)].map(([, key, value]) => [key, value]);
  return tokens.length === 0 ? {} : dataOf(tokens, path);
}

function dataOf(pairs: readonly (readonly (string | undefined)[])[], path: string): { data: DataFingerprint } {
  const values = new Map(pairs.map(([key, value]) => [key, Number(value ?? NaN)]));
  const missing = FIELDS.find((f) => !(values.get(f)! >= 0));
  if (missing !== undefined) {
    throw new DataError('MALFORMED_FILE', `the model's data fingerprint has no number ≥ 0 for ${missing} (expected ${FIELDS.join(', ')})`, { source: path, column: DATA_KEY });
  }
  return { data: Object.fromEntries(FIELDS.map((f) => [f, values.get(f)])) as unknown as DataFingerprint };
}

function tableChecksum(metadata: ReadonlyMap<string, string>, W: Float64Array, names: readonly string[]): string {
  const hash = createHash('sha256');
  for (const name of names) hash.update(name).update('\0');
  hash.update(new Uint8Array(W.buffer, W.byteOffset, W.byteLength));
  for (const key of [...metadata.keys()].sort()) {
    if (key.startsWith('nmflow.') && key !== CHECKSUM_KEY) hash.update(`${key}\0${metadata.get(key)}\0`);
  }
  return hash.digest('hex');
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function compare(actual: string, stored: string, path: string): void {
  if (actual === stored) return;
  throw new DataError('CHECKSUM_MISMATCH', `the model file is damaged: the SHA-256 of its contents is ${actual.slice(0, 16)}…, the file says ${stored.slice(0, 16) || '(nothing)'}… (truncated, overwritten or altered; a CSV model edited by hand is read unchecked with sha256=none)`, { source: path });
}
