/**
 * Files of a batch source (batch-source.ts): opening only regular files, errors about a file as a whole,
 * and the batches of a list of files read through one FileHandle each, closed at once when the pass ends.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { DataError, type DataLocation } from '../errors.js';
import { reasonOf } from '../io/io-error.js';
import type { SourceBatch } from './batch-source.js';
import { decoderReason } from './decoder-error.js';

/**
 * A problem with a file as a whole (not a value): MALFORMED_FILE / IO, what was being done and what is wrong
 * in words (decoder-error.ts, io/io-error.ts); the original error is the cause.
 */
export function fileError(code: 'MALFORMED_FILE' | 'IO', what: string, err: unknown, location: DataLocation): DataError {
  if (err instanceof DataError) return err;
  return new DataError(code, `${what}: ${code === 'IO' ? reasonOf(err) : decoderReason(err)}`, location, err);
}

/**
 * Opens `path` for reading, after checking that it is a regular file: Arrow and Parquet files are read by
 * random access, and opening a FIFO would wait for a writer for ever (a thread that even process.exit waits for).
 */
export async function openRegularFile(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      const kind = info.isDirectory() ? 'a directory' : info.isFIFO() ? 'a pipe (FIFO)' : info.isSocket() ? 'a socket' : 'a device';
      throw new DataError('IO', `cannot read the file: it is ${kind}, not a regular file (Arrow and Parquet inputs are read by random access)`, { source: path });
    }
    handle = await open(path, 'r');
  } catch (err) {
    throw fileError('IO', 'cannot open the file', err, { source: path });
  }
  return handle;
}

/** Runs `body` on an open, non-empty file and closes it. */
export async function withFile<T>(path: string, body: (handle: FileHandle, size: number) => Promise<T>): Promise<T> {
  const handle = await openRegularFile(path);
  try {
    const { size } = await handle.stat();
    if (size === 0) throw new DataError('EMPTY_INPUT', 'the file is empty (0 bytes)', { source: path });
    return await body(handle, size);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** What a file reader may ask of the pass it serves. */
export interface PassContext {
  /** True once the consumer has gone (return() was called). */
  closed(): boolean;
  /** Runs `stop` at once when the consumer goes (e.g. stop a decoder thread). */
  onClose(stop: () => void): void;
}

/**
 * The batches of `paths`, one file after the other, each read through one FileHandle by `body`.
 * `return()` closes the open handle at once and runs the `onClose` hooks (a read in flight then
 * fails, and its error is dropped because the consumer has gone); the generator's own cleanup runs
 * when it next resumes.
 */
export function handleBatches(
  paths: readonly string[] | (() => Promise<readonly string[]>),
  body: (handle: FileHandle, size: number, path: string, pass: PassContext) => AsyncGenerator<SourceBatch>,
): AsyncIterator<SourceBatch> {
  let handle: FileHandle | undefined;
  let closed = false;
  const hooks: (() => void)[] = [];
  const closeHandle = (): void => {
    const h = handle;
    handle = undefined;
    if (h) h.close().catch(() => undefined);
  };
  const pass: PassContext = {
    closed: () => closed,
    onClose: (stop) => { if (closed) stop(); else hooks.push(stop); },
  };
  async function* run(): AsyncGenerator<SourceBatch> {
    try {
      for (const path of typeof paths === 'function' ? await paths() : paths) {
        const h = await openRegularFile(path);
        if (closed) { await h.close(); return; }
        handle = h;
        const { size } = await h.stat();
        if (size === 0) throw new DataError('EMPTY_INPUT', 'the file is empty (0 bytes)', { source: path });
        yield* body(h, size, path, pass);
        closeHandle();
      }
    } finally {
      closeHandle();
    }
  }
  const it = run();
  return {
    next: () => it.next(),
    return: (value?: unknown) => {
      closed = true;
      closeHandle();
      for (const stop of hooks.splice(0)) stop();
      return it.return(value as undefined);
    },
  };
}
