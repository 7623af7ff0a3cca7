/**
 * `fromParquet`: chunks from one Parquet file, a list of files, or a directory of part files (the
 * `*.parquet` files in it, sorted by name; names starting with "." or "_" are skipped), in any of the
 * layouts of layout.ts. Files are read one row group at a time and decoded `batchSize` rows at a time,
 * through one FileHandle per file: never a whole file in memory.
 *
 * Engines (measured in bench/parquet-readers.ts):
 * - parquet-wasm decodes: fastest, every codec and encoding tried, and its record batches reach the
 *   same converters as Arrow IPC. It runs in a worker thread (parquet-worker.ts), because on corrupt
 *   data it panics in a way that would otherwise kill the process.
 * - hyparquet parses the footer (schema, row counts, column statistics for m, which parquet-wasm does
 *   not expose), and decodes the files parquet-wasm refuses to open (parquet-fallback.ts): every
 *   file written by parquetjs-lite.
 * - parquetjs-lite is not used to read: it returns wrong values on DuckDB files whose dictionary has
 *   more than 255 entries, and rejects pyarrow's format 2.x and ZSTD/LZ4.
 */
import { readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Schema, tableFromIPC } from 'apache-arrow';
import { parquetSchema, type FileMetaData, type SchemaTree } from 'hyparquet';
import { DataError, OptionError } from '../errors.js';
import { makeBatchSource, type BatchInput, type FileSource, type SourceBatch } from './batch-source.js';
import { fileError, handleBatches, withFile, type PassContext } from './file-handles.js';
import { resolveLayout, type SourceOptions } from './layout.js';
import { arrowFieldsOf, hyparquetBatches } from './parquet-fallback.js';
import { parquetChunks } from './parquet-chunks.js';
import { checkColumns, handleBuffer, limitMs, readAt, readFooter } from './parquet-file.js';
import { DecoderStalled, DecoderWorker, type Reply } from './parquet-worker.js';

/** parquet-wasm's refusal of a sound file that hyparquet reads (parquetjs-lite's page index lacks `null_pages`). */
const PAGE_INDEX = /null_pages|page index|column index|offset index/i;

export type ParquetInput = string | readonly string[];

/** A re-readable source over Parquet (a file, a list of files or a directory of parts) in a table layout, read row group by row group. Bad options throw synchronously; bad data goes to the error channel. */
export function fromParquet(input: ParquetInput, options?: SourceOptions): FileSource {
  const layout = resolveLayout(options);
  const list = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new OptionError('input', 'a file or directory path, or a non-empty array of file paths', input);
  }
  const name = options?.name ?? (typeof input === 'string' ? input : `${list.length} Parquet files (${list[0]}, …)`);
  let resolved: Promise<string[]> | undefined;
  const paths = (): Promise<string[]> => (resolved ??= partFiles(list, name));
  // Footers for what is known before reading (statistics, row counts), read once per source.
  let footerList: Promise<FileMetaData[]> | undefined;
  const footers = (): Promise<FileMetaData[]> => (footerList ??= paths().then((list) =>
    Promise.all(list.map((p) => withFile(p, (h, size) => readFooter(handleBuffer(h, size), p))))));
  const source: BatchInput = {
    name,
    rereadable: true,
    open: (columns) => handleBatches(paths, (handle, size, path, pass) => parquetBatches(handle, size, path, columns, layout.batchSize, pass)),
    schema: async () => new Schema(arrowFieldsOf((await footers())[0]!)),
    rows: async () => (await footers()).reduce((sum, f) => sum + Number(f.num_rows), 0),
    convert: async (columns, plan) => {
      // The pass's layout: chunkSize and readAhead may come from a memory budget (batch-source.ts).
      const pass = plan.layout;
      if (pass.readAhead === 0) return undefined;
      // Files parquet-wasm refuses (parquetjs-lite's) and any footer problem: read on this thread, as before (its errors, in its order).
      const list = await footers().catch(() => undefined);
      if (!list || list.some((f) => /^parquet\.js/.test(f.created_by ?? ''))) return undefined;
      const rows = list.reduce((sum, f) => sum + Number(f.num_rows), 0);
      return parquetChunks({ paths, columns, batchSize: pass.batchSize, plan,
        readAhead: pass.readAhead ?? defaultReadAhead(rows, plan.info.samples, pass.chunkSize) });
    },
    maxOf: async (column) => {
      let max = -1;
      for (const footer of await footers()) {
        const m = statsMax(footer, column);
        if (m === undefined) return undefined;
        max = Math.max(max, m);
      }
      return max < 0 ? undefined : max;
    },
  };
  return makeBatchSource(source, layout);
}

/**
 * Chunks read ahead by default: 64 MB of them (12 bytes per nonzero), from the files' rows per sample (n from
 * the options or statistics; unknown n: 2), at least 2 and at most 8.
 */
export function defaultReadAhead(rows: number, samples: number | undefined, chunkSize: number): number {
  if (!samples) return 2;
  const chunkBytes = 12 * chunkSize * (rows / samples) + 4 * chunkSize;
  return Math.max(2, Math.min(8, Math.floor(64 * 2 ** 20 / chunkBytes)));
}

/** A directory becomes its sorted part files; files are kept as given. */
export async function partFiles(list: readonly string[], name: string): Promise<string[]> {
  const out: string[] = [];
  for (const path of list) {
    let isDir: boolean;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (err) {
      throw fileError('IO', 'cannot open the file', err, { source: path });
    }
    if (!isDir) { out.push(path); continue; }
    let names: string[];
    try {
      names = await readdir(path);
    } catch (err) {
      throw fileError('IO', 'cannot list the directory', err, { source: path });
    }
    const parts = names.filter((f) => f.endsWith('.parquet') && !f.startsWith('.') && !f.startsWith('_'));
    parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (parts.length === 0) throw new DataError('EMPTY_INPUT', 'the directory has no .parquet files', { source: path });
    for (const part of parts) {
      const file = join(path, part);
      // A sub-directory named *.parquet (Spark writes its outputs so) is not read into the matrix unseen.
      if ((await stat(file).catch(() => undefined))?.isDirectory()) {
        throw new DataError('UNSUPPORTED', `${part} in the Parquet directory is itself a directory: the parts must be files `
          + '(sub-directories are not read; give that directory, or the part files, instead)', { source: file });
      }
      out.push(file);
    }
  }
  if (out.length === 0) throw new DataError('EMPTY_INPUT', 'no Parquet files', { source: name });
  return out;
}

async function* parquetBatches(handle: FileHandle, size: number, path: string, columns: readonly string[] | undefined,
  batchSize: number, pass: PassContext): AsyncGenerator<SourceBatch> {
  const footer = await readFooter(handleBuffer(handle, size), path);
  checkColumns(footer, columns, path);
  const decoder = await DecoderWorker.acquire();
  pass.onClose(() => decoder.terminate());
  decoder.setSource((start, end) => readAt(handle, start, end));
  let reusable = false;
  try {
    const opened = await decoder.call({ type: 'open', size }, limitMs(0))
      .catch((err: unknown) => ({ type: 'error' as const, message: err instanceof DecoderStalled ? err.message : String(err) }));
    if (opened.type !== 'ok') {
      if (pass.closed()) return;
      // parquet-wasm refuses the page index of parquetjs-lite's files (created_by "parquet.js"): hyparquet decodes
      // them. Any other refusal is a damaged file, not handed to hyparquet, whose decoders are not bounded on
      // damaged data (they run under the worker's time and heap limits, but may grow gigabytes before that).
      if (opened.type !== 'error' || !PAGE_INDEX.test(opened.message) || !/^parquet\.js/.test(footer.created_by ?? '')) {
        throw fileError('MALFORMED_FILE', 'cannot open the file', opened.type === 'error' ? opened.message : 'no reply', { source: path });
      }
      const failed = (reply: Reply): never => { throw new Error(reply.type === 'error' ? reply.message : `unexpected reply ${reply.type}`); };
      try {
        const hpOpened = await decoder.call({ type: 'hp-open', size }, limitMs(0));
        if (hpOpened.type !== 'ok') failed(hpOpened);
      } catch (err) {
        if (pass.closed()) return;
        throw fileError('MALFORMED_FILE', 'cannot open the file', err, { source: path });
      }
      reusable = true;
      yield* hyparquetBatches(async (rowStart, rowEnd, names, g) => {
        const reply = await decoder.call({ type: 'hp-group', rowStart, rowEnd, columns: names }, limitMs(Number(footer.row_groups[g]!.total_byte_size)));
        return reply.type === 'columns' ? reply.columns : failed(reply);
      }, footer, path, columns, batchSize, pass.closed);
      return;
    }
    let rowOffset = 0;
    for (let g = 0; g < footer.row_groups.length; g++) {
      let within = 0;
      const fail = (what: string, err: unknown) => fileError('MALFORMED_FILE', `${what} row group ${g}`, err,
        { source: path, batch: g, row: rowOffset + within });
      const groupBytes = Number(footer.row_groups[g]!.total_byte_size);
      const started = await decoder.call({ type: 'group', group: g, batchSize, columns: columns ? [...columns] : undefined }, limitMs(groupBytes))
        .catch((err: unknown) => ({ type: 'error' as const, message: err instanceof DecoderStalled ? err.message : String(err) }));
      if (pass.closed()) return;
      if (started.type === 'error') throw fail('cannot read', started.message);
      let next = decoder.call({ type: 'next' }, limitMs(groupBytes));
      for (;;) {
        let reply: Reply;
        try {
          reply = await next;
        } catch (err) {
          if (pass.closed()) return;
          throw fail('cannot decode', err);
        }
        if (reply.type === 'error') throw fail('cannot decode', reply.message);
        if (reply.type !== 'batch') break;
        // Ask for the following batch now: it is decoded while the consumer works on this one.
        next = decoder.call({ type: 'next' }, limitMs(groupBytes));
        next.catch(() => undefined);
        for (const batch of tableFromIPC(reply.ipc).batches) {
          yield { batch, where: { source: path, batch: g, rowOffset: rowOffset + within, unit: 'row group' } };
          within += batch.numRows;
        }
      }
      if (within !== Number(footer.row_groups[g]!.num_rows)) {
        throw new DataError('MALFORMED_FILE', `row group ${g} decoded to ${within} rows; the footer says ${footer.row_groups[g]!.num_rows}`,
          { source: path, batch: g, row: rowOffset + within });
      }
      rowOffset += within;
    }
    reusable = true;
  } finally {
    if (reusable && !pass.closed()) decoder.release();
    else decoder.terminate();
  }
}

/** Exact largest value of a signed integer leaf under `column`, over all row groups; else undefined. */
function statsMax(footer: FileMetaData, column: string): number | undefined {
  const leaves = footer.row_groups[0]?.columns.map((c) => c.meta_data?.path_in_schema ?? []) ?? [];
  const mine = leaves.filter((p) => p[0] === column);
  const path = mine.length === 1 ? mine[0] : mine.find((p) => p[p.length - 1] === 'index');
  if (!path) return undefined;
  const element = leafOf(parquetSchema(footer), path);
  const unsigned = element?.converted_type?.startsWith('UINT') || (element?.logical_type?.type === 'INTEGER' && !element.logical_type.isSigned);
  if (!element || unsigned || (element.type !== 'INT32' && element.type !== 'INT64')) return undefined;
  let max = -1;
  for (const rg of footer.row_groups) {
    if (Number(rg.num_rows) === 0) continue;
    const meta = rg.columns.find((c) => c.meta_data?.path_in_schema.join('\u0000') === path.join('\u0000'))?.meta_data;
    const stats = meta?.statistics;
    const value = stats?.max_value ?? stats?.max;
    if (stats?.is_max_value_exact === false || (typeof value !== 'number' && typeof value !== 'bigint')) return undefined;
    max = Math.max(max, Number(value));
  }
  return max;
}

function leafOf(tree: SchemaTree, path: readonly string[]): SchemaTree['element'] | undefined {
  let node: SchemaTree | undefined = tree;
  for (const name of path) node = node?.children.find((c) => c.element.name === name);
  return node?.element;
}
