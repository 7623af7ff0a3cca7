/**
 * `fromArrow`: chunks from Arrow IPC data in any of the layouts of layout.ts.
 *
 * - a path: an IPC file (read by random access through a FileHandle: the footer, then one record
 *   batch at a time; never the whole file) or an IPC stream (read message by message); read, converted
 *   and checked in the decoder's worker, `readAhead` chunks ahead of the consumer (as Parquet: parquet-chunks.ts),
 *   when `readAhead` is given or the file has 8 MB or more;
 *   before each pass its structure is verified from the metadata alone (arrow-ipc-check.ts): a damaged
 *   file, or a stream without its end-of-stream marker (cut short), is MALFORMED_FILE before any batch;
 * - a Uint8Array holding an IPC file or stream;
 * - an Iterable<RecordBatch> (e.g. an array; re-readable) or an AsyncIterable<RecordBatch> (read
 *   once: `rereadable` is false, and a long or list layout needs `features` or `featureNames`,
 *   since m must be known before the first chunk and the stream cannot be scanned first — except a
 *   long layout with `unknownFeatures: 'extend'`, which starts from the features given (or none) and
 *   grows: a feature id not seen before becomes a new feature (layout.ts), chunks carry the m seen so
 *   far, and the source's `features` / `featureNames` grow as it reads. Feed it to `fitOnline`).
 *
 * Example: `fromArrow('counts.arrow', { layout: 'long', chunkSize: 1024 }).chunks()`.
 */
import { stat } from 'node:fs/promises';
import type { RecordBatch } from 'apache-arrow';
import { DataError, OptionError } from '../errors.js';
import { openReader, readerBatches } from './arrow-ipc-batches.js';
import { makeBatchSource, type BatchInput, type FileSource } from './batch-source.js';
import { handleBatches, withFile } from './file-handles.js';
import { WORKER_MIN_BYTES } from './mtx-off-thread.js';
import { parquetChunks } from './parquet-chunks.js';
import { resolveLayout, type SourceOptions } from './layout.js';

export type ArrowInput = string | Uint8Array | Iterable<RecordBatch> | AsyncIterable<RecordBatch>;

/** A source over Arrow IPC (a file path, the bytes, or record batches, sync or async) in a table layout (long, wide, list). Bad options throw synchronously; bad data goes to the error channel. */
export function fromArrow(input: ArrowInput, options?: SourceOptions): FileSource {
  const layout = resolveLayout(options);
  if (typeof input === 'string') {
    if (input.length === 0) throw new OptionError('input', 'a file path, bytes or record batches', input);
    return makeBatchSource(pathInput(input, options?.name ?? input), layout);
  }
  if (input instanceof Uint8Array) return makeBatchSource(bytesInput(input, options?.name ?? 'Arrow IPC bytes'), layout);
  const name = options?.name ?? 'Arrow record batches';
  if (typeof input === 'object' && input !== null && Symbol.iterator in input) {
    return makeBatchSource(iterableInput(name, true, () => toAsync(input[Symbol.iterator]())), layout);
  }
  if (typeof input === 'object' && input !== null && Symbol.asyncIterator in input) {
    if (layout.layout !== 'wide' && layout.features === undefined && layout.featureNames === undefined && !(layout.layout === 'long' && layout.extend)) {
      throw new OptionError('features', "the number of features (or featureNames, or unknownFeatures: 'extend'): an AsyncIterable is read once and cannot be scanned first", undefined);
    }
    let opened = false;
    return makeBatchSource(iterableInput(name, false, () => {
      if (opened) throw new DataError('UNSUPPORTED', 'this AsyncIterable source is read once and has been read already', { source: name });
      opened = true;
      return input[Symbol.asyncIterator]();
    }), layout);
  }
  throw new OptionError('input', 'a file path, a Uint8Array, or an (Async)Iterable of RecordBatch', input);
}

function pathInput(path: string, name: string): BatchInput {
  return {
    name,
    rereadable: true,
    open: () => handleBatches([path], readerBatches),
    schema: () => withFile(path, async (handle, size) => (await openReader(handle, size, path)).schema),
    // Read, converted and checked in the decoder's worker (parquet-chunks.ts) when readAhead is given (≥ 1), or by
    // default for a file of WORKER_MIN_BYTES or more (a smaller one converts here sooner than the worker starts).
    convert: async (columns, plan) => {
      const readAhead = plan.layout.readAhead;
      if (readAhead === 0) return undefined;
      if (readAhead === undefined && await stat(path).then((s) => s.size < WORKER_MIN_BYTES, () => true)) return undefined;
      return parquetChunks({ paths: async () => [path], columns, batchSize: plan.layout.batchSize, plan, readAhead: readAhead ?? 2, arrowIpc: true });
    },
  };
}

function bytesInput(bytes: Uint8Array, name: string): BatchInput {
  return {
    name,
    rereadable: true,
    open: () => readerBatches(bytes, bytes.length, name, { closed: () => false }),
    schema: async () => (await openReader(bytes, bytes.length, name)).schema,
  };
}

function iterableInput(name: string, rereadable: boolean, open: () => AsyncIterator<RecordBatch>): BatchInput {
  return {
    name,
    rereadable,
    open: () => {
      const it = open();
      let index = 0;
      let rowOffset = 0;
      return {
        next: async () => {
          const result = await it.next();
          if (result.done) return { done: true, value: undefined };
          const where = { source: name, batch: index, rowOffset, unit: 'record batch' as const };
          index++;
          rowOffset += result.value.numRows;
          return { done: false, value: { batch: result.value, where } };
        },
        return: async () => {
          await it.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

function toAsync<T>(it: Iterator<T>): AsyncIterator<T> {
  return {
    next: async () => it.next(),
    return: async () => it.return?.() ?? { done: true, value: undefined },
  };
}
