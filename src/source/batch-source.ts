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
 * What is known before reading (m, names, n): source-describe.ts; opening files and closing them when a
 * pass ends early: file-handles.ts.
 */
import { concat, defer, from, mergeMap, of, switchMap, tap, throwError, type Observable } from 'rxjs';
import type { RecordBatch, Schema } from 'apache-arrow';
import type { BatchWhere } from '../chunk/arrow-column.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { LongToCsc } from '../chunk/long-to-csc.js';
import { wideColumns } from '../chunk/wide-to-csc.js';
import { DataError } from '../errors.js';
import { checkBatch } from './check-batch.js';
import type { ConvertPlan } from './convert-thread.js';
import { makeConverter, type Converter } from './converter.js';
import { columnsOf, type ResolvedLayout } from './layout.js';
import type { MatrixSource } from './matrix-source.js';
import { defaultMemoryLimit, readerBudget, readingWithin, type MemoryBudget } from '../memory-limit.js';
import type { ConvertedItem } from './parquet-chunks.js';
import { pullBatches } from './pull-batches.js';
import { describe } from './source-describe.js';

export { makeConverter, type Converter } from './converter.js';

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
  /**
   * The chunks of one pass made off the main thread (the Parquet decoder's worker: parquet-chunks.ts), or undefined
   * when this input cannot (then `open` is read and converted here). Same chunks and errors as converting `open`'s batches.
   */
  convert?(columns: readonly string[] | undefined, plan: ConvertPlan): Promise<AsyncIterator<ConvertedItem> | undefined>;
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
    chunks: (consumer?: MemoryBudget): Observable<CscChunk> => info$.pipe(switchMap((info) => (layout.memoryBudget === undefined ? of(layout)
      : defer(() => budgeted(layout, layout.memoryBudget!, consumer, info, input)))), switchMap((layout) => {
      const info = known!;
      // Without a consumer's budget, what reading alone needs (a corrupt id must not exhaust memory in `convert` either).
      const budget = consumer ?? readerBudget(defaultMemoryLimit(), layout.chunkSize);
      budget.check(info.features ?? 0, info.samples ?? 0, { source: input.name });
      const columns = layout.layout === 'wide' ? info.columns : columnsOf(layout);
      const plan: ConvertPlan = { name: input.name, layout, info, budget: budget.costs && { limit: budget.limit, costs: budget.costs } };
      const offThread = input.convert && plan.budget && !(layout.layout === 'wide' && !info.columns)
        ? defer(() => input.convert!(columns, plan)) : of(undefined);
      return offThread.pipe(switchMap((converted) => (converted
        ? pullBatches(() => converted).pipe(mergeMap((item) => {
          if ('chunk' in item) return [item.chunk];
          sampleNames = item.sampleIds;
          return [];
        }))
        : convertHere(layout, info, budget, columns))));
    })),
  };
  /** The chunks of one pass, converted on this thread. */
  const convertHere = (layout: ResolvedLayout, info: SourceInfo, budget: MemoryBudget, columns: readonly string[] | undefined): Observable<CscChunk> => {
    let converter: Converter | undefined = makeConverter(layout, info, !input.rereadable, budget);
    // (A one-shot input is read by its first subscription only; a later one fails before reading.)
    if (converter instanceof LongToCsc && layout.layout === 'long' && layout.extend && !input.rereadable) growing ??= converter;
    let rows = 0;
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
  };
  // Getters typed `number | undefined` stand for MatrixSource's optional properties (unknown until read).
  return source as unknown as FileSource;
}

/**
 * The layout with chunkSize and readAhead chosen from `bytes` (option memoryBudget: memory-limit.ts `readingWithin`):
 * nonzeros per sample from the table's rows (metadata) and n; without a consumer's budget, a reader's.
 */
async function budgeted(layout: ResolvedLayout, bytes: number, consumer: MemoryBudget | undefined, info: SourceInfo, input: BatchInput): Promise<ResolvedLayout> {
  const m = info.features ?? 0;
  const n = info.samples ?? 0;
  const rows = await input.rows?.();
  const perSample = rows !== undefined && n > 0 ? rows / n : layout.layout === 'wide' ? m : 1000;
  const reading = readingWithin(bytes, consumer ?? readerBudget(bytes, layout.chunkSize), m, n, perSample);
  return { ...layout, ...reading };
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
