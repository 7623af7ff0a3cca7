/**
 * Model files: W (features × rank, with feature names), d and, when present, H.
 *  .csv   — `# nmflow model` comment lines (loss, rank, d as `# d,d0,d1,…`), then a header
 *           `feature,factor_0,…` and one line per feature (numbers with 17 significant digits).
 *  .arrow — an Arrow IPC file: columns `feature` (utf8) and `factor_0…` (float64); schema metadata
 *           `nmflow.d` (JSON array), `nmflow.loss`, `nmflow.rank`, `nmflow.trace` (JSON).
 *  .parquet — the same table written by parquet-wasm (zstd); the metadata travels in the file's
 *           Arrow schema, and any Parquet reader (DuckDB, pyarrow) reads the columns.
 * H goes to its own file (`writeFactorsH`): rank lines of samples numbers (CSV) or an Arrow table
 * with one row per sample. Every write is atomic (temporary name, then rename).
 * Models carry a SHA-256 checksum and the fit's data fingerprint, verified and checked by readModel
 * (io/model-integrity.ts).
 */
import { DataType, Table, Utf8, makeVector, tableFromIPC, tableToIPC, vectorFromArray, Schema, RecordBatch, makeData, Struct, type Field, type Vector } from 'apache-arrow';
import { readFile } from 'node:fs/promises';
import type { DataFingerprint } from '../chunk/data-fingerprint.js';
import { DataError } from '../errors.js';
import { checkModelValues, csvDataOf, dataEntry, dataTokens, DATA_KEY, tableDataOf, sealMetadata, verifyCsvChecksum, verifyTableChecksum, withCsvChecksum } from './model-integrity.js';
import { formatToRead, formatToWrite } from '../format/registry.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';
import { checkArrowIpc, IpcStructureError } from '../source/arrow-ipc-check.js';
import { writeFileAtomic } from './atomic-write.js';
import { ioError } from './io-error.js';
import { loadParquetWasm } from './parquet-wasm.js';

export type ModelFormat = 'csv' | 'arrow' | 'parquet';

/** The format a model is written in, by the path's ending (format/registry.ts; an OptionError for another ending). */
export function modelFormatOf(path: string): ModelFormat {
  return formatToWrite(path, 'model').name as ModelFormat;
}

function featureName(s: Snapshot, i: number): string {
  return s.featureNames?.[i] ?? String(i);
}

export async function writeModel(path: string, model: Snapshot): Promise<void> {
  const { features: m, rank: k, W, d } = model;
  if (modelFormatOf(path) === 'csv') {
    const lines = [`# nmflow model: loss=${model.loss} rank=${k} features=${m} samples=${model.samples} iterations=${model.iteration} relativeLoss=${model.relativeLoss}${dataTokens(model.data)}`,
      `# d,${Array.from(d, num).join(',')}`,
      ['feature', ...Array.from({ length: k }, (_, a) => `factor_${a}`)].join(',')];
    for (let i = 0; i < m; i++) {
      const row = [csvField(featureName(model, i))];
      for (let a = 0; a < k; a++) row.push(num(W[i * k + a]!));
      lines.push(row.join(','));
    }
    await writeFileAtomic(path, withCsvChecksum(lines.join('\n') + '\n'));
    return;
  }
  const names = Array.from({ length: m }, (_, i) => featureName(model, i));
  const columns: Record<string, Vector> = { feature: vectorFromArray(names, new Utf8()) };
  for (let a = 0; a < k; a++) {
    const col = new Float64Array(m);
    for (let i = 0; i < m; i++) col[i] = W[i * k + a]!;
    columns[`factor_${a}`] = makeVector(col);
  }
  const table = withMetadata(new Table(columns), sealMetadata({
    'nmflow.loss': model.loss, 'nmflow.rank': String(k), 'nmflow.samples': String(model.samples),
    'nmflow.d': JSON.stringify(Array.from(d)), 'nmflow.relativeLoss': String(model.relativeLoss),
    'nmflow.objective': String(model.objective), 'nmflow.iterations': String(model.iteration),
    'nmflow.trace': JSON.stringify(model.trace ?? []), ...dataEntry(model.data),
  }, W, names));
  await writeTable(path, table);
}

/** H (rank × samples, row-major) as CSV (rank lines) or Arrow (one row per sample, columns factor_a). */
export async function writeFactorsH(path: string, H: Float64Array, rank: number, samples: number): Promise<void> {
  if (modelFormatOf(path) === 'csv') {
    const lines: string[] = [];
    for (let a = 0; a < rank; a++) lines.push(Array.from(H.subarray(a * samples, (a + 1) * samples), num).join(','));
    await writeFileAtomic(path, lines.join('\n') + '\n');
    return;
  }
  const columns: Record<string, Vector> = {};
  for (let a = 0; a < rank; a++) columns[`factor_${a}`] = makeVector(H.slice(a * samples, (a + 1) * samples));
  await writeTable(path, new Table(columns));
}

export interface StoredModel {
  readonly loss: 'l2' | 'l1';
  readonly rank: number;
  readonly features: number;
  readonly W: Float64Array;
  readonly d: Float64Array;
  readonly featureNames: readonly string[];
  /** Per-iteration history of the fit (Arrow and Parquet files; CSV files do not keep it). */
  readonly trace?: readonly TracePoint[];
  /** Relative loss and completed iterations of the fit, when the file records them. */
  readonly relativeLoss?: number;
  readonly iterations?: number;
  /** The fingerprint of the data the model was fitted to, when the file records it. */
  readonly data?: DataFingerprint;
}

/** Reads a model written by writeModel (CSV or Arrow). */
export async function readModel(path: string): Promise<StoredModel> {
  let bytes: Buffer;
  try { bytes = await readFile(path); } catch (error) {
    throw ioError('read model', path, error);
  }
  const format = formatToRead(path, 'model').name as ModelFormat; // by the ending, else by the first bytes
  if (format !== 'csv') {
    const table = await readModelTable(bytes, format, path);
    const meta = table.schema.metadata;
    const rank = Number(meta.get('nmflow.rank'));
    const d = Float64Array.from(numbersOf(meta.get('nmflow.d')));
    if (!Number.isInteger(rank) || rank < 1 || d.length !== rank) {
      throw new DataError('SCHEMA_MISMATCH', 'missing nmflow.rank / nmflow.d metadata', { source: path });
    }
    const m = table.numRows;
    const columns = Array.from({ length: rank }, (_, a) => {
      const col = table.getChild(`factor_${a}`);
      if (!col) throw new DataError('SCHEMA_MISMATCH', `missing column factor_${a}`, { source: path, column: `factor_${a}` });
      if (!DataType.isFloat(col.type) || !holdsRows(col, m)) {
        throw new DataError('MALFORMED_FILE', `column factor_${a} is not ${m} floating-point numbers (${String(col.type)})`, { source: path, column: `factor_${a}` });
      }
      return col;
    });
    const names = table.getChild('feature');
    let W: Float64Array;
    let featureNames: string[];
    try {
      W = new Float64Array(m * rank);
      columns.forEach((col, a) => { for (let i = 0; i < m; i++) W[i * rank + a] = Number(col.get(i)); });
      featureNames = Array.from({ length: m }, (_, i) => String(names?.get(i) ?? i));
    } catch (error) {
      throw new DataError('MALFORMED_FILE', 'the model\'s columns cannot be decoded (damaged file)', { source: path }, error);
    }
    verifyTableChecksum(meta, W, featureNames, path);
    checkModelValues(W, d, featureNames, path);
    return {
      loss: meta.get('nmflow.loss') === 'l1' ? 'l1' : 'l2', rank, features: m, W, d, featureNames,
      ...recorded(meta.get('nmflow.relativeLoss'), meta.get('nmflow.iterations')), ...traceOf(meta.get('nmflow.trace')), ...tableDataOf(meta.get(DATA_KEY), path),
    };
  }
  const text = bytes.toString('utf8');
  verifyCsvChecksum(text, path);
  const lines = text.split(/\r?\n/);
  let first: string | undefined;
  let loss: 'l1' | 'l2' = 'l2';
  let stats: ReturnType<typeof recorded> = {};
  let d: Float64Array | undefined;
  const rows: number[][] = [];
  const featureNames: string[] = [];
  let header = false;
  lines.forEach((line, index) => {
    if (line.startsWith('# nmflow model:')) {
      loss = /loss=l1/.test(line) ? 'l1' : 'l2';
      stats = recorded(/relativeLoss=(\S+)/.exec(line)?.[1], /iterations=(\S+)/.exec(line)?.[1]);
      first = line;
    }
    else if (line.startsWith('# d,')) d = Float64Array.from(line.slice(4).split(',').map(Number));
    else if (line.startsWith('#') || line.trim() === '') return;
    else if (!header) header = true;
    else {
      const fields = splitCsvLine(line);
      featureNames.push(fields[0]!);
      const values = fields.slice(1).map(Number);
      if (values.some((v) => !Number.isFinite(v) || v < 0)) {
        throw new DataError('INVALID_VALUE', 'model entries must be finite and ≥ 0', { source: path, line: index + 1 });
      }
      rows.push(values);
    }
  });
  const rank = d?.length ?? 0;
  if (!d || rank < 1 || rows.some((r) => r.length !== rank)) {
    throw new DataError('MALFORMED_FILE', 'not an nmflow CSV model (missing "# d," line or ragged rows)', { source: path });
  }
  const W = new Float64Array(rows.length * rank);
  rows.forEach((r, i) => W.set(r, i * rank));
  checkModelValues(W, d, featureNames, path);
  return { loss, rank, features: rows.length, W, d, featureNames, ...stats, ...csvDataOf(first, path) };
}

/**
 * The table of an Arrow IPC or Parquet model file. Whatever the decoder says about a damaged file is kept
 * as the cause of a MALFORMED_FILE error in words.
 */
async function readModelTable(bytes: Uint8Array, format: 'arrow' | 'parquet', path: string): Promise<Table> {
  const kind = format === 'arrow' ? 'an Arrow IPC' : 'a Parquet';
  const magic = format === 'arrow' ? 'ARROW1' : 'PAR1';
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // An IPC stream (no magic) is accepted as well as an IPC file.
  if (format === 'parquet' && (bytes.length < 12 || text.toString('latin1', 0, 4) !== magic || text.toString('latin1', bytes.length - 4) !== magic)) {
    throw new DataError('MALFORMED_FILE', `not ${kind} file: it does not begin and end with "${magic}" (truncated or another format)`, { source: path });
  }
  if (format === 'arrow') {
    // apache-arrow trusts the metadata: a damaged length could make it loop (source/arrow-ipc-check.ts).
    try {
      await checkArrowIpc(async (at, length) => bytes.subarray(at, at + length), bytes.length);
    } catch (error) {
      if (!(error instanceof IpcStructureError)) throw error;
      throw new DataError('MALFORMED_FILE', `not a readable model: ${kind} file that is damaged: ${error.message}`, { source: path }, error);
    }
  }
  const pw = format === 'parquet' ? await loadParquetWasm() : undefined;
  let table: Table;
  try {
    table = pw ? tableFromIPC(pw.readParquet(bytes).intoIPCStream()) : tableFromIPC(bytes);
  } catch (error) {
    throw new DataError('MALFORMED_FILE', `not a readable model: ${kind} file the decoder rejects as damaged or truncated`, { source: path }, error);
  }
  if (table.numCols === 0) throw new DataError('MALFORMED_FILE', `not a readable model: ${kind} file without columns`, { source: path });
  return table;
}

/** The column's buffers hold `rows` values (a damaged length field would make reads run past them). */
function holdsRows(col: Vector, rows: number): boolean {
  let total = 0;
  for (const data of col.data) {
    const values = data.values as ArrayLike<number> | undefined;
    if (!values || values.length < data.offset + data.length) return false;
    total += data.length;
  }
  return total === rows;
}

/** A JSON array of numbers (`nmflow.d`); anything else gives no numbers (the caller reports the metadata as missing). */
function numbersOf(json: string | undefined): number[] {
  try {
    const value: unknown = JSON.parse(json ?? '[]');
    // JSON writes NaN and ±Infinity as null: read back as NaN, for checkModelValues to name
    return Array.isArray(value) && value.every((v) => typeof v === 'number' || v === null) ? value.map((v: number | null) => v ?? NaN) : [];
  } catch {
    return [];
  }
}

/** The relative loss and iteration count a model file records, where they parse. */
function recorded(relativeLoss: string | undefined, iterations: string | undefined): { relativeLoss?: number; iterations?: number } {
  const loss = relativeLoss === undefined ? NaN : Number(relativeLoss);
  const its = iterations === undefined ? NaN : Number(iterations);
  return { ...(Number.isFinite(loss) ? { relativeLoss: loss } : {}), ...(Number.isInteger(its) ? { iterations: its } : {}) };
}

/** The trace kept in `nmflow.trace`, when present and well-formed (an unreadable trace is left out). */
function traceOf(json: string | undefined): { trace?: readonly TracePoint[] } {
  if (json === undefined) return {};
  try {
    const value: unknown = JSON.parse(json);
    const ok = Array.isArray(value) && value.every((p) => typeof p === 'object' && p !== null && typeof (p as TracePoint).iteration === 'number');
    return ok ? { trace: value as TracePoint[] } : {};
  } catch {
    return {};
  }
}

/** An Arrow table to .arrow (IPC file) or .parquet (zstd), atomically. */
async function writeTable(path: string, table: Table): Promise<void> {
  if (modelFormatOf(path) === 'parquet') {
    const pw = await loadParquetWasm();
    const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).build();
    await writeFileAtomic(path, pw.writeParquet(pw.Table.fromIPCStream(tableToIPC(table, 'stream')), props));
  } else {
    await writeFileAtomic(path, tableToIPC(table, 'file'));
  }
}

function withMetadata(table: Table, metadata: Record<string, string>): Table {
  const schema = new Schema(table.schema.fields as Field[], new Map(Object.entries(metadata)));
  const batches = table.batches.map((b) => new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: b.numRows, children: b.data.children as never, nullCount: 0 })));
  return new Table(schema, batches);
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(17).replace(/(\.\d*?)0+(e|$)/, '$1$2').replace(/\.(e|$)/, '$1');
}

/** Fields of one CSV line; "quoted" fields may hold commas and doubled quotes. */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let p = 0;
  while (p <= line.length) {
    if (line[p] === '"') {
      let value = '';
      p++;
      while (p < line.length) {
        if (line[p] === '"' && line[p + 1] === '"') { value += '"'; p += 2; } else if (line[p] === '"') { p++; break; } else value += line[p++];
      }
      fields.push(value);
      p++; // the comma
    } else {
      const comma = line.indexOf(',', p);
      const end = comma < 0 ? line.length : comma;
      fields.push(line.slice(p, end));
      p = end + 1;
    }
  }
  return fields;
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

