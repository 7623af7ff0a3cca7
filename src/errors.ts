/**
 * Typed errors with stable `code`s. Bad options throw synchronously; bad data travels on the
 * Observable's error channel. Every data error says where: source, batch / row group, row, column.
 */

/** Where in the input a problem was found. Every field is optional; fill in what is known. */
export interface DataLocation {
  /** File path or a description of the source ("in-memory CSC", "live stream"). */
  readonly source?: string;
  /** Record batch, row group or chunk index (0-based). */
  readonly batch?: number;
  /** Row in the file / table (0-based), or line in a text file (1-based, said in the message). */
  readonly row?: number;
  /** Table column name, or matrix column (sample) index. */
  readonly column?: string | number;
  /** Matrix row (feature) index. */
  readonly feature?: number;
  /** Matrix column (sample) index. */
  readonly sample?: number;
  /** 1-based line in a text file. */
  readonly line?: number;
}

export type NmfErrorCode =
  | 'INVALID_OPTION'
  | 'INVALID_VALUE'
  | 'INDEX_OUT_OF_RANGE'
  | 'MALFORMED_CHUNK'
  | 'MALFORMED_FILE'
  | 'SCHEMA_MISMATCH'
  | 'UNSORTED_INPUT'
  | 'SHAPE_MISMATCH'
  | 'EMPTY_INPUT'
  | 'UNSUPPORTED'
  | 'NUMERICAL'
  | 'IO'
  | 'MEMORY_LIMIT'
  | 'CHECKSUM_MISMATCH'
  | 'DATA_CHANGED'
  | 'CLUSTER';

export class NmfError extends Error {
  readonly code: NmfErrorCode;
  readonly location: DataLocation | undefined;
  constructor(code: NmfErrorCode, message: string, options?: { location?: DataLocation; cause?: unknown }) {
    super(options?.location ? `${message} (${describeLocation(options.location)})` : message,
      options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NmfError';
    this.code = code;
    this.location = options?.location;
  }
}

/** A bad option: thrown synchronously, before anything is subscribed. `message` replaces the "expected … got" sentence. */
export class OptionError extends NmfError {
  readonly option: string;
  constructor(option: string, expected: string, received: unknown, message?: string) {
    super('INVALID_OPTION', message ?? `Invalid option \`${option}\`: expected ${expected}, got ${show(received)}.`);
    this.name = 'OptionError';
    this.option = option;
  }
}

/** Bad data: a value, an index, a shape or a file that cannot become a model. */
export class DataError extends NmfError {
  constructor(code: NmfErrorCode, message: string, location: DataLocation, cause?: unknown) {
    super(code, message, cause === undefined ? { location } : { location, cause });
    this.name = 'DataError';
  }
}

/** A cluster problem: an unreachable NATS server, a missing stream or bucket, a peer of another nmflow version. */
export class ClusterError extends NmfError {
  /** What was being reached: a server URL, `stream NAME`, `bucket NAME`, `worker ID`. */
  readonly target: string;
  constructor(target: string, message: string, cause?: unknown) {
    super('CLUSTER', message, cause === undefined ? undefined : { cause });
    this.name = 'ClusterError';
    this.target = target;
  }
}

export function describeLocation(loc: DataLocation): string {
  const parts: string[] = [];
  if (loc.source !== undefined) parts.push(`source ${loc.source}`);
  if (loc.batch !== undefined) parts.push(`batch ${loc.batch}`);
  if (loc.line !== undefined) parts.push(`line ${loc.line}`);
  if (loc.row !== undefined) parts.push(`row ${loc.row}`);
  if (loc.column !== undefined) parts.push(`column ${loc.column}`);
  if (loc.feature !== undefined) parts.push(`feature ${loc.feature}`);
  if (loc.sample !== undefined) parts.push(`sample ${loc.sample}`);
  return parts.join(', ');
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  return Object.prototype.toString.call(value);
}
