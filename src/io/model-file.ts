/**
 * Model files: W (features × rank, with feature names), d and, when present, H.
 *  .csv   — `# nmflow model` comment lines (loss, rank, d as `# d,d0,d1,…`), then a header
 *           `feature,factor_0,…` and one line per feature (numbers with 17 significant digits).
 *  .arrow — an Arrow IPC file: columns `feature` (utf8) and `factor_0…` (float64); schema metadata
 *           `nmflow.d` (JSON array), `nmflow.loss`, `nmflow.rank`, `nmflow.trace` (JSON).
 *  .parquet — the same table written by parquet-wasm (zstd); the metadata travels in the file's
 *           Arrow schema, and any Parquet reader (DuckDB, pyarrow) reads the columns.
 * H goes to its own file (`writeFactorsH`): rank lines of samples numbers (CSV) or an Arrow table
 * with one row per sample. Every write is atomic (temporary name, then rename).
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

export async function writeModel(path: string, model: Snapshot): Promise<void> {
  const format = modelFormatOf(path);
  if (format === 'csv') await writeModelCsv(path, model);
  else await writeModelTable(path, model, format);
}

/** H (rank × samples, row-major) as CSV (rank lines) or Arrow (one row per sample, columns factor_a). */
export async function writeFactorsH(path: string, H: Float64Array, rank: number, samples: number): Promise<void> {
  const format = modelFormatOf(path);
  if (format === 'csv') await writeFactorsHCsv(path, H, rank, samples);
  else await writeFactorsHTable(path, H, rank, samples, format);
}

/** Reads a model written by writeModel (CSV or Arrow). */
export async function readModel(path: string): Promise<StoredModel> {
  let bytes: Buffer;
  try { bytes = await readFile(path); } catch (error) {
    throw ioError('read model', path, error);
  }
  const format = formatToRead(path, 'model').name as ModelFormat; // by the ending, else by the first bytes
  return format === 'csv' ? readModelCsv(bytes, path) : readModelTableFile(bytes, format, path);
}
