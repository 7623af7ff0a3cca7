/**
 * Streaming writers of Arrow record batches to a file, chosen by extension:
 *  .parquet          — parquet-wasm's `transformParquetStream` (the Rust ArrowWriter): rows are buffered
 *                      until a row group of `rowGroupSize` rows (default 65536) or about `rowGroupBytes`
 *                      bytes (default 64 MiB, so that wide tables stay bounded too; the encoder estimates
 *                      the size as batches arrive, and never splits the first batch on bytes) is full, then
 *                      encoded and written. Memory: one row group being encoded plus the batch in hand.
 *  .arrow / .feather — an Arrow IPC file; .arrows — an Arrow IPC stream. Each batch is serialised and
 *                      written before `write` resolves. Memory: one batch.
 * `write` resolves once the batch has been taken by the encoder, so a caller that awaits it never holds
 * more than that. Every batch must have the schema of the first (field names and types), else a
 * SCHEMA_MISMATCH DataError (Arrow's writer would otherwise start a new stream silently).
 * Atomic (like atomic-write.ts): bytes go to `<path>.tmp-<pid>-<n>`, every write checked for its full
 * length (a full disk is an error, never a short file), fsynced and renamed on `close()`, then the directory
 * fsynced; `abort()` and every failure remove the temporary file, so a reader never sees half a table and
 * the previous file at `path` stays as it was. Temporaries of dead processes at `path` are removed on open.
 */
import { dirname } from 'node:path';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { ReadableStream, type ReadableStreamDefaultController } from 'node:stream/web';
import { AsyncByteQueue, RecordBatchFileWriter, RecordBatchStreamWriter, Table, tableToIPC, type RecordBatch, type RecordBatchWriter, type Schema } from 'apache-arrow';
import type { RecordBatch as WasmBatch } from 'parquet-wasm';
import { DataError, NmfError } from '../errors.js';
import { formatToWrite } from '../format/registry.js';
import { validate } from '../options/validate.js';
import { removeStaleTemporaries, syncDirectory, temporaryName, writeAll } from './atomic-write.js';
import { ioError } from './io-error.js';
import { loadParquetWasm, type ParquetWasmModule } from './parquet-wasm.js';

export type TableFormat = 'parquet' | 'arrow' | 'arrows';

export interface TableWriterOptions {
  /** Default: from the extension (.parquet, .arrow / .feather / .ipc, .arrows). */
  readonly format?: TableFormat;
  /** Parquet: rows per row group (default 65536). */
  readonly rowGroupSize?: number;
  /** Parquet: bytes per row group, at most (default 64 MiB). */
  readonly rowGroupBytes?: number;
  /** Parquet: codec (default 'zstd'). */
  readonly compression?: 'zstd' | 'snappy' | 'uncompressed';
}

export interface TableWriter {
  readonly path: string;
  /** Rows and batches written so far. */
  readonly rows: number;
  readonly batches: number;
  write(batch: RecordBatch): Promise<void>;
  /** Finishes the file and renames it into place. At least one batch must have been written. */
  close(): Promise<void>;
  /** Stops and removes the temporary file (safe to call more than once, and after a failure). */
  abort(): Promise<void>;
}

/** The format a table is written in, by the path's ending (format/registry.ts; an OptionError for another ending). */
export function tableFormatOf(path: string): TableFormat {
  return formatToWrite(path, 'table-out').name as TableFormat;
}

/** Where encoded bytes go, and how the encoder is finished. */
interface Encoder { put(batch: RecordBatch): Promise<void>; end(): Promise<void>; stop(): void }

/** Opens a table writer for record batches: Parquet, Arrow IPC file or stream by the path's ending; written to a temporary name and renamed on `close()`. */
export async function openTableWriter(path: string, options: TableWriterOptions = {}): Promise<TableWriter> {
  // kinds and defaults: options/table-data.ts (WRITER_ROWS); the casts restate them
  const v = validate('tableWriter', options);
  const format = (v.format as TableFormat | undefined) ?? tableFormatOf(path);
  const rowGroupSize = v.rowGroupSize as number;
  const rowGroupBytes = v.rowGroupBytes as number;
  const pw = format === 'parquet' ? await loadParquetWasm() : undefined;
  await removeStaleTemporaries(path);
  const tmp = temporaryName(path);
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, 'wx');
  } catch (error) {
    throw ioError('write', path, error);
  }
  const file = handle;
  const encoder = pw ? parquetEncoder(pw, file, rowGroupSize, rowGroupBytes, v.compression as 'zstd' | 'snappy' | 'uncompressed') : arrowEncoder(file, format as 'arrow' | 'arrows');
  let schema: Schema | undefined;
  let rows = 0;
  let batches = 0;
  let state: 'open' | 'closed' | 'failed' = 'open';
  const fail = async (error: unknown): Promise<never> => {
    if (state === 'open') {
      state = 'failed';
      encoder.stop();
      await file.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
    }
    throw ioError('write', path, error);
  };
  return {
    path,
    get rows() { return rows; },
    get batches() { return batches; },
    write: async (batch) => {
      if (state !== 'open') throw new NmfError('IO', `the writer of ${path} is ${state}`);
      schema ??= batch.schema;
      if (!sameSchema(schema, batch.schema)) {
        await fail(new DataError('SCHEMA_MISMATCH', `batch ${batches} has the schema ${describe(batch.schema)}; the file has ${describe(schema)}`,
          { source: path, batch: batches }));
      }
      try { await encoder.put(batch); } catch (error) { await fail(error); }
      rows += batch.numRows;
      batches++;
    },
    close: async () => {
      if (state !== 'open') throw new NmfError('IO', `the writer of ${path} is ${state}`);
      if (batches === 0) await fail(new DataError('EMPTY_INPUT', 'no record batch to write', { source: path }));
      try {
        await encoder.end();
        await file.sync();
        await file.close();
        await rename(tmp, path);
        state = 'closed';
        await syncDirectory(dirname(path));
      } catch (error) {
        await fail(error);
      }
    },
    abort: async () => { if (state === 'open') await fail(new NmfError('IO', 'aborted')).catch(() => undefined); },
  };
}

/** Writes every batch of `batches` to `path` (atomically); returns the counts. */
export async function writeTable(path: string, batches: Iterable<RecordBatch> | AsyncIterable<RecordBatch>,
  options: TableWriterOptions = {}): Promise<{ rows: number; batches: number }> {
  const writer = await openTableWriter(path, options);
  try {
    for await (const batch of batches) await writer.write(batch);
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return { rows: writer.rows, batches: writer.batches };
}

const sameSchema = (a: Schema, b: Schema): boolean => a === b || (a.fields.length === b.fields.length
  && a.fields.every((f, i) => f.name === b.fields[i]!.name && String(f.type) === String(b.fields[i]!.type)));
const describe = (s: Schema): string => `(${s.fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ')})`;

/** Collects what an Arrow writer emits, synchronously, so that it can be written before the next batch. */
class Collector extends AsyncByteQueue {
  chunks: Uint8Array[] = [];
  override write(value: Uint8Array): void { this.chunks.push(value); }
}

function arrowEncoder(file: FileHandle, format: 'arrow' | 'arrows'): Encoder {
  const sink = new Collector();
  const writer: RecordBatchWriter = format === 'arrow' ? new RecordBatchFileWriter() : new RecordBatchStreamWriter();
  writer.reset(sink);
  const flush = async (): Promise<void> => {
    const chunks = sink.chunks;
    sink.chunks = [];
    for (const chunk of chunks) await writeAll(file, chunk);
  };
  return {
    put: async (batch) => { writer.write(batch); await flush(); },
    end: async () => { writer.finish(); await flush(); },
    stop: () => { sink.chunks = []; },
  };
}

type Codec = 'zstd' | 'snappy' | 'uncompressed';
const codecOf = (pw: ParquetWasmModule, codec: Codec) =>
  ({ zstd: pw.Compression.ZSTD, snappy: pw.Compression.SNAPPY, uncompressed: pw.Compression.UNCOMPRESSED })[codec];

/**
 * Batches are handed to the encoder one at a time through a pull-based stream (high-water mark 0): the
 * stream's `pull` is called only when the encoder wants a batch, and `put` resolves once it has been
 * given one. The encoded bytes are written to the file as they come out. The encoder starts with the
 * first batch, whose schema metadata is also written as Parquet key-value metadata (for readers that do
 * not decode the Arrow schema stored in the file).
 */
function parquetEncoder(pw: ParquetWasmModule, file: FileHandle, rowGroupSize: number, rowGroupBytes: number, compression: Codec): Encoder {
  let controller: ReadableStreamDefaultController<WasmBatch> | undefined;
  let wanted = deferred();
  let served: (() => void) | undefined;
  let pump: Promise<void> | undefined;
  let stopped: Promise<never> | undefined;
  const start = (metadata: Map<string, string>): void => {
    const input = new ReadableStream<WasmBatch>({
      start: (c) => { controller = c; },
      pull: () => new Promise<void>((resolve) => { served = resolve; wanted.resolve(); }),
    }, { highWaterMark: 0 });
    let builder = new pw.WriterPropertiesBuilder().setCompression(codecOf(pw, compression)).setMaxRowGroupSize(rowGroupSize)
      .setMaxRowGroupBytes(rowGroupBytes);
    if (metadata.size > 0) builder = builder.setKeyValueMetadata(new Map(metadata));
    const properties = builder.build();
    pump = (async () => {
      const output = await pw.transformParquetStream(input as never, properties) as unknown as AsyncIterable<Uint8Array>;
      for await (const bytes of output) await writeAll(file, bytes);
    })();
    // The encoder ends only after `end`: finishing (or failing) before that stops a waiting `put`.
    stopped = pump.then(() => { throw new Error('the Parquet encoder stopped early'); });
    stopped.catch(() => undefined);
  };
  const handOff = async (give: (c: ReadableStreamDefaultController<WasmBatch>) => void): Promise<void> => {
    await Promise.race([wanted.promise, stopped!]);
    wanted = deferred();
    give(controller!);
    served?.();
  };
  return {
    put: async (batch) => {
      if (!pump) start(batch.schema.metadata);
      const table = pw.Table.fromIPCStream(tableToIPC(new Table([batch]), 'stream'));
      const wasmBatch = table.recordBatch(0);
      table.free();
      if (wasmBatch) await handOff((c) => c.enqueue(wasmBatch));
    },
    end: async () => {
      await handOff((c) => c.close());
      await pump;
    },
    stop: () => {
      try { controller?.error(new Error('aborted')); } catch { /* already closed */ }
      pump?.catch(() => undefined);
    },
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}
