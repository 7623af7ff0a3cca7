/**
 * One JetStream message — an Arrow IPC stream (or file) of record batches in any layout the file sources take
 * (source/layout.ts) — as one CSC chunk, read by the file sources' own converters (`fromArrow` on the bytes). A
 * message holds whole samples: its samples are the chunk's columns (long layout: its integer sample ids number the
 * message's own samples from indexBase, as `nmflow stream publish` writes them). The features m: the `features`
 * option (or featureNames), else the message's schema metadata `nmflow.features` (written by `stream publish`),
 * else the wide layout's columns. A message that is not Arrow IPC is a DataError naming stream, subject and sequence.
 */
import { lastValueFrom, toArray } from 'rxjs';
import { RecordBatchReader } from 'apache-arrow';
import { makeCscBuilder } from '../chunk/csc-builder.js';
import { makeCscChunk, type CscChunk } from '../chunk/csc-chunk.js';
import { DataError, NmfError } from '../errors.js';
import { fromArrow } from '../source/from-arrow.js';
import type { SourceOptions } from '../source/layout.js';

/** Where a message is: for messages and DataErrors. */
export interface MessageWhere {
  readonly stream: string;
  readonly subject: string;
  readonly sequence: number;
}

export function describeMessage(where: MessageWhere): string {
  return `stream ${where.stream}, subject ${where.subject}, sequence ${where.sequence}`;
}

/** The schema metadata of an Arrow IPC message (undefined when it is not Arrow IPC: fromArrow then says why). */
function metadataOf(bytes: Uint8Array): Map<string, string> | undefined {
  try {
    const reader = RecordBatchReader.from(bytes);
    reader.open();
    return reader.schema.metadata;
  } catch {
    return undefined;
  }
}

/** The layout with m settled for one message (see the header). */
export function messageLayout(options: SourceOptions, bytes: Uint8Array, name: string): SourceOptions {
  if (options.layout === 'wide' || options.features !== undefined || options.featureNames !== undefined) return { ...options, name };
  if (options.unknownFeatures === 'extend') return { ...options, name };
  const features = Number(metadataOf(bytes)?.get('nmflow.features'));
  return Number.isSafeInteger(features) && features >= 1 ? { ...options, name, features } : { ...options, name };
}

/**
 * The chunk of one message, numbered `colStart` / `position` and carrying the message's sequence; undefined for a
 * message without rows. Errors are nmflow's typed errors naming the message.
 */
export async function messageChunk(bytes: Uint8Array, options: SourceOptions, where: MessageWhere, colStart: number, position: number): Promise<CscChunk | undefined> {
  const name = describeMessage(where);
  let chunks: CscChunk[];
  try {
    chunks = await lastValueFrom(fromArrow(bytes, messageLayout(options, bytes, name)).chunks().pipe(toArray()));
  } catch (error) {
    if (error instanceof NmfError && error.code === 'EMPTY_INPUT') return undefined;
    if (error instanceof NmfError) throw error;
    throw new DataError('MALFORMED_FILE', `the message is not Arrow IPC record batches: ${(error as Error)?.message ?? error}`, { source: name }, error);
  }
  if (chunks.length === 0) return undefined;
  const m = chunks.at(-1)!.m;
  let whole = chunks[0]!;
  if (chunks.length > 1) {
    const builder = makeCscBuilder(m);
    for (const chunk of chunks) builder.append(chunk, name);
    const matrix = builder.finish();
    whole = makeCscChunk({ m, colStart: 0, colPtr: matrix.colPtr, rowIdx: matrix.rowIdx, values: matrix.values });
  }
  return { ...makeCscChunk({ m, colStart, colPtr: whole.colPtr, rowIdx: whole.rowIdx, values: whole.values, position }), sequence: where.sequence };
}
