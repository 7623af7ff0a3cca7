/**
 * readMtx: a Matrix Market `coordinate` file (plain or gzip, told apart by the magic bytes 1f 8b)
 * → a CscMatrix, in the file's orientation (rows = features, columns = samples).
 *
 * The file is streamed (fs stream, zlib gunzip) and parsed from bytes, line by line, by MtxParser
 * (mtx-parser.ts: a hand-written number parser, Clinger's fast path for ≤ 15 significant digits and
 * mtx-decimal.ts for up to 19, `Number` on the token otherwise, so every double is read exactly).
 * Entries are collected as COO and turned into CSC by two stable counting sorts (by row, then by
 * column: mtx-csc.ts), so any entry order gives the same arrays, rows ascending within each column.
 *
 * Semantics: field real | integer | pattern (pattern → 1); symmetry general | symmetric (each
 * off-diagonal entry is mirrored as given, so a symmetric file must list one triangle only).
 * Duplicate (i, j) entries are summed, in file order. Explicit zeros are dropped. `%` comment
 * lines and blank lines are skipped. Errors are DataErrors naming the file and the 1-based line;
 * `feature`/`sample` in their locations are 0-based, the message quotes the file's 1-based index.
 */
import { open } from 'node:fs/promises';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { defaultMemoryLimit, type MemoryBudget } from '../memory-limit.js';
import { DataError, NmfError } from '../errors.js';
import type { CscMatrix } from './from-csc.js';
import { MtxParser } from './mtx-parser.js';

export interface ReadMtxOptions {
  /** Name used in error messages (default: the path). */
  readonly name?: string | undefined;
  /** Bytes reading may take (memory-limit.ts; default: a fraction of the machine's memory). */
  readonly memoryLimit?: number | undefined;
  /** The consumer's budget (a fit's W and H), checked against the declared shape before reading the entries. */
  readonly budget?: MemoryBudget | undefined;
  /** 'nan': a value `nan` is a missing entry (kept as NaN) instead of an INVALID_VALUE error. */
  readonly missing?: 'error' | 'nan' | undefined;
}

/** Reads a Matrix Market coordinate file (plain or gzip) into a CSC matrix, rows = features; a DataError names the file and line. */
export async function readMtx(path: string, options: ReadMtxOptions = {}): Promise<CscMatrix> {
  const name = options.name ?? path;
  const parser = new MtxParser(name, options.memoryLimit ?? defaultMemoryLimit(), options.budget);
  parser.nanMissing = options.missing === 'nan';
  const stream = await openStream(path, name);
  try {
    for await (const chunk of stream) parser.push(chunk as Buffer);
  } catch (err) {
    if (err instanceof NmfError) throw err;
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new DataError('MALFORMED_FILE', `gzip data is corrupt: ${(err as Error).message}`, { source: name, line: parser.line + 1 }, err);
    }
    throw new NmfError('IO', `cannot read ${path}: ${(err as Error).message}`, { location: { source: name }, cause: err });
  }
  return parser.finish();
}

/** The file as a byte stream, gunzipped when it starts with the gzip magic bytes. */
async function openStream(path: string, name: string): Promise<Readable> {
  let handle;
  try {
    handle = await open(path, 'r');
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    const file = handle.createReadStream({ start: 0, highWaterMark: 1 << 20 });
    if (bytesRead < 2 || buffer[0] !== 0x1f || buffer[1] !== 0x8b) return file;
    const gunzip = createGunzip({ chunkSize: 1 << 18 });
    pipeline(file, gunzip, () => { /* errors reach the reader through gunzip */ });
    return gunzip;
  } catch (err) {
    await handle?.close().catch(() => undefined);
    throw new NmfError('IO', `cannot read ${path}: ${(err as Error).message}`, { location: { source: name }, cause: err });
  }
}
