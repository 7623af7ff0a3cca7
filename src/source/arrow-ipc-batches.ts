/**
 * The record batches of Arrow IPC data (a file read by random access, or bytes), each with where it is: the
 * structure is verified from the metadata first (arrow-ipc-check.ts). Used by from-arrow.ts on the main thread and
 * by the decoder's worker (convert-thread.ts, which reads the file through byte ranges the main thread serves):
 * this module imports only apache-arrow and the checks.
 */
import type { FileHandle } from 'node:fs/promises';
import { RecordBatchReader, type RecordBatch } from 'apache-arrow';
import { DataError } from '../errors.js';
import { checkArrowIpc, IpcStructureError, startsLikeIpcFile, type ReadAt } from './arrow-ipc-check.js';
import type { SourceBatch } from './batch-source.js';
import { fileError, type PassContext } from './file-handles.js';

/** What the IPC data is read from: a file or bytes in memory. */
export type ReaderSource = FileHandle | Uint8Array;

export async function openReader(source: ReaderSource, size: number, file: string): Promise<RecordBatchReader> {
  const read: ReadAt = source instanceof Uint8Array ? async (at, length) => source.subarray(at, at + length)
    : async (at, length) => {
      const buffer = new Uint8Array(length);
      const { bytesRead } = await source.read(buffer, 0, length, at);
      return buffer.subarray(0, bytesRead);
    };
  try {
    await checkArrowIpc(read, size);
  } catch (err) {
    if (!(err instanceof IpcStructureError)) throw fileError('IO', 'cannot read the file', err, { source: file });
    const kind = startsLikeIpcFile(await read(0, 8).catch(() => new Uint8Array(0))) ? 'file' : 'stream';
    throw new DataError('MALFORMED_FILE', `not a complete Arrow IPC ${kind}: ${err.message}`,
      err.batch === undefined ? { source: file } : { source: file, batch: err.batch });
  }
  try {
    const reader = await RecordBatchReader.from(source as never) as RecordBatchReader;
    await reader.open();
    return reader;
  } catch (err) {
    throw fileError('MALFORMED_FILE', 'not a readable Arrow IPC file or stream', err, { source: file });
  }
}

export async function* readerBatches(handle: ReaderSource, size: number, file: string,
  pass: Pick<PassContext, 'closed'>): AsyncGenerator<SourceBatch> {
  const reader = await openReader(handle, size, file);
  let index = 0;
  let rowOffset = 0;
  for (;;) {
    let result: IteratorResult<RecordBatch>;
    try {
      result = await reader.next();
    } catch (err) {
      if (pass.closed()) return;
      throw fileError('MALFORMED_FILE', `cannot read record batch ${index}`, err, { source: file, batch: index, row: rowOffset });
    }
    if (result.done) return;
    yield { batch: result.value, where: { source: file, batch: index, rowOffset, unit: 'record batch' } };
    index++;
    rowOffset += result.value.numRows;
  }
}
