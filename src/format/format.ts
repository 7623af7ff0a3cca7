/**
 * What a file format is to nmflow: how a file is recognised (extension, or its first bytes when the name says
 * nothing) and what reads or writes it. Each format is one entry of formats.ts; registry.ts picks the entry
 * for a path and a role. Adding a format: write its reader / writer, add its entry to formats.ts and its name
 * to FormatName.
 */
import type { CscMatrix } from '../source/from-csc.js';
import type { FileSource } from '../source/batch-source.js';
import type { SourceOptions } from '../source/layout.js';
import type { MatrixSource } from '../source/matrix-source.js';
import type { MemoryBudget } from '../memory-limit.js';

export type FormatName = 'mtx' | '10x' | 'csv' | 'arrow' | 'arrows' | 'parquet';

/**
 * What a path is used for: `matrix` an input to fit, convert or project; `model` a model file (io/model-file.ts,
 * read and written); `table-out` a table written record batch by record batch (io/write-table.ts); `matrix-out`
 * the output of `convert` (a table, or a matrix written whole).
 */
export type Role = 'matrix' | 'model' | 'table-out' | 'matrix-out';

export interface Format {
  readonly name: FormatName;
  /** In messages, with its extensions after it: "Matrix Market (.mtx, .mtx.gz)". */
  readonly title: string;
  /** Lower-case name endings (the longest that matches wins: `.mtx.gz` over another format's `.gz`). */
  readonly extensions: readonly string[];
  /** The endings a writer of the format gives its files (default: `extensions`). */
  readonly writtenExtensions?: readonly string[];
  /** Whether the first bytes of a file are this format's (for a name without a known ending). */
  readonly magic?: (head: Uint8Array) => boolean;
  /** A directory is read as its part files in this format. */
  readonly directories?: boolean;
  /** Whether a directory is this format's (checked before `directories` claims it; default: any directory). */
  readonly claimsDirectory?: (path: string) => boolean;
  /** A matrix input, as a re-readable source of chunks. */
  /** `memory`: the limit of what reading may take, and the consumer's budget (memory-limit.ts), for formats read whole. */
  readonly openMatrix?: (path: string, options: SourceOptions, memory?: MatrixMemory) => Promise<MatrixSource>;
  /** A table input, read one record batch at a time (convert, project). */
  readonly openTable?: (path: string, options: SourceOptions) => FileSource;
  /** The schema metadata of a table input (what `convert` wrote in it: nmflow.features, nmflow.samples). */
  readonly tableMetadata?: (path: string, source: FileSource) => Promise<Map<string, string>>;
  /** A matrix input read whole into memory. */
  readonly readMatrix?: (path: string) => Promise<CscMatrix>;
  /** A matrix written whole. */
  readonly writeMatrix?: (path: string, matrix: CscMatrix) => Promise<void>;
  /** io/write-table.ts encodes record batches in this format. */
  readonly writesTables?: boolean;
  /** io/model-file.ts reads and writes models in this format. */
  readonly holdsModels?: boolean;
}

/** Whether a format serves a role. */
export function serves(format: Format, role: Role): boolean {
  switch (role) {
    case 'matrix': return format.openMatrix !== undefined;
    case 'model': return format.holdsModels === true;
    case 'table-out': return format.writesTables === true;
    case 'matrix-out': return format.writesTables === true || format.writeMatrix !== undefined;
  }
}

/** The first bytes of a file begin with `text` (ASCII). */
export function startsWith(head: Uint8Array, text: string): boolean {
  if (head.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (head[i] !== text.charCodeAt(i)) return false;
  return true;
}

/** What a reader that holds the whole matrix checks before allocating it (memory-limit.ts). */
export interface MatrixMemory {
  readonly memoryLimit?: number | undefined;
  readonly budget?: MemoryBudget | undefined;
  /** Matrix Market and 10x inputs: names files and the orientation (from-mtx.ts MtxOptions). */
  readonly featureNames?: string | undefined;
  readonly sampleNames?: string | undefined;
  readonly transpose?: boolean | undefined;
  /** 'nan': a NaN value is a missing entry (Matrix Market; the fit's `missing: 'nan'`). */
  readonly missing?: 'error' | 'nan' | undefined;
}
