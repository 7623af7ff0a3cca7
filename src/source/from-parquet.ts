/**
 * `fromParquet`: chunks from one Parquet file, a list of files, or a directory of part files (the
 * `*.parquet` files in it, sorted by name; names starting with "." or "_" are skipped), in any of the
 * layouts of layout.ts. Files are read one row group at a time and decoded `batchSize` rows at a time,
 * through one FileHandle per file: never a whole file in memory.
 *
 * Engine: parquet-wasm decodes (every codec and encoding tried; fastest in bench/parquet-readers.ts),
 * and its record batches reach the same converters as Arrow IPC. hyparquet parses only the footer
 * (schema check, row counts, column statistics for m), which parquet-wasm does not expose.
 * parquetjs-lite is not used to read: it returns wrong values on some DuckDB files; its own files
 * are read by parquet-wasm (tested).
 */
import { readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { tableFromIPC, type Schema } from 'apache-arrow';
import { parquetMetadataAsync, parquetSchema, type AsyncBuffer, type FileMetaData, type SchemaTree } from 'hyparquet';
import { ParquetFile, type RecordBatch as WasmBatch } from 'parquet-wasm';
import { DataError, OptionError } from '../errors.js';
import { fileError, handleBatches, makeBatchSource, withFile, type BatchInput, type FileSource, type SourceBatch } from './batch-source.js';
import { resolveLayout, type SourceOptions } from './layout.js';

export type ParquetInput = string | readonly string[];

export function fromParquet(input: ParquetInput, options?: SourceOptions): FileSource {
  const layout = resolveLayout(options);
  const list = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new OptionError('input', 'a file or directory path, or a non-empty array of file paths', input);
  }
  const name = options?.name ?? (typeof input === 'string' ? input : `${list.length} Parquet files (${list[0]}, …)`);
  let resolved: Promise<string[]> | undefined;
  const paths = (): Promise<string[]> => (resolved ??= partFiles(list, name));
  const footers = async (): Promise<FileMetaData[]> => Promise.all((await paths()).map((p) => withFile(p, (h, size) => readFooter(h, size, p))));
  const source: BatchInput = {
    name,
    rereadable: true,
    open: (columns) => handleBatches(paths, (handle, size, path, closed) => parquetBatches(handle, size, path, columns, layout.batchSize, closed)),
    schema: async () => withFile((await paths())[0]!, async (handle, size) => {
      const file = await openWasm(handle, size, (await paths())[0]!);
      try {
        return tableFromIPC(file.schema().intoIPCStream()).schema as Schema;
      } finally {
        file.free();
      }
    }),
    rows: async () => (await footers()).reduce((sum, f) => sum + Number(f.num_rows), 0),
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

/** A directory becomes its sorted part files; files are kept as given. */
async function partFiles(list: readonly string[], name: string): Promise<string[]> {
  const out: string[] = [];
  for (const path of list) {
    let isDir: boolean;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (err) {
      throw fileError('IO', 'cannot open the file', err, { source: path });
    }
    if (!isDir) { out.push(path); continue; }
    const parts = (await readdir(path)).filter((f) => f.endsWith('.parquet') && !f.startsWith('.') && !f.startsWith('_'));
    parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (parts.length === 0) throw new DataError('EMPTY_INPUT', 'the directory has no .parquet files', { source: path });
    out.push(...parts.map((f) => join(path, f)));
  }
  if (out.length === 0) throw new DataError('EMPTY_INPUT', 'no Parquet files', { source: name });
  return out;
}

async function readAt(handle: FileHandle, start: number, end: number): Promise<ArrayBuffer> {
  const buf = new Uint8Array(Math.max(0, end - start));
  const { bytesRead } = await handle.read(buf, 0, buf.length, start);
  return (bytesRead === buf.length ? buf : buf.slice(0, bytesRead)).buffer;
}

/** The footer, parsed by hyparquet: MALFORMED_FILE when the file is not Parquet or is truncated. */
async function readFooter(handle: FileHandle, size: number, path: string): Promise<FileMetaData> {
  const file: AsyncBuffer = { byteLength: size, slice: (start, end) => readAt(handle, start, end ?? size) };
  try {
    return await parquetMetadataAsync(file);
  } catch (err) {
    throw fileError('MALFORMED_FILE', 'not a readable Parquet file (bad or missing footer)', err, { source: path });
  }
}

/** parquet-wasm reads through this Blob-shaped view of our FileHandle (it calls size, slice, arrayBuffer). */
async function openWasm(handle: FileHandle, size: number, path: string): Promise<ParquetFile> {
  const slice = (start = 0, end = size) => ({ size: end - start, arrayBuffer: () => readAt(handle, start, Math.min(end, size)) });
  try {
    return await ParquetFile.fromFile({ size, slice } as unknown as Blob);
  } catch (err) {
    throw fileError('MALFORMED_FILE', 'not a readable Parquet file', err, { source: path });
  }
}

async function* parquetBatches(handle: FileHandle, size: number, path: string, columns: readonly string[] | undefined,
  batchSize: number, closed: () => boolean): AsyncGenerator<SourceBatch> {
  const footer = await readFooter(handle, size, path);
  const top = parquetSchema(footer).children.map((c) => c.element.name);
  for (const column of columns ?? []) {
    if (!top.includes(column)) {
      throw new DataError('SCHEMA_MISMATCH', `column "${column}" not found; the file has ${top.map((c) => `"${c}"`).join(', ')}`,
        { source: path, column });
    }
  }
  const file = await openWasm(handle, size, path);
  try {
    let rowOffset = 0;
    for (let g = 0; g < footer.row_groups.length; g++) {
      let within = 0;
      const where = () => ({ source: path, batch: g, row: rowOffset + within });
      let reader: { read(): Promise<{ done: true; value?: undefined } | { done: false; value: WasmBatch }> };
      try {
        const stream = await file.stream({ rowGroups: [g], batchSize, ...(columns ? { columns: [...columns] } : {}) });
        reader = stream.getReader() as unknown as typeof reader;
      } catch (err) {
        if (closed()) return;
        throw fileError('MALFORMED_FILE', `cannot read row group ${g}`, err, where());
      }
      for (;;) {
        let result: { done: true; value?: undefined } | { done: false; value: WasmBatch };
        try {
          result = await reader.read();
        } catch (err) {
          if (closed()) return;
          throw fileError('MALFORMED_FILE', `cannot decode row group ${g}`, err, where());
        }
        if (result.done) break;
        for (const batch of tableFromIPC(result.value.intoIPCStream()).batches) {
          yield { batch, where: { source: path, batch: g, rowOffset: rowOffset + within, unit: 'row group' } };
          within += batch.numRows;
        }
      }
      if (within !== Number(footer.row_groups[g]!.num_rows)) {
        throw new DataError('MALFORMED_FILE', `row group ${g} decoded to ${within} rows; the footer says ${footer.row_groups[g]!.num_rows}`, where());
      }
      rowOffset += within;
    }
  } finally {
    file.free();
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
