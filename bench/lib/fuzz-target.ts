/**
 * The child process of the fuzz harness (bench/fuzz.ts): reads one input per request, the way the CLI and
 * the library read it, and replies with what happened. Started with an IPC channel (`fork`); the parent
 * kills it when a request takes too long (a hang) and starts another.
 *
 *   mtx        loadMtx → chunks                      arrow, parquet  fromArrow / fromParquet (a layout) → chunks
 *   csv        readCsvMatrix (--init-w / --init-h)   model           readModel (.csv, .arrow, .parquet)
 *   checkpoint readCheckpoint, then one iteration resumed from it on the data it was made from
 *
 * Replies: `ok` with a digest of what was read (SHA-1 of the shapes and arrays), `typed` (an NmfError: its
 * code, message and whether the message is clear — it names the file and is in the project's words), or
 * `crash` (anything else, with its stack). An uncaught exception or unhandled rejection is a crash too,
 * after which this process exits.
 */
import { createHash, type Hash } from 'node:crypto';
import { lastValueFrom, toArray } from 'rxjs';
import { NmfError, OptionError } from '../../src/errors.js';
import { readCheckpoint } from '../../src/io/checkpoint.js';
import { readModel } from '../../src/io/model-file.js';
import { fitModel } from '../../src/pipeline/fit.js';
import { getHeapStatistics } from 'node:v8';
import { fitBudget } from '../../src/memory-limit.js';
import { fromArrow } from '../../src/source/from-arrow.js';
import { fromCsc } from '../../src/source/from-csc.js';
import { loadMtx } from '../../src/source/from-mtx.js';
import { fromParquet } from '../../src/source/from-parquet.js';
import type { SourceOptions } from '../../src/source/layout.js';
import type { MatrixSource } from '../../src/source/matrix-source.js';
import { readCsvMatrix } from '../../src/source/read-csv-matrix.js';
import { readMtx } from '../../src/source/read-mtx.js';
import type { FitOptions } from '../../src/options.js';

export type TargetKind = 'mtx' | 'arrow' | 'parquet' | 'csv' | 'checkpoint' | 'model';

export interface TargetRequest {
  readonly id: number;
  readonly kind: TargetKind;
  /** The input file (checkpoint: the directory holding checkpoint.nmf). */
  readonly path: string;
  /** arrow / parquet: the table layout. */
  readonly layout?: SourceOptions;
  /** checkpoint: the data (.mtx) and the options of the fit that wrote it; resumed for one more iteration. */
  readonly resume?: { readonly data: string; readonly options: FitOptions; readonly chunkSize: number };
}

export type TargetReply =
  | { readonly id: number; readonly outcome: 'ok'; readonly digest: string }
  | { readonly id: number; readonly outcome: 'typed'; readonly code: string; readonly message: string; readonly clear: boolean }
  | { readonly id: number; readonly outcome: 'crash'; readonly message: string; readonly stack: string };

/** Library phrasings that must not be all a user is told (a message in a library's words counts as unclear). */
export const LIBRARY_WORDS = /unreachable|RuntimeError|Parquet error|Cannot read propert|is not a function|is not iterable|of undefined|panicked|Unexpected token|JSON at position|Invalid typed array|Offset is outside|out of bounds|Expected to read|wasm|\bat position\b/i;

/** A typed error is clear when it names the file (or the option) and says what is wrong in the project's words. */
export function isClear(error: NmfError): boolean {
  const located = error instanceof OptionError || error.location?.source !== undefined;
  return located && !LIBRARY_WORDS.test(error.message);
}

// The child reads as a fit at rank 10 would, with the memory limit set to its own heap (bench/fuzz.ts --heap).
const memoryLimit = getHeapStatistics().heap_size_limit;
const budget = fitBudget(memoryLimit, { rank: 10, loss: 'l2' });

async function digestOfSource(source: MatrixSource, hash: Hash): Promise<void> {
  const chunks = await lastValueFrom(source.chunks(budget).pipe(toArray()));
  for (const c of chunks) {
    hash.update(`${c.m},${c.n},${c.colStart};`);
    hash.update(new Uint8Array(c.colPtr.buffer, c.colPtr.byteOffset, (c.n + 1) * 4));
    const nnz = c.colPtr[c.n]!;
    hash.update(new Uint8Array(c.rowIdx.buffer, c.rowIdx.byteOffset, nnz * 4));
    hash.update(new Uint8Array(c.values.buffer, c.values.byteOffset, nnz * 8));
  }
}

const bytesOf = (a: Float64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const matrices = new Map<string, ReturnType<typeof readMtx>>();

async function run(request: TargetRequest): Promise<string> {
  const hash = createHash('sha1');
  const { kind, path } = request;
  if (kind === 'mtx') await digestOfSource(await loadMtx(path, { chunkSize: 64, memoryLimit }), hash);
  else if (kind === 'arrow') await digestOfSource(fromArrow(path, { ...request.layout, chunkSize: 64 } as SourceOptions), hash);
  else if (kind === 'parquet') await digestOfSource(fromParquet(path, { ...request.layout, chunkSize: 64 } as SourceOptions), hash);
  else if (kind === 'csv') {
    const matrix = await readCsvMatrix(path);
    hash.update(`${matrix.rows},${matrix.cols};`).update(bytesOf(matrix.data));
  } else if (kind === 'model') {
    const model = await readModel(path);
    hash.update(`${model.loss},${model.rank},${model.features};${model.featureNames.join('\u0000')};`).update(bytesOf(model.W)).update(bytesOf(model.d));
  } else {
    const checkpoint = readCheckpoint(path);
    for (const [name, array] of Object.entries(checkpoint.state.arrays)) hash.update(name).update(bytesOf(array));
    const resume = request.resume;
    if (resume) {
      let matrix = matrices.get(resume.data);
      if (!matrix) { matrix = readMtx(resume.data); matrices.set(resume.data, matrix); }
      const iterations = checkpoint.trace.at(-1)?.iteration ?? 0;
      const model = await fitModel(fromCsc(await matrix, { chunkSize: resume.chunkSize }),
        { ...resume.options, resumeFrom: path, maxIterations: Math.min(iterations + 1, 50), tol: 0, threads: 1 });
      hash.update(bytesOf(model.W)).update(bytesOf(model.d));
    }
  }
  return hash.digest('hex');
}

let current: number | undefined;
const send = (reply: TargetReply): void => { process.send?.(reply); };
const crashed = (error: unknown): void => {
  const e = error instanceof Error ? error : new Error(String(error));
  send({ id: current ?? -1, outcome: 'crash', message: `uncaught: ${e.message}`, stack: e.stack ?? '' });
  process.exit(70);
};
process.on('uncaughtException', crashed);
process.on('unhandledRejection', crashed);
process.on('disconnect', () => process.exit(0));
process.on('message', (request: TargetRequest) => {
  current = request.id;
  run(request).then(
    (digest) => send({ id: request.id, outcome: 'ok', digest }),
    (error: unknown) => {
      if (error instanceof NmfError) send({ id: request.id, outcome: 'typed', code: error.code, message: error.message, clear: isClear(error) });
      else {
        const e = error instanceof Error ? error : new Error(String(error));
        send({ id: request.id, outcome: 'crash', message: e.message, stack: e.stack ?? '' });
      }
    },
  );
});
send({ id: -1, outcome: 'ok', digest: 'ready' });
