/**
 * Arrow IPC and Parquet model files (model-file.ts): columns `feature` (utf8) and `factor_0…` (float64); schema
 * metadata `nmflow.d` (JSON array), `nmflow.loss`, `nmflow.rank`, `nmflow.trace` (JSON); Parquet by parquet-wasm
 * (zstd), the metadata in the file's Arrow schema. H as a table with one row per sample.
 */
import { isLoss, type Loss } from '../options/losses.js';
import { DataType, Table, Utf8, makeVector, tableFromIPC, tableToIPC, vectorFromArray, Schema, RecordBatch, makeData, Struct, type Field, type Vector } from 'apache-arrow';
import { DataError } from '../errors.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';
import { checkArrowIpc, IpcStructureError } from '../source/arrow-ipc-check.js';
import { writeFileAtomic } from './atomic-write.js';
import { featureName, provenance, recorded, type StoredModel } from './model-fields.js';
import { checkModelValues, dataEntry, DATA_KEY, tableDataOf, sealMetadata, verifyTableChecksum } from './model-integrity.js';
import { loadParquetWasm } from './parquet-wasm.js';

type TableFormat = 'arrow' | 'parquet';

export async function writeModelTable(path: string, model: Snapshot, format: TableFormat): Promise<void> {
  const { features: m, rank: k, W, d } = model;
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
    'nmflow.trace': JSON.stringify(model.trace ?? []), ...dataEntry(model.data), ...provenanceEntries(model),
  }, W, names));
  await writeTable(path, table, format);
}

/** The version, options (JSON) and seed of a model, as `nmflow.*` metadata. */
function provenanceEntries(model: Snapshot): Record<string, string> {
  const { version, options, seed } = provenance(model);
  return { 'nmflow.version': version, ...(options ? { 'nmflow.options': JSON.stringify(options) } : {}), ...(seed === undefined ? {} : { 'nmflow.seed': String(seed) }) };
}

/** H (rank × samples, row-major) as a table with one row per sample: `sample` (name, else index), factor_a. */
export async function writeFactorsHTable(path: string, H: Float64Array, rank: number, samples: number, format: TableFormat, sampleNames?: readonly string[]): Promise<void> {
  const columns: Record<string, Vector> = { sample: vectorFromArray(Array.from({ length: samples }, (_, j) => sampleNames?.[j] ?? String(j)), new Utf8()) };
  for (let a = 0; a < rank; a++) columns[`factor_${a}`] = makeVector(H.slice(a * samples, (a + 1) * samples));
  await writeTable(path, new Table(columns), format);
}

/** Reads an Arrow IPC or Parquet model written by writeModelTable. */
export async function readModelTableFile(bytes: Buffer, format: TableFormat, path: string): Promise<StoredModel> {
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
    loss: loss(meta.get('nmflow.loss')), rank, features: m, W, d, featureNames,
    ...recorded(meta.get('nmflow.relativeLoss'), meta.get('nmflow.iterations')), ...traceOf(meta.get('nmflow.trace')), ...tableDataOf(meta.get(DATA_KEY), path),
    ...provenanceOf(meta),
  };
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
async function writeTable(path: string, table: Table, format: TableFormat): Promise<void> {
  if (format === 'parquet') {
    const pw = await loadParquetWasm();
    // The nmflow.* entries also as the file's own key-value metadata: readers that do not decode the Arrow
    // schema (DuckDB's parquet_kv_metadata, parquet-tools) see them there.
    const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD)
      .setKeyValueMetadata(new Map(table.schema.metadata)).build();
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

/** What `nmflow.version`, `nmflow.options`, `nmflow.seed`, `nmflow.objective` and `nmflow.samples` record, where present and readable. */
function provenanceOf(meta: ReadonlyMap<string, string>): Pick<StoredModel, 'version' | 'options' | 'seed' | 'objective' | 'samples'> {
  const version = meta.get('nmflow.version');
  let options: unknown;
  try { options = JSON.parse(meta.get('nmflow.options') ?? 'null'); } catch { options = null; }
  const numberOf = (key: string): number | undefined => {
    const v = meta.get(key);
    return v === undefined || !Number.isFinite(Number(v)) ? undefined : Number(v);
  };
  const seed = numberOf('nmflow.seed'), objective = numberOf('nmflow.objective'), samples = numberOf('nmflow.samples');
  return {
    ...(version === undefined ? {} : { version }), ...(typeof options === 'object' && options !== null && !Array.isArray(options) ? { options: options as Record<string, unknown> } : {}),
    ...(seed === undefined ? {} : { seed }), ...(objective === undefined ? {} : { objective }), ...(samples === undefined ? {} : { samples }),
  };
}

/** The family a model file names (files of this project name one of LOSSES; anything else reads as least squares, as before). */
function loss(name: string | undefined): Loss {
  return isLoss(name) ? name : 'l2';
}
