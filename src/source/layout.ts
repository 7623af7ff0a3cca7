/**
 * How a table maps onto the matrix (docs/architecture.md, Names and storage), and the reading options shared by `fromArrow` and
 * `fromParquet`. Everything here is checked synchronously, before anything is read: a bad option
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
}

export type SourceOptions = Layout & ReadOptions;

export const DEFAULT_CHUNK_SIZE = 4096;
export const DEFAULT_BATCH_SIZE = 65536;

interface Common {
  readonly chunkSize: number;
  readonly batchSize: number;
  readonly samples: number | undefined;
  readonly featureNames: readonly string[] | undefined;
  readonly indexBase: number;
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

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v < 2 ** 31;

function name(options: object, key: string, fallback: string): string {
  const v = (options as Record<string, unknown>)[key];
  if (v === undefined) return fallback;
  if (!isName(v)) throw new OptionError(key, 'a non-empty column name', v);
  return v;
}

function count(options: object, key: string): number | undefined {
  const v = (options as Record<string, unknown>)[key];
  if (v === undefined) return undefined;
  if (!isCount(v)) throw new OptionError(key, 'an integer in [1, 2^31)', v);
  return v;
}

/** Checks every option and fills in the defaults. Throws OptionError. */
export function resolveLayout(options: SourceOptions | undefined): ResolvedLayout {
  const o: SourceOptions = options ?? { layout: 'long' };
  if (typeof o !== 'object' || o === null) throw new OptionError('options', 'an object such as { layout: "long" }', o);
  const layout = (o as { layout?: unknown }).layout ?? 'long';
  if (layout !== 'long' && layout !== 'wide' && layout !== 'list') throw new OptionError('layout', '"long", "wide" or "list"', layout);
  const featureNames = o.featureNames;
  if (featureNames !== undefined && (!Array.isArray(featureNames) || featureNames.length === 0
    || !featureNames.every((f) => typeof f === 'string') || new Set(featureNames).size !== featureNames.length)) {
    throw new OptionError('featureNames', 'a non-empty array of distinct strings', featureNames);
  }
  const indexBase = o.indexBase ?? 0;
  if (indexBase !== 0 && indexBase !== 1) throw new OptionError('indexBase', '0 or 1', indexBase);
  const unknownFeatures = o.unknownFeatures ?? 'error';
  if (unknownFeatures !== 'error' && unknownFeatures !== 'extend') throw new OptionError('unknownFeatures', "'error' or 'extend'", unknownFeatures);
  if (unknownFeatures === 'extend' && layout !== 'long') {
    throw new OptionError('unknownFeatures', `'error' with layout "${layout}" ('extend' is for the long layout)`, unknownFeatures);
  }
  const common: Common = {
    chunkSize: count(o, 'chunkSize') ?? DEFAULT_CHUNK_SIZE,
    batchSize: count(o, 'batchSize') ?? DEFAULT_BATCH_SIZE,
    samples: count(o, 'samples'),
    featureNames,
    indexBase,
  };
  if (layout === 'wide') {
    const columns = (o as WideLayout).features;
    if (columns !== undefined && (!Array.isArray(columns) || columns.length === 0 || !columns.every(isName)
      || new Set(columns).size !== columns.length)) {
      throw new OptionError('features', 'a non-empty array of distinct column names (wide layout)', columns);
    }
    if (featureNames && columns && featureNames.length !== columns.length) {
      throw new OptionError('featureNames', `${columns.length} names (one per feature column)`, `${featureNames.length} names`);
    }
    return { ...common, layout, columns };
  }
  const features = count(o, 'features');
  if (features !== undefined && featureNames && featureNames.length !== features) {
    throw new OptionError('featureNames', `${features} names (option \`features\`)`, `${featureNames.length} names`);
  }
  if (layout === 'long') {
    const r: ResolvedLong = {
      ...common, layout, features, feature: name(o, 'feature', 'feature'), sample: name(o, 'sample', 'sample'), value: name(o, 'value', 'value'),
      extend: unknownFeatures === 'extend',
    };
    if (new Set([r.feature, r.sample, r.value]).size !== 3) throw new OptionError('feature/sample/value', 'three different column names', [r.feature, r.sample, r.value]);
    return r;
  }
  const entries = (o as ListLayout).entries;
  if (entries !== undefined && !isName(entries)) throw new OptionError('entries', 'a non-empty column name', entries);
  return { ...common, layout, features, entries, indices: name(o, 'indices', 'indices'), values: name(o, 'values', 'values') };
}

/** Table columns a layout reads (undefined: all of them, for a wide layout without `features`). */
export function columnsOf(layout: ResolvedLayout): string[] | undefined {
  if (layout.layout === 'long') return [layout.feature, layout.sample, layout.value];
  if (layout.layout === 'wide') return layout.columns ? [...layout.columns] : undefined;
  return layout.entries !== undefined ? [layout.entries] : [layout.indices, layout.values];
}
