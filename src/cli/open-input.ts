/**
 * Opens a command-line input as a MatrixSource in the format the registry tells (format/registry.ts: by the
 * name's ending, else by the first bytes): `.mtx` / `.mtx.gz` (read into memory now, so that loading is timed
 * apart from fitting), `.parquet` or a directory of `.parquet` part files, `.arrow` / `.feather` (Arrow IPC
 * file), `.arrows` (IPC stream). Parquet and Arrow inputs are streamed and re-read each pass; their table
 * layout comes from the layout flags.
 */
import type { Command } from 'commander';
import { OptionError } from '../errors.js';
import { formatToRead } from '../format/registry.js';
import { addTableFlags } from './parse-flags.js';
import type { Layout, SourceOptions } from '../source/layout.js';
import type { MatrixSource } from '../source/matrix-source.js';
import type { MemoryBudget } from '../memory-limit.js';

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
  readAhead?: number;
  memoryBudget?: number;
  /** What the command will need per feature and sample (a fit's W and H), checked when an .mtx is read (memory-limit.ts). */
  budget?: MemoryBudget;
}

export async function openInput(path: string, flags: InputFlags): Promise<MatrixSource> {
  return await formatToRead(path, 'matrix').openMatrix!(path, sourceOptions(flags), { memoryLimit: flags.memoryLimit, budget: flags.budget });
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
    ...(flags.readAhead === undefined ? {} : { readAhead: flags.readAhead }),
    ...(flags.memoryBudget === undefined ? {} : { memoryBudget: flags.memoryBudget }),
    ...(flags.indexBase === undefined ? {} : { indexBase: flags.indexBase as 0 | 1 }),
  };
}

/** Adds the input layout flags to a command (names, parsers and help from the options table: options/table-data.ts). */
export function addInputFlags(command: Command): Command {
  addTableFlags(command, 'source', ['layout', 'feature', 'sample', 'value', 'features', 'indices', 'values', 'indexBase']);
  return addTableFlags(command, 'mtx', ['memoryLimit']);
}
