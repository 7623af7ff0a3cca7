/**
 * The rows of what data is read with: a table's layout (source/layout.ts, pipeline/project.ts), the readers'
 * options (fromArrow, fromParquet), the ETL operator's own (project), the table writer's (openTableWriter) and
 * the in-memory and Matrix Market sources (fromCsc, fromMtx). The layouts themselves: source/layout.ts.
 */
import type { OptionRow } from './row.js';

const LAYOUT = ['layout'] as const;
const READ = ['read'] as const;
const PROJECT = ['project'] as const;
const COLUMN = 'a non-empty column name';
/** Counts a reader holds in int32 arrays. */
const COUNT = { type: 'integer', min: 1, max: 2 ** 31 - 1 } as const;
const COUNT_WORDS = 'an integer in [1, 2^31)';

export const LAYOUT_ROWS: readonly OptionRow[] = [
  {
    name: 'layout', kind: { type: 'enum', values: ['long', 'wide', 'list'] }, scopes: LAYOUT, default: 'long', expected: '"long", "wide" or "list"', flag: '--layout <layout>',
    doc: "table layout of .parquet/.arrow inputs: 'long' (feature, sample, value), 'wide' (one row per sample) or 'list' (indices/values lists)",
  },
  { name: 'feature', kind: { type: 'string' }, scopes: LAYOUT, layouts: ['long'], default: 'feature', expected: COLUMN, flag: '--feature <col>', doc: 'long: feature id column' },
  { name: 'sample', kind: { type: 'string' }, scopes: LAYOUT, layouts: ['long'], default: 'sample', expected: COLUMN, flag: '--sample <col>', doc: 'long: sample id column' },
  { name: 'value', kind: { type: 'string' }, scopes: LAYOUT, layouts: ['long'], default: 'value', expected: COLUMN, flag: '--value <col>', doc: 'long: value column' },
  {
    name: 'features', kind: COUNT, scopes: LAYOUT, layouts: ['long', 'list'], expected: COUNT_WORDS, defaultDoc: 'featureNames.length, else Parquet statistics, else a first scan',
    doc: 'long, list: the number of features m',
  },
  {
    name: 'features', kind: { type: 'strings', distinct: true, nonEmpty: true, columns: true }, scopes: LAYOUT, layouts: ['wide'], defaultDoc: 'every numeric column',
    expected: 'a non-empty array of distinct column names (wide layout)', flag: '--features <cols>', doc: 'wide: the feature columns, in order (comma-separated)',
  },
  { name: 'indices', kind: { type: 'string' }, scopes: LAYOUT, layouts: ['list'], default: 'indices', expected: COLUMN, flag: '--indices <col>', doc: 'list: list column of feature indices' },
  { name: 'values', kind: { type: 'string' }, scopes: LAYOUT, layouts: ['list'], default: 'values', expected: COLUMN, flag: '--values <col>', doc: 'list: list column of values' },
  { name: 'entries', kind: { type: 'string' }, scopes: LAYOUT, layouts: ['list'], expected: COLUMN, doc: 'list: one list<struct<index, value>> column instead of two lists' },
];

export const READ_ROWS: readonly OptionRow[] = [
  { name: 'chunkSize', kind: COUNT, scopes: READ, default: 4096, expected: COUNT_WORDS, flag: '--chunk-size <N>', doc: 'samples per chunk' },
  { name: 'batchSize', kind: COUNT, scopes: READ, default: 65536, expected: COUNT_WORDS, flag: '--batch-size <N>', doc: 'rows per record batch read from Parquet' },
  {
    name: 'readAhead', kind: { type: 'integer', min: 0 }, scopes: READ, expected: 'a whole number ≥ 0', flag: '--read-ahead <N>',
    defaultDoc: '64 MB of chunks (2–8) from the file\'s rows per sample',
    doc: 'Parquet: chunks decoded and converted in the decoder\'s worker ahead of the consumer (0: convert on the main thread, one batch ahead)',
  },
  {
    name: 'memoryBudget', kind: { type: 'bytes' }, scopes: READ, flag: '--memory-budget <bytes>',
    doc: 'Parquet: pick chunkSize and readAhead so that the consumer\'s model, 150 MB and the chunks in flight fit in this (the CLI reads 2G, 512M)',
  },
  { name: 'samples', kind: COUNT, scopes: READ, expected: COUNT_WORDS, doc: 'the number of samples n, when known (trailing empty samples count)' },
  { name: 'featureNames', kind: { type: 'strings', distinct: true, nonEmpty: true }, scopes: READ, doc: 'feature names (length m): string feature ids are looked up in it' },
  { name: 'indexBase', kind: { type: 'enum', values: [0, 1] }, scopes: READ, default: 0, flag: '--index-base <0|1>', doc: 'first integer id of features and samples' },
  {
    name: 'unknownFeatures', kind: { type: 'enum', values: ['error', 'extend'] }, scopes: READ, layouts: ['long'], default: 'error',
    doc: "long: a feature id not in the dictionary is an error ('error') or a new feature ('extend')",
  },
  {
    name: 'unknownFeatures', kind: { type: 'enum', values: ['error'] }, scopes: READ, layouts: ['wide', 'list'], default: 'error',
    expected: "'error' ('extend' is for the long layout)", doc: "'error' ('extend' is for the long layout)",
  },
  { name: 'name', kind: { type: 'string' }, scopes: READ, defaultDoc: 'the path', doc: 'name in error messages' },
];

export const PROJECT_ROWS: readonly OptionRow[] = [
  {
    name: 'passThrough', kind: { type: 'strings', distinct: true, columns: true }, scopes: PROJECT, expected: 'an array of distinct column names', flag: '--pass-through <cols>',
    defaultDoc: 'wide, list: every column; long: none', doc: 'comma-separated input columns to keep (long: the sample id is always kept)',
  },
  { name: 'replaceFeatures', kind: { type: 'boolean' }, scopes: PROJECT, default: false, flag: '--replace-features', doc: 'wide/list: leave the feature (index/value list) columns out of the output' },
  { name: 'featureNames', kind: { type: 'strings' }, scopes: PROJECT, defaultDoc: "the model's", doc: 'names that string feature ids and wide column names are matched against' },
  {
    name: 'unknownFeatures', kind: { type: 'enum', values: ['error', 'ignore'] }, scopes: PROJECT, default: 'error', flag: '--unknown-features <policy>',
    doc: "a feature the model does not have: 'error' or 'ignore'",
  },
  { name: 'indexBase', kind: { type: 'enum', values: [0, 1] }, scopes: PROJECT, default: 0, doc: 'first integer id of features' },
  { name: 'name', kind: { type: 'string' }, scopes: PROJECT, default: 'record batches', doc: 'name in error messages' },
  {
    name: 'threads', kind: { type: 'integer', min: 1 }, scopes: PROJECT, flag: '--threads <N>', defaultDoc: 'the available cores for batches of ≥ 200 000 nonzeros (l1 models 20 000)',
    doc: 'threads solving each batch (1 = no workers); the same codes for any count',
  },
  { name: 'l1', kind: { type: 'number', min: 0, below: 1 }, scopes: PROJECT, default: 0, flag: '--l1 <h>', doc: 'l2 models: L1 penalty on the codes' },
  { name: 'l2', kind: { type: 'number', min: 0 }, scopes: PROJECT, default: 0, flag: '--l2 <h>', doc: 'l2 models: L2 penalty on the codes' },
  { name: 'lambda', kind: { type: 'number', min: 0 }, scopes: PROJECT, default: 1, flag: '--lambda <λ>', doc: 'l1 models: weight of the zero entries' },
  { name: 'maxSweeps', kind: { type: 'integer', min: 1 }, scopes: PROJECT, default: 100, doc: 'l1 models: maximum coordinate-descent sweeps per sample' },
  { name: 'wasm', kind: { type: 'boolean' }, scopes: PROJECT, default: true, doc: 'l2 models: right-hand sides in WebAssembly where the runtime has SIMD' },
];

export const WRITER_ROWS: readonly OptionRow[] = [
  { name: 'format', kind: { type: 'enum', values: ['parquet', 'arrow', 'arrows'] }, scopes: ['writer'], defaultDoc: 'from the extension (format/registry.ts)', doc: 'the table format written' },
  { name: 'rowGroupSize', kind: { type: 'integer', min: 1 }, scopes: ['writer'], default: 65536, flag: '--row-group-size <N>', doc: 'rows per Parquet row group written' },
  { name: 'rowGroupBytes', kind: { type: 'integer', min: 1 }, scopes: ['writer'], default: 64 * 2 ** 20, doc: 'bytes per Parquet row group, at most' },
  { name: 'compression', kind: { type: 'enum', values: ['zstd', 'snappy', 'uncompressed'] }, scopes: ['writer'], default: 'zstd', doc: 'the Parquet codec' },
];

export const IN_MEMORY_ROWS: readonly OptionRow[] = [
  { name: 'chunkSize', kind: { type: 'integer', min: 1 }, scopes: ['mtx', 'csc'], defaultDoc: 'all samples in one chunk', doc: 'samples per chunk' },
  { name: 'name', kind: { type: 'string' }, scopes: ['mtx'], defaultDoc: 'the path', doc: 'name in error messages' },
  { name: 'name', kind: { type: 'string' }, scopes: ['csc'], default: 'in-memory CSC', doc: 'name in error messages' },
  { name: 'featureNames', kind: { type: 'strings' }, scopes: ['csc'], doc: 'feature names, one per feature' },
  { name: 'sampleNames', kind: { type: 'strings' }, scopes: ['csc'], doc: 'sample names, one per sample (they name the columns of H)' },
  {
    name: 'featureNames', kind: { type: 'names' }, scopes: ['mtx'], flag: '--feature-names <file>', defaultDoc: "a 10x folder's features.tsv, else 0…m−1",
    doc: 'feature names: a file with one name a line (or a 10x features.tsv[.gz]: the symbols), or an array',
  },
  {
    name: 'sampleNames', kind: { type: 'names' }, scopes: ['mtx'], flag: '--sample-names <file>', defaultDoc: "a 10x folder's barcodes.tsv, else 0…n−1",
    doc: 'sample names: a file with one name a line (or a 10x barcodes.tsv[.gz]), or an array',
  },
  { name: 'transpose', kind: { type: 'boolean' }, scopes: ['mtx'], default: false, flag: '--transpose', doc: 'the .mtx is samples × features (one row per sample): fit its transpose' },
  { name: 'layout', kind: { type: 'enum', values: ['col', 'row'] }, scopes: ['dense'], default: 'col', doc: "fromDense: the array is column-major ('col') or row-major ('row')" },
];
