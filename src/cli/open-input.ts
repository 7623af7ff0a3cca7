/**
 * Opens a command-line input as a MatrixSource, by extension: `.mtx` / `.mtx.gz` (read into memory
 * now, so that loading is timed apart from fitting), `.parquet` or a directory of `.parquet` part
 * files, `.arrow` / `.feather` (Arrow IPC file), `.arrows` (IPC stream). Parquet and Arrow inputs are
 * streamed and re-read each pass; their table layout comes from the layout flags.
 */
import { statSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { NmfError, OptionError } from '../errors.js';
import { fromArrow } from '../source/from-arrow.js';
import { parseBytes, type MemoryBudget } from '../memory-limit.js';
import { loadMtx } from '../source/from-mtx.js';
import { fromParquet } from '../source/from-parquet.js';
import type { Layout, SourceOptions } from '../source/layout.js';
import type { MatrixSource } from '../source/matrix-source.js';

export interface InputFlags {
  chunkSize?: number;
  layout?: string;
  feature?: string;
  sample?: string;
  value?: string;
  features?: string;
  indices?: string;
  values?: string;
  indexBase?: number;
  memoryLimit?: number;
  /** What the command will need per feature and sample (a fit's W and H), checked when an .mtx is read. */
  budget?: MemoryBudget;
}

export async function openInput(path: string, flags: InputFlags): Promise<MatrixSource> {
  if (/\.mtx(\.gz)?$/i.test(path)) {
    return await loadMtx(path, {
      ...(flags.chunkSize === undefined ? {} : { chunkSize: flags.chunkSize }),
      ...(flags.memoryLimit === undefined ? {} : { memoryLimit: flags.memoryLimit }),
      ...(flags.budget === undefined ? {} : { budget: flags.budget }),
    });
  }
  const isDirectory = (() => { try { return statSync(path).isDirectory(); } catch { return false; } })();
  if (isDirectory || /\.parquet$/i.test(path)) return fromParquet(path, sourceOptions(flags));
  if (/\.(arrow|arrows|feather|ipc)$/i.test(path)) return fromArrow(path, sourceOptions(flags));
  throw new NmfError('UNSUPPORTED', `cannot tell the format of ${path}: expected .mtx, .mtx.gz, .parquet (or a directory of them), .arrow or .arrows`);
}

/** The layout flags as source options (checked again, declaratively, by the sources). */
export function sourceOptions(flags: InputFlags): SourceOptions {
  const layout = flags.layout ?? 'long';
  let shape: Layout;
  if (layout === 'long') {
    shape = { layout, ...(flags.feature ? { feature: flags.feature } : {}), ...(flags.sample ? { sample: flags.sample } : {}), ...(flags.value ? { value: flags.value } : {}) };
  } else if (layout === 'wide') {
    shape = { layout, ...(flags.features ? { features: flags.features.split(',').map((s) => s.trim()) } : {}) };
  } else if (layout === 'list') {
    shape = { layout, ...(flags.indices ? { indices: flags.indices } : {}), ...(flags.values ? { values: flags.values } : {}) };
  } else {
    throw new OptionError('--layout', "'long', 'wide' or 'list'", layout);
  }
  return {
    ...shape,
    ...(flags.chunkSize === undefined ? {} : { chunkSize: flags.chunkSize }),
    ...(flags.indexBase === undefined ? {} : { indexBase: flags.indexBase as 0 | 1 }),
  };
}

/** Adds the input layout flags to a command. */
export function addInputFlags(command: Command, parseInteger: (v: string) => number): Command {
  return command
    .option('--layout <layout>', "table layout of .parquet/.arrow inputs: 'long' (feature, sample, value), 'wide' (one row per sample) or 'list' (indices/values lists); default long")
    .option('--feature <col>', "long: feature id column (default 'feature')")
    .option('--sample <col>', "long: sample id column (default 'sample')")
    .option('--value <col>', "long: value column (default 'value')")
    .option('--features <cols>', 'wide: comma-separated feature columns (default: every numeric column)')
    .option('--indices <col>', "list: list column of feature indices (default 'indices')")
    .option('--values <col>', "list: list column of values (default 'values')")
    .option('--index-base <0|1>', 'first integer id of features and samples (default 0)', parseInteger)
    .option('--memory-limit <bytes>', 'refuse inputs and fits that need more memory than this, e.g. 8G, 512M (default: 75 % of the machine\'s memory)', parseMemoryLimit);
}

function parseMemoryLimit(value: string): number {
  const bytes = parseBytes(value);
  if (bytes === undefined || bytes < 2 ** 20) throw new InvalidArgumentError(`--memory-limit expects a size of at least 1M, such as 8G or 512M, got "${value}".`);
  return bytes;
}
