/**
 * A MatrixSource over record batches, shared by `fromArrow` and `fromParquet` (both deliver Arrow
 * record batches). Each subscription to `chunks()` opens the input again, pulls one batch at a time
 * (`pullBatches`), feeds it to a converter made for that subscription (long / wide / list → CSC), and
 * emits the chunks it completes. The number of features m is settled before the first chunk:
 * from the options, else file statistics, else a first pass that reads only the id column (which also
 * builds the dictionary of string feature ids). What is learnt is kept for later passes.
 * Long layout with unknownFeatures 'extend' (layout.ts): a re-readable input is scanned first (so its
 * chunks share one m); a one-shot input starts from the given features (or none) and grows while it is
 * read — `features` and `featureNames` then report what has been read so far.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { concat, defer, from, map, mergeMap, of, reduce, switchMap, tap, throwError, type Observable } from 'rxjs';
import type { RecordBatch, Schema } from 'apache-arrow';
import { columnData, isStringType, type BatchWhere } from '../chunk/arrow-column.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { appearanceLookup, scanIds, sortedNames, type IdScan } from '../chunk/id-dictionary.js';
import { listIndexData, ListToCsc } from '../chunk/list-to-csc.js';
import { LongToCsc } from '../chunk/long-to-csc.js';
import { wideColumns, WideToCsc } from '../chunk/wide-to-csc.js';
import { DataError, type DataLocation } from '../errors.js';
import { reasonOf } from '../io/io-error.js';
import { checkBatch } from './check-batch.js';
import { decoderReason } from './decoder-error.js';
import { columnsOf, type ResolvedLayout } from './layout.js';
import type { MatrixSource } from './matrix-source.js';
import { defaultMemoryLimit, readerBudget, type MemoryBudget } from '../memory-limit.js';
import { pullBatches } from './pull-batches.js';

export interface SourceBatch {
  readonly batch: RecordBatch;
  readonly where: BatchWhere;
}

/** What a file format provides: record batches, and what it knows without reading the data. */
export interface BatchInput {
  readonly name: string;
  readonly rereadable: boolean;
  /** The batches of one pass, with only `columns` when the format can skip the others. */
  open(columns: readonly string[] | undefined): AsyncIterator<SourceBatch>;
  /** The table schema, read without reading data. */
  schema?(): Promise<Schema>;
  /** The exact largest value of an integer column (or of its list / struct `index` child), from statistics. */
  maxOf?(column: string): Promise<number | undefined>;
  /** The number of table rows, from metadata. */
  rows?(): Promise<number | undefined>;
}

export interface SourceInfo {
  /** m; undefined only for a one-shot wide input without `features` (set by its first batch). */
  readonly features: number | undefined;
  /** n when known before reading (option, statistics or metadata). */
  readonly samples: number | undefined;
  readonly featureNames: readonly string[] | undefined;
  /** Wide layout: the feature columns. */
  readonly columns: readonly string[] | undefined;
}

export interface FileSource extends MatrixSource {
  /** Settles m (and feature names) from options, statistics or a first pass; cached. */
  prepare(): Promise<SourceInfo>;
  /** Long layout with string sample ids: the ids in column order, after a complete pass. */
  readonly sampleNames?: readonly string[];
  /** The raw record batches of one pass (only `columns` where the format can skip the others), pulled one at a time; `return()` closes the file. */
  batches(columns?: readonly string[]): AsyncIterator<SourceBatch>;
}

export interface Converter { push(batch: RecordBatch, where: BatchWhere): CscChunk[]; finish(): CscChunk[] }

export function makeBatchSource(unchecked: BatchInput, layout: ResolvedLayout): FileSource {
  const input = checkedInput(unchecked);
  let known: SourceInfo | undefined;
  let sampleNames: readonly string[] | undefined;
  // A one-shot long input with unknownFeatures 'extend': the converter whose dictionary grows.
  let growing: LongToCsc | undefined;
  const info$ = defer(() => (known ? of(known) : describe(input, layout).pipe(tap((i) => { known = i; }))));
  const source = {
    name: input.name,
    rereadable: input.rereadable,
    // 0: a one-shot 'extend' input that has not read a feature yet (unknown rather than none).
    get features() { return (growing ? growing.features : known?.features) || undefined; },
    get samples() { return known?.samples; },
    get featureNames() { return growing ? growing.featureNames : known?.featureNames; },
    get sampleNames() { return sampleNames; },
    batches: (columns?: readonly string[]) => input.open(columns),
    prepare: () => new Promise<SourceInfo>((resolve, reject) => { info$.subscribe({ next: resolve, error: reject }); }),
    chunks: (consumer?: MemoryBudget): Observable<CscChunk> => info$.pipe(switchMap((info) => {
      // Without a consumer's budget, what reading alone needs (a corrupt id must not exhaust memory in `convert` either).
      const budget = consumer ?? readerBudget(defaultMemoryLimit(), layout.chunkSize);
      budget.check(info.features ?? 0, info.samples ?? 0, { source: input.name });
      let converter: Converter | undefined = makeConverter(layout, info, !input.rereadable, budget);
      // (A one-shot input is read by its first subscription only; a later one fails before reading.)
      if (converter instanceof LongToCsc && layout.layout === 'long' && layout.extend && !input.rereadable) growing ??= converter;
      let rows = 0;
      const columns = layout.layout === 'wide' ? info.columns : columnsOf(layout);
      const batches = pullBatches(() => input.open(columns)).pipe(mergeMap(({ batch, where }) => {
        rows += batch.numRows;
        if (!converter) {
          // One-shot wide input without `features`: the first batch's numeric columns are the features.
          const cols = wideColumns(batch.schema, undefined, where);
          known = { ...info, features: cols.length, columns: cols, featureNames: layout.featureNames ?? cols };
          converter = makeConverter(layout, known)!;
        }
        return converter.push(batch, where);
      }));
      const rest = defer(() => {
        if (rows === 0 || !converter) return throwError(() => new DataError('EMPTY_INPUT', 'the input has no rows', { source: input.name }));
        if (converter instanceof LongToCsc && converter.sampleIds.length > 0) sampleNames = converter.sampleIds;
        return from(converter.finish());
      });
      return concat(batches, rest);
    })),
  };
  // Getters typed `number | undefined` stand for MatrixSource's optional properties (unknown until read).
  return source as unknown as FileSource;
}

/** The input with every batch it delivers checked (check-batch.ts) before anyone reads it. */
function checkedInput(input: BatchInput): BatchInput {
  return {
    ...input,
    open: (columns) => {
      const it = input.open(columns);
      return {
        next: async () => {
          const result = await it.next();
          if (!result.done) checkBatch(result.value.batch, result.value.where);
          return result;
        },
        return: async (value?: unknown) => (await it.return?.(value as undefined)) ?? { done: true, value: undefined },
      };
    },
  };
}

/** `oneShot`: the input is read once, so a long layout with unknownFeatures 'extend' grows while it is read. */
export function makeConverter(layout: ResolvedLayout, info: SourceInfo, oneShot = false, budget?: MemoryBudget): Converter | undefined {
  const { chunkSize, samples, indexBase } = layout;
  if (layout.layout === 'wide') return info.columns ? new WideToCsc({ chunkSize, samples, columns: info.columns }) : undefined;
  const m = info.features!;
  if (layout.layout === 'long') {
    return new LongToCsc({ m, chunkSize, samples, indexBase, feature: layout.feature, sample: layout.sample, value: layout.value,
      featureNames: info.featureNames, extend: layout.extend && oneShot, budget });
  }
  return new ListToCsc({ m, chunkSize, samples, indexBase, indices: layout.indices, values: layout.values, entries: layout.entries });
}

/** m, feature names and (when cheap) n, before the first chunk. */
function describe(input: BatchInput, layout: ResolvedLayout): Observable<SourceInfo> {
  const names = layout.featureNames;
  const base = { samples: layout.samples, featureNames: names, columns: undefined };
  const where0: BatchWhere = { source: input.name, batch: 0, rowOffset: 0, unit: 'record batch' };
  const schema$: Observable<Schema | undefined> = input.schema ? from(input.schema()) : of(undefined);
  // n before reading, when metadata has it: rows (wide, list) or the largest integer sample id (long).
  const samples$ = defer(async () => {
    if (layout.samples !== undefined) return layout.samples;
    if (layout.layout !== 'long') return input.rows?.();
    const max = await input.maxOf?.(layout.sample);
    return max === undefined ? undefined : max + 1 - layout.indexBase;
  });
  if (layout.layout === 'wide') {
    return schema$.pipe(switchMap((schema) => samples$.pipe(map((samples): SourceInfo => {
      const columns = layout.columns ?? (schema ? wideColumns(schema, undefined, where0) : undefined);
      return { samples, columns, features: columns?.length, featureNames: names ?? columns };
    }))));
  }
  const idColumn = layout.layout === 'long' ? layout.feature : layout.entries ?? layout.indices;
  const fixed = layout.features ?? names?.length;
  const extend = layout.layout === 'long' && layout.extend;
  // A one-shot input cannot be scanned: with 'extend' it starts from what the options say and grows.
  if (extend && !input.rereadable) return samples$.pipe(map((samples) => ({ ...base, samples, features: fixed ?? 0 })));
  const m$ = schema$.pipe(switchMap((schema) => {
    const field = schema?.fields.find((f) => f.name === idColumn);
    const stringIds = layout.layout === 'long' && field !== undefined && isStringType(field.type);
    // 'extend' on a re-readable input: the options give the first features, the data may add more.
    if (fixed !== undefined && !(stringIds && !names) && !extend) return of<SourceInfo>({ ...base, features: fixed });
    const stats$ = !stringIds && input.maxOf ? from(input.maxOf(idColumn)) : of(undefined);
    return stats$.pipe(switchMap((max) => (max !== undefined
      ? of<SourceInfo>({ ...base, features: Math.max(extend ? fixed ?? 0 : 0, max + 1 - layout.indexBase) })
      : scan(input, layout, idColumn).pipe(map((acc) => fromScan(acc, layout, fixed, input.name))))));
  }));
  return m$.pipe(switchMap((info) => samples$.pipe(map((samples) => ({ ...info, samples })))));
}

function scan(input: BatchInput, layout: ResolvedLayout, idColumn: string): Observable<IdScan> {
  const entries = layout.layout === 'list' && layout.entries !== undefined;
  return pullBatches(() => input.open([idColumn])).pipe(reduce((acc: IdScan, { batch, where }) => {
    const [data, rowOf] = layout.layout === 'long' ? [columnData(batch, idColumn, where)] : listIndexData(batch, idColumn, entries, where);
    scanIds(data, idColumn, where, layout.indexBase, acc, rowOf);
    return acc;
  }, { maxIndex: -1, strings: null }));
}

function fromScan(acc: IdScan, layout: ResolvedLayout, fixed: number | undefined, name: string): SourceInfo {
  const base = { samples: layout.samples, columns: undefined };
  if (layout.layout === 'long' && layout.extend) {
    const given = layout.featureNames;
    if (acc.strings && given) {
      // The dictionary a one-shot read would end with: the given names, then new ids in order of first appearance.
      const dictionary = appearanceLookup(given);
      for (const id of acc.strings) dictionary(id, 0);
      return { ...base, features: dictionary.ids.length, featureNames: dictionary.ids };
    }
    // Integer ids: the given features, or more.
    if (!acc.strings && acc.maxIndex >= 0) return { ...base, features: Math.max(fixed ?? 0, acc.maxIndex + 1), featureNames: given };
  }
  if (acc.strings) {
    const names = sortedNames(acc.strings);
    if (fixed !== undefined && fixed !== names.length) {
      throw new DataError('SHAPE_MISMATCH', `option \`features\` is ${fixed} but the data has ${names.length} distinct feature ids`, { source: name });
    }
    return { ...base, features: names.length, featureNames: names };
  }
  if (acc.maxIndex < 0) throw new DataError('EMPTY_INPUT', 'the input has no feature ids', { source: name });
  return { ...base, features: acc.maxIndex + 1, featureNames: layout.featureNames };
}

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
