/**
 * Matrix Market sources. `fromMtx` is a re-readable MatrixSource that reads the file lazily, on
 * the first subscription of `chunks()`, keeps the parsed matrix for later passes, and then serves
 * chunks of `chunkSize` columns exactly like `fromCsc`. A file of 8 MB or more is read and parsed in the decoder's
 * worker (mtx-off-thread.ts), off the main thread. Read errors (a DataError naming file and
 * line, or an NmfError 'IO') go to the Observable's error channel; a failed read is not cached,
 * so a later subscription tries again. `loadMtx` is the eager form, for callers that time loading.
 *
 * Names: `featureNames` / `sampleNames` (arrays, or paths of names files: names-file.ts) name the rows and the
 * columns of the matrix fitted; a 10x Genomics folder (or a `…matrix.mtx[.gz]` beside its `features.tsv[.gz]` and
 * `barcodes.tsv[.gz]`) names them by default. `transpose`: the file is samples × features (rows are samples),
 * fitted as its transpose; the 10x names follow the rows and columns they name.
 */
import { Observable } from 'rxjs';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { validate } from '../options/validate.js';
import { fromCsc, type CscMatrix, type InMemoryOptions } from './from-csc.js';
import type { MatrixSource } from './matrix-source.js';
import type { MemoryBudget } from '../memory-limit.js';
import { readMtxOffThread } from './mtx-off-thread.js';
import { transposeCsc } from '../chunk/transpose.js';
import { DataError } from '../errors.js';
import { readNamesFile, tenxFiles } from './names-file.js';

export interface MtxOptions {
  /** Samples per chunk (default: all of them in one chunk). */
  readonly chunkSize?: number | undefined;
  /** Name used in error messages (default: the path). */
  readonly name?: string | undefined;
  /** Bytes reading may take (memory-limit.ts; default: a fraction of the machine's memory). */
  readonly memoryLimit?: number | undefined;
  /** Feature names (one per feature, after `transpose`), or the path of a names file (one a line, or a 10x features.tsv). */
  readonly featureNames?: readonly string[] | string | undefined;
  /** Sample names (one per sample, after `transpose`), or the path of a names file (one a line, or a 10x barcodes.tsv). */
  readonly sampleNames?: readonly string[] | string | undefined;
  /** The file is samples × features (one row per sample): fit its transpose. Default false. */
  readonly transpose?: boolean | undefined;
  /** 'nan': a value `nan` is a missing entry (fit with `missing: 'nan'` too); default 'error'. */
  readonly missing?: 'error' | 'nan' | undefined;
}

/**
 * Reads a Matrix Market file (`.mtx`, `.mtx.gz`) or a 10x Genomics folder / triplet now and returns an in-memory
 * source of it, named by `featureNames` / `sampleNames` (or the 10x files). `budget`: the consumer's, checked
 * against the size line (read-mtx.ts). Rejects with a DataError naming the file and line for bad data.
 */
export async function loadMtx(path: string, options: MtxOptions = {}, budget?: MemoryBudget): Promise<MatrixSource & { readonly matrix: CscMatrix }> {
  validate('mtx', options);
  const tenx = tenxFiles(path);
  const file = tenx?.matrix ?? path;
  const name = options.name ?? path;
  const transpose = options.transpose === true;
  const read = await readMtxOffThread(file, { name, memoryLimit: options.memoryLimit, budget: transpose ? undefined : budget, missing: options.missing });
  const matrix = transpose ? transposeCsc(read) : read;
  if (transpose) budget?.check(matrix.m, matrix.n, { source: name });
  // 10x names name the file's rows (features) and columns (barcodes); transposed, they swap.
  const rows = tenx?.features, columns = tenx?.barcodes;
  const featureNames = await namesOf(options.featureNames ?? (transpose ? columns : rows), 'features', matrix.m, 'featureNames', name);
  const sampleNames = await namesOf(options.sampleNames ?? (transpose ? rows : columns), 'samples', matrix.n, 'sampleNames', name);
  return fromCsc(matrix, {
    ...toInMemory(options, name), ...(featureNames ? { featureNames } : {}), ...(sampleNames ? { sampleNames } : {}),
  });
}

/** Names given or read from a file, checked to be one per feature (sample). */
async function namesOf(given: readonly string[] | string | undefined, kind: 'features' | 'samples', count: number, option: string, source: string): Promise<readonly string[] | undefined> {
  if (given === undefined) return undefined;
  const names = typeof given === 'string' ? await readNamesFile(given, kind) : given;
  if (names.length !== count) {
    const what = typeof given === 'string' ? `${given} has ${names.length} names` : `${names.length} names`;
    throw new DataError('SHAPE_MISMATCH', `${option}: ${what}, but ${source} has ${count} ${kind}${kind === 'samples' ? ' (columns; --transpose if the file has one row per sample)' : ' (rows; --transpose if the file has one row per sample)'}`, { source: typeof given === 'string' ? given : source });
  }
  return names;
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
