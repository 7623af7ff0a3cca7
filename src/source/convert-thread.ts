/**
 * The Parquet decoder worker's conversion (issue #17: decoding, layout conversion and validation off the main
 * thread). For a pass over the files of a source, the worker decodes each row group (parquet-wasm → Arrow IPC →
 * record batches), checks every batch (check-batch.ts), feeds it to the pass's converter (converter.ts: long /
 * wide / list → CSC), checks each finished chunk (check-chunk.ts) and posts it with its arrays transferred.
 * It runs ahead of the consumer by at most `credits` chunks: the main thread (parquet-chunks.ts) grants one
 * credit each time its consumer takes a chunk, so the chunks in flight are bounded and the worker never waits
 * while there is room. The converters are the main thread's ones, fed the same batches: the chunks are the
 * same, byte for byte, and so are the errors, which travel as data (code, message, location) and are rebuilt
 * as the same DataError on the main thread.
 *
 * Protocol (main → worker, after the file has been opened with the decoder's own 'open' call):
 * conv-start(plan, credits) → conv-file(path, rows per row group) … → conv-finish; credit(n) at any time.
 * Events (worker → main): chunk, pos (where the decoder is: the location of a decoder failure), file-end,
 * fail (a decoder failure at the last pos), data-error, other-error, conv-end (sample ids), conv-done.
 */
import type { FileHandle } from 'node:fs/promises';
import { tableFromIPC } from 'apache-arrow';
import type { BatchWhere } from '../chunk/arrow-column.js';
import { checkChunk } from '../chunk/check-chunk.js';
import { hasOwnArrays } from '../chunk/chunk-builder.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { LongToCsc } from '../chunk/long-to-csc.js';
import { DataError, describeLocation, NmfError, type DataLocation, type NmfErrorCode } from '../errors.js';
import { memoryBudget, type Costs } from '../memory-limit.js';
import { readerBatches } from './arrow-ipc-batches.js';
import { checkBatch } from './check-batch.js';
import { makeConverter, type Converter, type ConverterInfo } from './converter.js';
import type { ResolvedLayout } from './layout.js';

/** What the worker needs to convert a pass: all of it plain data (structured clone). */
export interface ConvertPlan {
  /** The source's name (errors that are about the input as a whole, chunk checks). */
  readonly name: string;
  readonly layout: ResolvedLayout;
  readonly info: ConverterInfo;
  /** The consumer's memory budget (memory-limit.ts), made again in the worker. */
  readonly budget: { readonly limit: number; readonly costs: Costs } | undefined;
}

export type ConvertRequest =
  | { type: 'conv-start'; plan: ConvertPlan; credits: number }
  | { type: 'conv-file'; path: string; groupRows: number[]; batchSize: number; columns: string[] | undefined }
  | { type: 'conv-arrow'; path: string; size: number }
  | { type: 'credit'; n: number }
  | { type: 'conv-finish' };

export type ConvertEvent =
  | { type: 'chunk'; m: number; colStart: number; position: number; colPtr: Int32Array; rowIdx: Int32Array; values: Float64Array }
  | { type: 'pos'; group: number; row: number; what: 'cannot read' | 'cannot decode' }
  | { type: 'file-end' }
  | { type: 'fail'; message: string }
  | ErrorEvent
  | { type: 'conv-end'; sampleIds: string[] | undefined }
  | { type: 'conv-done' };

/**
 * An error as data: a DataError or NmfError keeps its code, message (without the location suffix), location, class
 * (`plain`: an NmfError that is not a DataError) and its cause's code and message; anything else its message.
 */
export type ErrorEvent =
  | { type: 'data-error'; code: NmfErrorCode; message: string; location: DataLocation | undefined; plain?: true; cause?: { code?: string; message: string } }
  | { type: 'other-error'; message: string };

export const CONVERT_EVENTS: ReadonlySet<string> = new Set(['chunk', 'pos', 'file-end', 'fail', 'data-error', 'other-error', 'conv-end', 'conv-done']);

interface BatchReader { read(): Promise<{ done: boolean; value?: { intoIPCStream(): Uint8Array } }> }

/** What the worker's module provides: posting, and a reader of one row group of the open file. */
export interface ConvertHost {
  post(event: ConvertEvent, transfer?: ArrayBuffer[]): void;
  group(group: number, batchSize: number, columns: string[] | undefined): Promise<BatchReader>;
  /** Bytes [start, end) of the open file (the main thread reads them). */
  bytes(start: number, end: number): Promise<ArrayBuffer>;
}

interface Session {
  readonly plan: ConvertPlan;
  readonly converter: Converter;
  credits: number;
  wake: (() => void) | undefined;
  rows: number;
}

let session: Session | undefined;

/** A failure that has been posted: the pass stops there. */
class Posted extends Error {}

export async function convertCall(msg: ConvertRequest, host: ConvertHost): Promise<void> {
  if (msg.type === 'credit') {
    if (!session) return;
    session.credits += msg.n;
    const wake = session.wake;
    session.wake = undefined;
    wake?.();
    return;
  }
  try {
    if (msg.type === 'conv-start') {
      const { plan } = msg;
      const budget = plan.budget && memoryBudget(plan.budget.limit, plan.budget.costs);
      const converter = makeConverter(plan.layout, plan.info, false, budget);
      if (!converter) throw new Error('no converter for this layout');
      session = { plan, converter, credits: msg.credits, wake: undefined, rows: 0 };
    } else if (msg.type === 'conv-file') {
      await convertFile(session!, msg, host);
    } else if (msg.type === 'conv-arrow') {
      await convertArrowFile(session!, msg, host);
    } else {
      await finishPass(session!, host);
    }
  } catch (err) {
    if (err instanceof Posted) return;
    host.post(errorEvent(err));
  }
}

async function convertFile(s: Session, msg: Extract<ConvertRequest, { type: 'conv-file' }>, host: ConvertHost): Promise<void> {
  let rowOffset = 0;
  for (let g = 0; g < msg.groupRows.length; g++) {
    let within = 0;
    host.post({ type: 'pos', group: g, row: rowOffset, what: 'cannot read' });
    const reader = await decoding(() => host.group(g, msg.batchSize, msg.columns), host);
    host.post({ type: 'pos', group: g, row: rowOffset, what: 'cannot decode' });
    for (;;) {
      const ipc = await decoding(async () => {
        const r = await reader.read();
        return r.done ? undefined : r.value!.intoIPCStream();
      }, host);
      if (!ipc) break;
      for (const batch of tableFromIPC(ipc).batches) {
        const where: BatchWhere = { source: msg.path, batch: g, rowOffset: rowOffset + within, unit: 'row group' };
        checkBatch(batch, where);
        s.rows += batch.numRows;
        for (const chunk of s.converter.push(batch, where)) await send(s, chunk, host);
        within += batch.numRows;
      }
      host.post({ type: 'pos', group: g, row: rowOffset + within, what: 'cannot decode' });
    }
    if (within !== msg.groupRows[g]) {
      throw new DataError('MALFORMED_FILE', `row group ${g} decoded to ${within} rows; the footer says ${msg.groupRows[g]}`,
        { source: msg.path, batch: g, row: rowOffset + within });
    }
    rowOffset += within;
  }
  host.post({ type: 'file-end' });
}

/** An Arrow IPC file, read through byte ranges (a FileHandle's read and stat: what arrow-ipc-batches.ts uses), batch by batch. */
async function convertArrowFile(s: Session, msg: Extract<ConvertRequest, { type: 'conv-arrow' }>, host: ConvertHost): Promise<void> {
  const handle = {
    fd: -1,
    stat: async () => ({ size: msg.size }),
    read: async (buffer: Uint8Array, offset: number, length: number, position: number) => {
      const bytes = new Uint8Array(await host.bytes(position, Math.min(position + length, msg.size)));
      buffer.set(bytes, offset);
      return { bytesRead: bytes.length, buffer };
    },
    close: async () => undefined,
  };
  for await (const { batch, where } of readerBatches(handle as unknown as FileHandle, msg.size, msg.path, { closed: () => false })) {
    checkBatch(batch, where);
    s.rows += batch.numRows;
    for (const chunk of s.converter.push(batch, where)) await send(s, chunk, host);
  }
  host.post({ type: 'file-end' });
}

async function finishPass(s: Session, host: ConvertHost): Promise<void> {
  if (s.rows === 0) throw new DataError('EMPTY_INPUT', 'the input has no rows', { source: s.plan.name });
  const c = s.converter;
  host.post({ type: 'conv-end', sampleIds: c instanceof LongToCsc && c.sampleIds.length > 0 ? [...c.sampleIds] : undefined });
  for (const chunk of c.finish()) await send(s, chunk, host);
  session = undefined;
  host.post({ type: 'conv-done' });
}

/** A decoder step: its failure is posted as 'fail' (the main thread knows where, from the last 'pos'). */
async function decoding<T>(step: () => Promise<T>, host: ConvertHost): Promise<T> {
  try {
    return await step();
  } catch (err) {
    host.post({ type: 'fail', message: String((err as Error | undefined)?.message ?? err) });
    throw new Posted();
  }
}

/**
 * Waits for a credit, checks the chunk and posts it: its own arrays transferred as they are, views of a record batch's
 * buffer (chunk-builder.ts zero-copy runs, which other chunks may share) copied first.
 */
async function send(s: Session, chunk: CscChunk, host: ConvertHost): Promise<void> {
  while (s.credits <= 0) await new Promise<void>((resolve) => { s.wake = resolve; });
  s.credits--;
  checkChunk(chunk, s.plan.name, s.plan.layout.missing);
  const nnz = chunk.colPtr[chunk.n]!;
  const own = hasOwnArrays(chunk) && chunk.rowIdx.buffer !== chunk.values.buffer && chunk.colPtr.buffer !== chunk.rowIdx.buffer;
  const colPtr = own ? chunk.colPtr : chunk.colPtr.slice();
  const rowIdx = own ? chunk.rowIdx.subarray(0, nnz) : chunk.rowIdx.slice(0, nnz);
  const values = own ? chunk.values.subarray(0, nnz) : chunk.values.slice(0, nnz);
  host.post({ type: 'chunk', m: chunk.m, colStart: chunk.colStart, position: chunk.position, colPtr, rowIdx, values },
    [colPtr.buffer as ArrayBuffer, rowIdx.buffer as ArrayBuffer, values.buffer as ArrayBuffer]);
}

/** An error as data (ErrorEvent). */
export function errorEvent(err: unknown): ErrorEvent {
  if (err instanceof DataError || (err instanceof NmfError && err.constructor === NmfError)) {
    const suffix = err.location ? ` (${describeLocation(err.location)})` : '';
    const message = suffix && err.message.endsWith(suffix) ? err.message.slice(0, -suffix.length) : err.message;
    const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
    return { type: 'data-error', code: err.code, message, location: err.location && { ...err.location }, ...(err instanceof DataError ? {} : { plain: true as const }),
      ...(cause && typeof cause === 'object' ? { cause: { message: String(cause.message), ...(typeof cause.code === 'string' ? { code: cause.code } : {}) } } : {}) };
  }
  return { type: 'other-error', message: String((err as Error | undefined)?.message ?? err) };
}

/** The main thread's side of errorEvent. */
export function rebuildError(event: ErrorEvent): Error {
  if (event.type === 'other-error') return new Error(event.message);
  if (event.plain || !event.location) {
    return new NmfError(event.code, event.message, { ...(event.location ? { location: event.location } : {}), ...(event.cause ? { cause: event.cause } : {}) });
  }
  return new DataError(event.code, event.message, event.location, event.cause);
}
