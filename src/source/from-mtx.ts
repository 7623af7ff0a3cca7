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
import type { MemoryBudget } from '../memory-limit.js';
import { readMtx } from './read-mtx.js';

export interface MtxOptions {
  /** Samples per chunk (default: all of them in one chunk). */
  readonly chunkSize?: number | undefined;
  /** Name used in error messages (default: the path). */
  readonly name?: string | undefined;
  /** Bytes reading may take (memory-limit.ts; default: a fraction of the machine's memory). */
  readonly memoryLimit?: number | undefined;
  /** 'nan': a value `nan` is a missing entry (fit with `missing: 'nan'` too); default 'error'. */
  readonly missing?: 'error' | 'nan' | undefined;
}

/** Reads the whole file now and returns an in-memory source of it. `budget`: the consumer's, checked against the size line (read-mtx.ts). */
export async function loadMtx(path: string, options: MtxOptions = {}, budget?: MemoryBudget): Promise<MatrixSource & { readonly matrix: CscMatrix }> {
  validate('mtx', options);
  const name = options.name ?? path;
  const matrix = await readMtx(path, { name, memoryLimit: options.memoryLimit, budget, missing: options.missing });
  return fromCsc(matrix, toInMemory(options, name));
}

/** A lazy, re-readable source over a `.mtx` / `.mtx.gz` file. Bad options throw here, synchronously. */
export function fromMtx(path: string, options: MtxOptions = {}): MatrixSource {
  validate('mtx', options);
  const name = options.name ?? path;
  let loading: Promise<MatrixSource> | undefined;
  const load = (budget: MemoryBudget | undefined): Promise<MatrixSource> => {
    loading ??= loadMtx(path, options, budget).catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
  return {
    name,
    rereadable: true,
    chunks: (budget?: MemoryBudget) => new Observable<CscChunk>((subscriber) => {
      let inner: { unsubscribe(): void } | undefined;
      let closed = false;
      load(budget).then(
        (source) => { if (!closed) inner = source.chunks(budget).subscribe(subscriber); },
        (err: unknown) => { if (!closed) subscriber.error(err); },
      );
      return () => { closed = true; inner?.unsubscribe(); };
    }),
  };
}

function toInMemory(options: MtxOptions, name: string): InMemoryOptions {
  return { name, ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }), ...(options.missing === undefined ? {} : { missing: options.missing }) };
}
