/**
 * Opens a command-line input as a MatrixSource in the format the registry tells (format/registry.ts: by the
 * name's ending, else by the first bytes): `.mtx` / `.mtx.gz` (read into memory now, so that loading is timed
 * apart from fitting), `.parquet` or a directory of `.parquet` part files, `.arrow` / `.feather` (Arrow IPC
 * file), `.arrows` (IPC stream). Parquet and Arrow inputs are streamed and re-read each pass; their table
 * layout comes from the layout flags.
 */
import type { Command } from 'commander';
import { DataError, OptionError } from '../errors.js';
import { readNamesFile } from '../source/names-file.js';
import { formatToRead } from '../format/registry.js';
import { addTableFlags } from './parse-flags.js';
import type { Layout, SourceOptions } from '../source/layout.js';
import type { MatrixSource } from '../source/matrix-source.js';
import type { CscMatrix } from '../chunk/csc-matrix.js';
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
  /** Names files (`--feature-names`, `--sample-names`) and `--transpose` (an .mtx or 10x input only). */
  featureNames?: string;
  sampleNames?: string;
  transpose?: boolean;
  /** --missing nan: a NaN value (and in a table a NULL value) is a missing entry. */
  missing?: 'error' | 'nan';
  readAhead?: number;
  memoryBudget?: number;
  /** What the command will need per feature and sample (a fit's W and H), checked when an .mtx is read (memory-limit.ts). */
  budget?: MemoryBudget;
}

export async function openInput(path: string, flags: InputFlags): Promise<MatrixSource> {
  const format = formatToRead(path, 'matrix');
  const wholeMatrix = format.name === 'mtx' || format.name === '10x';
  if (flags.transpose && !wholeMatrix) throw new OptionError('--transpose', 'a Matrix Market (.mtx) input or a 10x folder (a table layout says which column holds the samples)', path);
  if (wholeMatrix) {
    return await format.openMatrix!(path, sourceOptions(flags), {
      memoryLimit: flags.memoryLimit, budget: flags.budget, missing: flags.missing, featureNames: flags.featureNames, sampleNames: flags.sampleNames, transpose: flags.transpose,
    });
  }
  // A table input: feature names are the layout's (string feature ids are looked up in them); sample names name H.
  const featureNames = flags.featureNames === undefined ? undefined : await readNamesFile(flags.featureNames, 'features');
  const source = await format.openMatrix!(path, {
    ...sourceOptions(flags), ...(featureNames ? { featureNames } : {}), ...(flags.missing === undefined ? {} : { missing: flags.missing }),
  }, { memoryLimit: flags.memoryLimit, budget: flags.budget });
  if (flags.sampleNames === undefined) return source;
  const sampleNames = await readNamesFile(flags.sampleNames, 'samples');
  if (source.samples !== undefined && source.samples !== sampleNames.length) {
    throw new DataError('SHAPE_MISMATCH', `--sample-names: ${flags.sampleNames} has ${sampleNames.length} names, but ${path} has ${source.samples} samples`, { source: flags.sampleNames });
  }
  // The source itself stays the prototype: its getters (names learnt while reading) stay live.
  return Object.assign(Object.create(source) as MatrixSource, { sampleNames });
}

/**
 * A Matrix Market or 10x input read whole (project, convert), with its names (`--feature-names`, `--sample-names`,
 * a 10x folder's) and `--transpose`. A table input with a names flag or --transpose is a usage error here.
 */
export async function readWholeInput(path: string, flags: InputFlags): Promise<{ matrix: CscMatrix; featureNames: readonly string[] | undefined; sampleNames: readonly string[] | undefined }> {
  const source = await openInput(path, flags) as MatrixSource & { matrix?: CscMatrix };
  return { matrix: source.matrix!, featureNames: source.featureNames, sampleNames: source.sampleNames };
}

/** A table input (streamed by project and convert) takes no names files and no --transpose. */
export function checkTableInputFlags(path: string, flags: InputFlags): void {
  for (const [flag, value] of [['--feature-names', flags.featureNames], ['--sample-names', flags.sampleNames], ['--transpose', flags.transpose]] as const) {
    if (value !== undefined && value !== false) {
      throw new OptionError(flag, 'a Matrix Market (.mtx) input or a 10x folder here (a table names its features and samples in its columns)', path);
    }
  }
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
  return addTableFlags(command, 'mtx', ['memoryLimit', 'featureNames', 'sampleNames', 'transpose']);
}
