/**
 * Matrix Market sources. `fromMtx` is a re-readable MatrixSource that reads the file lazily, on
 * the first subscription of `chunks()`, keeps the parsed matrix for later passes, and then serves
 * chunks of `chunkSize` columns exactly like `fromCsc`. Read errors (a DataError naming file and
 * line, or an NmfError 'IO') go to the Observable's error channel; a failed read is not cached,
 * so a later subscription tries again. `loadMtx` is the eager form, for callers that time loading.
 */
import { Observable } from 'rxjs';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { validate } from '../options/validate.js';
import { fromCsc, type CscMatrix, type InMemoryOptions } from './from-csc.js';
import type { MatrixSource } from './matrix-source.js';
import { readMtx } from './read-mtx.js';

export interface MtxOptions {
  /** Samples per chunk (default: all of them in one chunk). */
  readonly chunkSize?: number | undefined;
  /** Name used in error messages (default: the path). */
  readonly name?: string | undefined;
}

/** Reads the whole file now and returns an in-memory source of it. */
export async function loadMtx(path: string, options: MtxOptions = {}): Promise<MatrixSource & { readonly matrix: CscMatrix }> {
  validate('mtx', options);
  const name = options.name ?? path;
  const matrix = await readMtx(path, { name });
  return fromCsc(matrix, toInMemory(options, name));
}

/** A lazy, re-readable source over a `.mtx` / `.mtx.gz` file. Bad options throw here, synchronously. */
export function fromMtx(path: string, options: MtxOptions = {}): MatrixSource {
  validate('mtx', options);
  const name = options.name ?? path;
  let loading: Promise<MatrixSource> | undefined;
  const load = (): Promise<MatrixSource> => {
    loading ??= loadMtx(path, options).catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
  return {
    name,
    rereadable: true,
    chunks: () => new Observable<CscChunk>((subscriber) => {
      let inner: { unsubscribe(): void } | undefined;
      let closed = false;
      load().then(
        (source) => { if (!closed) inner = source.chunks().subscribe(subscriber); },
        (err: unknown) => { if (!closed) subscriber.error(err); },
      );
      return () => { closed = true; inner?.unsubscribe(); };
    }),
  };
}

function toInMemory(options: MtxOptions, name: string): InMemoryOptions {
  return options.chunkSize === undefined ? { name } : { name, chunkSize: options.chunkSize };
}
