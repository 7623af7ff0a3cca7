/**
 * Model files: W (features × rank, with feature names), d and, when present, H.
 *  .csv   — a plain CSV (header `feature,factor_0,…`, one line per feature, numbers with 17 significant digits)
 *           that DuckDB and pandas read with their defaults, and its sidecar `<path>.json`: d, nmflow's version,
 *           the options, seed, data fingerprint, final loss, trace and a checksum (model-csv.ts).
 *  .arrow — an Arrow IPC file: columns `feature` (utf8) and `factor_0…` (float64); schema metadata
 *           `nmflow.d` (JSON array), `nmflow.loss`, `nmflow.rank`, `nmflow.trace` (JSON), `nmflow.version`,
 *           `nmflow.options` (JSON), `nmflow.seed`, `nmflow.data`, `nmflow.relativeLoss`, `nmflow.objective`.
 *  .parquet — the same table written by parquet-wasm (zstd); the metadata travels in the file's
 *           Arrow schema, and any Parquet reader (DuckDB, pyarrow) reads the columns.
 * H goes to its own file (`writeFactorsH`): one row per sample, a `sample` column (its name, else its index)
 * and `factor_0…` (CSV, Arrow or Parquet). Every write is atomic (temporary name, then rename).
 * Models carry a SHA-256 checksum and the fit's data fingerprint, verified and checked by readModel
 * (io/model-integrity.ts).
 * CSV files: model-csv.ts; Arrow and Parquet files: model-table.ts; what both share: model-fields.ts.
 */
import { readFile } from 'node:fs/promises';
import { formatToRead, formatToWrite } from '../format/registry.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { ioError } from './io-error.js';
import { readModelCsv, writeFactorsHCsv, writeModelCsv } from './model-csv.js';
import type { StoredModel } from './model-fields.js';
import { readModelTableFile, writeFactorsHTable, writeModelTable } from './model-table.js';

export type { StoredModel } from './model-fields.js';

export type ModelFormat = 'csv' | 'arrow' | 'parquet';

/** The format a model is written in, by the path's ending (format/registry.ts; an OptionError for another ending). */
export function modelFormatOf(path: string): ModelFormat {
  return formatToWrite(path, 'model').name as ModelFormat;
}

/**
 * Writes a model (a snapshot, usually the final one) to `path`, atomically: CSV (with its sidecar `path.json`),
 * Arrow IPC or Parquet by the path's ending. Records W with feature names, d, nmflow's version, the fit's options,
 * seed, data fingerprint and final loss. Rejects with an NmfError ('IO') naming the path when the write fails.
 */
export async function writeModel(path: string, model: Snapshot): Promise<void> {
  const format = modelFormatOf(path);
  if (format === 'csv') await writeModelCsv(path, model);
  else await writeModelTable(path, model, format);
}

/**
 * Writes H (rank × samples, row-major, as a snapshot's `H`) with one row per sample: a `sample` column (the
 * sample's name from `sampleNames`, else its index) and `factor_0…`, as CSV, Arrow IPC or Parquet by the ending.
 */
export async function writeFactorsH(path: string, H: Float64Array, rank: number, samples: number, sampleNames?: readonly string[]): Promise<void> {
  const format = modelFormatOf(path);
  const names = sampleNames !== undefined && sampleNames.length === samples ? sampleNames : undefined;
  if (format === 'csv') await writeFactorsHCsv(path, H, rank, samples, names);
  else await writeFactorsHTable(path, H, rank, samples, format, names);
}

/**
 * Reads a model written by writeModel (CSV with its sidecar, Arrow IPC or Parquet; CSV files of the first format
 * too): W, d, feature names and what the file records (version, options, seed, data fingerprint, final loss,
 * trace). A damaged file is a DataError (CHECKSUM_MISMATCH, MALFORMED_FILE, INVALID_VALUE) naming it.
 */
export async function readModel(path: string): Promise<StoredModel> {
  let bytes: Buffer;
  try { bytes = await readFile(path); } catch (error) {
    throw ioError('read model', path, error);
  }
  const format = formatToRead(path, 'model').name as ModelFormat; // by the ending, else by the first bytes
  return format === 'csv' ? await readModelCsv(bytes, path) : await readModelTableFile(bytes, format, path);
}
