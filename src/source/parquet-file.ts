/**
 * One Parquet file through a FileHandle: byte ranges, the footer (parsed by hyparquet), the columns a pass asks
 * for, and how long a decoder call may take. Shared by from-parquet.ts and parquet-chunks.ts.
 */
import type { FileHandle } from 'node:fs/promises';
import { parquetMetadataAsync, parquetSchema, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { DataError } from '../errors.js';
import { fileError } from './file-handles.js';

/**
 * How long a decoder call may go without a reply or a byte request: 10 s, and 1 s more per 4 MB of the data
 * it decodes (decoding runs at 100+ MB/s; this only catches a decoder looping on damaged data).
 */
export const limitMs = (bytes: number): number => 10_000 + bytes / 4_000;

export async function readAt(handle: FileHandle, start: number, end: number): Promise<ArrayBuffer> {
  const buf = new Uint8Array(Math.max(0, end - start));
  const { bytesRead } = await handle.read(buf, 0, buf.length, start);
  return (bytesRead === buf.length ? buf : buf.slice(0, bytesRead)).buffer;
}

/** A FileHandle as hyparquet's AsyncBuffer. */
export function handleBuffer(handle: FileHandle, size: number): AsyncBuffer {
  return { byteLength: size, slice: (start, end) => readAt(handle, start, end ?? size) };
}

/** The footer, parsed by hyparquet: MALFORMED_FILE when the file is not Parquet or is truncated. */
export async function readFooter(file: AsyncBuffer, path: string): Promise<FileMetaData> {
  try {
    return await parquetMetadataAsync(file, { initialFetchSize: 1 << 16 });
  } catch (err) {
    throw fileError('MALFORMED_FILE', 'not a readable Parquet file (bad or missing footer)', err, { source: path });
  }
}

/** SCHEMA_MISMATCH when a column the pass reads is not a top-level column of the file. */
export function checkColumns(footer: FileMetaData, columns: readonly string[] | undefined, path: string): void {
  const top = parquetSchema(footer).children.map((c) => c.element.name);
  for (const column of columns ?? []) {
    if (!top.includes(column)) {
      throw new DataError('SCHEMA_MISMATCH', `column "${column}" not found; the file has ${top.map((c) => `"${c}"`).join(', ')}`,
        { source: path, column });
    }
  }
}
