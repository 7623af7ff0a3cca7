/**
 * The main thread's side of a pass converted in the decoder's worker (convert-thread.ts): finished CSC chunks of
 * Parquet files or (`arrowIpc`) Arrow IPC files, read ahead of the consumer by at most `readAhead` chunks. One worker serves the whole pass (the
 * converter's state spans files); the main thread keeps the file handles (the worker asks for byte ranges), opens
 * the next file as soon as the worker has finished the previous one (not when the consumer reaches it), and grants
 * the worker one credit each time the consumer takes a chunk. Errors come in the order the main-thread reader
 * would raise them: after the chunks before them, with the same codes, messages and locations.
 * `return()` (the consumer has gone) closes the open file and stops the worker at once.
 * A worker that sends nothing for `limitMs` of the row group's bytes while the consumer waits is stopped
 * (DecoderStalled), as a decoder call is in from-parquet.ts.
 */
import type { FileHandle } from 'node:fs/promises';
import { markChecked } from '../chunk/check-chunk.js';
import { makeCscChunk, type CscChunk } from '../chunk/csc-chunk.js';
import { markCanonical } from '../chunk/sum-duplicates.js';
import { DataError } from '../errors.js';
import { rebuildError, type ConvertEvent, type ConvertPlan, type ConvertRequest } from './convert-thread.js';
import { fileError, openRegularFile } from './file-handles.js';
import { checkColumns, handleBuffer, limitMs, readAt, readFooter } from './parquet-file.js';
import { DecoderStalled, DecoderWorker } from './parquet-worker.js';

/** What a converted pass delivers: chunks, then (long layout with string sample ids) the ids, before the last chunks. */
export type ConvertedItem = { readonly chunk: CscChunk } | { readonly sampleIds: readonly string[] };

type Entry = { item: ConvertedItem } | { error: unknown } | { end: true };

export interface ConvertedPass {
  readonly paths: () => Promise<readonly string[]>;
  readonly columns: readonly string[] | undefined;
  readonly batchSize: number;
  readonly plan: ConvertPlan;
  /** Chunks the worker may have made that the consumer has not taken (≥ 1). */
  readonly readAhead: number;
  /** The files are Arrow IPC files (read by the worker through arrow-ipc-batches.ts), not Parquet. */
  readonly arrowIpc?: boolean;
}

export function parquetChunks(pass: ConvertedPass): AsyncIterator<ConvertedItem> {
  const queue: Entry[] = [];
  let waiter: (() => void) | undefined;
  let closed = false;
  let failed = false;
  let worker: DecoderWorker | undefined;
  let handle: FileHandle | undefined;
  let path = '';
  let limit = limitMs(0);
  let at: Extract<ConvertEvent, { type: 'pos' }> = { type: 'pos', group: 0, row: 0, what: 'cannot read' };
  let fileEnd: (() => void) | undefined;
  let finished: (() => void) | undefined;

  const push = (entry: Entry): void => {
    if (closed || failed) return;
    if ('error' in entry || 'end' in entry) {
      failed = 'error' in entry;
      if (failed) stop();
    }
    queue.push(entry);
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const fail = (err: unknown): void => push({ error: err });
  const decodeFailure = (err: unknown): DataError => fileError('MALFORMED_FILE', `${at.what} row group ${at.group}`, err,
    { source: path, batch: at.group, row: at.row });
  const closeHandle = (): void => {
    const h = handle;
    handle = undefined;
    h?.close().catch(() => undefined);
  };
  const stop = (): void => {
    closeHandle();
    worker?.terminate();
    // Let the driver return (its awaits would otherwise never settle).
    fileEnd?.();
    finished?.();
  };

  const onEvent = (e: ConvertEvent): void => {
    switch (e.type) {
      case 'chunk': {
        const chunk = makeCscChunk({ m: e.m, colStart: e.colStart, position: e.position, colPtr: e.colPtr, rowIdx: e.rowIdx, values: e.values });
        push({ item: { chunk: markChecked(markCanonical(chunk), pass.plan.layout.missing) } });
        return;
      }
      case 'pos': at = e; return;
      case 'file-end': fileEnd?.(); return;
      case 'fail': fail(decodeFailure(e.message)); return;
      case 'data-error': case 'other-error': fail(rebuildError(e)); return;
      case 'conv-end': if (e.sampleIds) push({ item: { sampleIds: e.sampleIds } }); return;
      case 'conv-done': finished?.(); return;
    }
  };

  async function drive(): Promise<void> {
    const paths = await pass.paths();
    const w = await DecoderWorker.acquire();
    worker = w;
    if (closed || failed) { w.terminate(); return; }
    w.lastActivity = performance.now();
    w.listen({ event: onEvent, died: (err) => fail(decodeFailure(err)) });
    w.post({ type: 'conv-start', plan: pass.plan, credits: Math.max(1, pass.readAhead) });
    for (const p of paths) {
      path = p;
      at = { type: 'pos', group: 0, row: 0, what: 'cannot read' };
      const h = await openRegularFile(p);
      if (closed || failed) { await h.close(); return; }
      handle = h;
      const { size } = await h.stat();
      if (size === 0) throw new DataError('EMPTY_INPUT', 'the file is empty (0 bytes)', { source: p });
      w.setSource((start, end) => readAt(h, start, end));
      if (pass.arrowIpc) {
        limit = limitMs(size);
        if (!(await fileDone(w, { type: 'conv-arrow', path: p, size }))) return;
        continue;
      }
      const footer = await readFooter(handleBuffer(h, size), p);
      checkColumns(footer, pass.columns, p);
      const opened = await w.call({ type: 'open', size }, limitMs(0))
        .catch((err: unknown) => ({ type: 'error' as const, message: err instanceof DecoderStalled ? err.message : String(err) }));
      if (closed || failed) return;
      if (opened.type !== 'ok') throw fileError('MALFORMED_FILE', 'cannot open the file', opened.type === 'error' ? opened.message : 'no reply', { source: p });
      const groups = footer.row_groups;
      limit = limitMs(groups.reduce((most, g) => Math.max(most, Number(g.total_byte_size)), 0));
      const converted = await fileDone(w, { type: 'conv-file', path: p, groupRows: groups.map((g) => Number(g.num_rows)), batchSize: pass.batchSize,
        columns: pass.columns ? [...pass.columns] : undefined });
      if (!converted) return;
    }
    const done = new Promise<void>((resolve) => { finished = resolve; });
    w.post({ type: 'conv-finish' });
    await done;
    if (closed || failed) return;
    worker = undefined;
    w.release();
    push({ end: true });
  }

  /** Has the worker convert one file; false when the pass has ended meanwhile (consumer gone, or failed). */
  async function fileDone(w: DecoderWorker, request: Extract<ConvertRequest, { type: 'conv-file' | 'conv-arrow' }>): Promise<boolean> {
    const ended = new Promise<void>((resolve) => { fileEnd = resolve; });
    w.lastActivity = performance.now();
    w.post(request);
    await ended;
    fileEnd = undefined;
    closeHandle();
    return !(closed || failed);
  }

  /** Waits for the next entry; a worker silent for `limit` while the consumer waits is stopped. */
  const take = (): Promise<Entry> => new Promise((resolve) => {
    const ready = (): void => { clearTimeout(timer); resolve(queue.shift() ?? { end: true }); };
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (queue.length > 0) { ready(); return; }
    waiter = ready;
    const watch = (): void => {
      const w = worker;
      const quiet = w ? performance.now() - w.lastActivity : 0;
      // Not while the worker starts (its 'ready' counts as activity): only a started worker can stall.
      if (!w || !w.isStarted || quiet < limit) { timer = setTimeout(watch, Math.max(50, limit - quiet)); return; }
      // Look once more after the event loop has taken in what is waiting (a message may have come meanwhile).
      setImmediate(() => {
        if (waiter !== ready) return;
        if (performance.now() - w.lastActivity < limit) { watch(); return; }
        fail(decodeFailure(new DecoderStalled(Math.round(limit / 1000))));
      });
    };
    timer = setTimeout(watch, limit);
  });

  drive().catch(fail);
  return {
    next: async () => {
      if (closed) return { done: true, value: undefined };
      const entry = await take();
      if ('error' in entry) { closed = true; throw entry.error; }
      if ('end' in entry) { closed = true; return { done: true, value: undefined }; }
      if ('chunk' in entry.item) worker?.post({ type: 'credit', n: 1 });
      return { done: false, value: entry.item };
    },
    return: async () => {
      closed = true;
      stop();
      const w = waiter;
      waiter = undefined;
      w?.();
      return { done: true, value: undefined };
    },
  };
}
