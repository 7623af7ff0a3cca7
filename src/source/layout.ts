/**
 * How a table maps onto the matrix (docs/architecture.md, Names and storage), and the reading options shared by
 * `fromArrow` and `fromParquet` (their kinds and defaults: options/table-data.ts). Everything here is checked
 * synchronously, before anything is read: a bad option
 * throws an OptionError; what the data says is checked later, on the Observable's error channel.
 *
 * - `long`: one row per nonzero, columns (feature, sample, value), rows ordered by sample. Integer
 *   sample ids are column indices (id − indexBase), so empty samples between two ids still count and a
 *   long file gives the same columns as the .mtx it came from; n = `samples` or the largest id + 1.
 *   String sample ids are numbered in order of first appearance (each sample's rows must be
 *   contiguous). A sample id lower than the one before is an UNSORTED_INPUT error.
 * - `wide`: one row per sample, one numeric column per feature (default: every numeric column, in
 *   schema order; feature names = column names). Nulls and zeros are skipped.
 * - `list`: one row per sample, two parallel list columns (`indices`, `values`), or one
 *   list<struct<index, value>> column (`entries`). Null lists are empty samples.
 *
 * Feature ids: integers (id − indexBase) or strings. String ids map through `featureNames` when it is
 * given, else through a dictionary of the distinct ids in sorted order, built by a first pass.
 *
 * New features (`unknownFeatures`, long layout only): with 'error' (default) a feature id outside the
 * dictionary (or an integer id ≥ `features`) is an INDEX_OUT_OF_RANGE error naming the batch, row and
 * column. With 'extend' the matrix grows instead: a string id not seen before is appended to the
 * dictionary (the user's `featureNames`, if any, then new ids in order of first appearance), an integer
 * id ≥ m makes m = id + 1. That matters for a one-shot input (an AsyncIterable, which then needs
 * neither `features` nor `featureNames`): each chunk carries m = the features seen up to its last row,
 * so later chunks may have a larger m (never smaller) — `fitOnline` grows W with zero rows — and the
 * source's `featureNames` / `features` grow as it reads. A re-readable input is scanned first, so the
 * dictionary is complete before the first chunk and every chunk has the same m (the multi-pass `fit`
 * needs that; it refuses chunks of a different m).
 */
import { OptionError } from '../errors.js';
import type { LayoutName, Values } from '../options/row.js';
import { validate } from '../options/validate.js';

export interface LongLayout {
  readonly layout: 'long';
  /** Feature id column (default "feature"). */
  readonly feature?: string;
  /** Sample id column (default "sample"). */
  readonly sample?: string;
  /** Value column (default "value"). */
  readonly value?: string;
  /** Number of features m; default: featureNames.length, else Parquet statistics, else a first scan. */
  readonly features?: number;
}

export interface WideLayout {
  readonly layout: 'wide';
  /** Feature columns, in order (default: every numeric column of the schema). */
  readonly features?: readonly string[];
}

export interface ListLayout {
  readonly layout: 'list';
  /** List column of feature indices (default "indices"). */
  readonly indices?: string;
  /** List column of values, parallel to `indices` (default "values"). */
  readonly values?: string;
  /** One list<struct<index, value>> column instead of two parallel lists. */
  readonly entries?: string;
  /** Number of features m; default: featureNames.length, else Parquet statistics, else a first scan. */
  readonly features?: number;
}

export type Layout = LongLayout | WideLayout | ListLayout;

export interface ReadOptions {
  /** Samples (columns) per chunk (default 4096). Chunks never depend on how the file is cut. */
  readonly chunkSize?: number;
  /** Rows per decoded record batch when reading Parquet (default 65536). */
  readonly batchSize?: number;
  /**
   * Parquet: chunks the decoder's worker decodes, converts and checks ahead of the consumer (default: 64 MB of
   * chunks, 2 to 8, estimated from the files' rows per sample); 0 converts on the main thread, one batch ahead.
   */
  readonly readAhead?: number;
  /**
   * Parquet: bytes for the consumer's model (W, statistics, H: its memory budget), 150 MB of runtime and the chunks in
   * flight; chunkSize and readAhead are chosen from it (memory-limit.ts `readingWithin`), overriding theirs.
   */
  readonly memoryBudget?: number;
  /** Number of samples n, when known: sample ids must be below it, trailing empty samples count. */
  readonly samples?: number;
  /** Feature names (length m). String feature ids are looked up in it. */
  readonly featureNames?: readonly string[];
  /** First integer id of features and samples (default 0; 1 for ids copied from a .mtx). */
  readonly indexBase?: 0 | 1;
  /** Long layout: a feature id not in the dictionary is an error ('error', default) or a new feature ('extend'; see the header). */
  readonly unknownFeatures?: 'error' | 'extend';
  /** Name in error messages (default: the path). */
  readonly name?: string;
  /**
   * 'error' (default): a NaN value is an INVALID_VALUE error naming the file, batch / row group, row and column, and a
   * NULL value is no entry (a zero); 'nan': a NaN or NULL value is a missing entry (kept as NaN: fit with `missing: 'nan'`).
   */
  readonly missing?: 'error' | 'nan';
}

export type SourceOptions = Layout & ReadOptions;

export const DEFAULT_CHUNK_SIZE = 4096;
export const DEFAULT_BATCH_SIZE = 65536;

interface Common {
  readonly chunkSize: number;
  readonly batchSize: number;
  readonly readAhead: number | undefined;
  readonly memoryBudget: number | undefined;
  readonly samples: number | undefined;
  readonly featureNames: readonly string[] | undefined;
  readonly indexBase: number;
  /** `missing: 'nan'`: NaN and NULL values are missing entries (NaN in the chunks). */
  readonly missing: boolean;
}
export interface ResolvedLong extends Common {
  readonly layout: 'long'; readonly feature: string; readonly sample: string; readonly value: string; readonly features: number | undefined;
  /** unknownFeatures: 'extend'. */
  readonly extend: boolean;
}
export interface ResolvedWide extends Common { readonly layout: 'wide'; readonly columns: readonly string[] | undefined }
export interface ResolvedList extends Common {
  readonly layout: 'list'; readonly indices: string; readonly values: string;
  readonly entries: string | undefined; readonly features: number | undefined;
}
export type ResolvedLayout = ResolvedLong | ResolvedWide | ResolvedList;

/** Checks every option against the options table (options/table-data.ts) and fills in the defaults. Throws OptionError. */
export function resolveLayout(options: SourceOptions | undefined): ResolvedLayout {
  return layoutFrom(validate('source', options ?? { layout: 'long' }));
}

/**
 * The layout of options the table has checked (validate 'source', or 'project' without its featureNames): the
 * relations between them. The casts restate the kinds the table guarantees.
 */
export function layoutFrom(v: Values): ResolvedLayout {
  const layout = v.layout as LayoutName;
  const featureNames = v.featureNames as readonly string[] | undefined;
  const common: Common = {
    chunkSize: (v.chunkSize as number | undefined) ?? DEFAULT_CHUNK_SIZE,
    batchSize: (v.batchSize as number | undefined) ?? DEFAULT_BATCH_SIZE,
    readAhead: v.readAhead as number | undefined,
    memoryBudget: v.memoryBudget as number | undefined,
    samples: v.samples as number | undefined,
    featureNames,
    indexBase: v.indexBase as number,
    missing: v.missing === 'nan',
  };
  if (layout === 'wide') {
    const columns = v.features as readonly string[] | undefined;
    if (featureNames && columns && featureNames.length !== columns.length) {
      throw new OptionError('featureNames', `${columns.length} names (one per feature column)`, `${featureNames.length} names`);
    }
    return { ...common, layout, columns };
  }
  const features = v.features as number | undefined;
  if (features !== undefined && featureNames && featureNames.length !== features) {
    throw new OptionError('featureNames', `${features} names (option \`features\`)`, `${featureNames.length} names`);
  }
  if (layout === 'long') {
    const r: ResolvedLong = {
      ...common, layout, features, feature: v.feature as string, sample: v.sample as string, value: v.value as string,
      extend: v.unknownFeatures === 'extend',
    };
    if (new Set([r.feature, r.sample, r.value]).size !== 3) throw new OptionError('feature/sample/value', 'three different column names', [r.feature, r.sample, r.value]);
    return r;
  }
  return { ...common, layout, features, entries: v.entries as string | undefined, indices: v.indices as string, values: v.values as string };
}

/** Table columns a layout reads (undefined: all of them, for a wide layout without `features`). */
export function columnsOf(layout: ResolvedLayout): string[] | undefined {
  if (layout.layout === 'long') return [layout.feature, layout.sample, layout.value];
  if (layout.layout === 'wide') return layout.columns ? [...layout.columns] : undefined;
  return layout.entries !== undefined ? [layout.entries] : [layout.indices, layout.values];
}
