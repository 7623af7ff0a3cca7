/**
 * A source of chunks. A re-readable source (a file, a directory of files, an in-memory matrix)
 * can be read once per pass, which gives the exact batch algorithm out of core; a live source
 * (any Observable) is read once.
 *
 * `chunks()` returns a cold Observable: each subscription reads the data again from the start,
 * with chunks in the same order and with the same `colStart`/`position` every time.
 */
import type { Observable } from 'rxjs';
import type { CscChunk } from '../chunk/csc-chunk.js';
import type { MemoryBudget } from '../memory-limit.js';

export interface MatrixSource {
  /** For error messages and logs: a file path or a short description. */
  readonly name: string;
  /** True when `chunks()` may be subscribed once per pass. */
  readonly rereadable: boolean;
  /** Features (m), when known before reading. */
  readonly features?: number;
  /** Samples (n), when known before reading. */
  readonly samples?: number;
  /** Feature names (length m), when the source has them. */
  readonly featureNames?: readonly string[];
  /** Sample names (length n), when the source has them: they name the columns of H in snapshots and files. */
  readonly sampleNames?: readonly string[];
  /**
   * A cold Observable of validated chunks, in column order. `budget`: what the consumer needs per
   * feature and sample (memory-limit.ts); a file source checks every sample index against it before
   * it emits the chunks up to that sample, so a corrupt id ends in MEMORY_LIMIT at its row.
   */
  chunks(budget?: MemoryBudget): Observable<CscChunk>;
}

export function isMatrixSource(value: unknown): value is MatrixSource {
  return typeof value === 'object' && value !== null && typeof (value as MatrixSource).chunks === 'function'
    && typeof (value as MatrixSource).rereadable === 'boolean';
}

/**
 * Where a source on a log (a JetStream stream: cluster/jetstream-source.ts) resumes: the sequences of the last
 * chunks consumed (the online window, replayed to refill it), and the colStart and position of the first of them.
 * Stored in an online fit's checkpoint (io/checkpoint.ts), so a restarted learner continues at the last sequence + 1.
 */
export interface LogPosition {
  readonly sequences: readonly number[];
  readonly colStart: number;
  readonly position: number;
}

/** A source on a log: one chunk per message (each chunk carries its `sequence`), readable from any position. */
export interface LogSource extends MatrixSource {
  /** The chunks from the message with sequence `from.sequences[0]` on, numbered from `from.colStart` / `from.position`. */
  chunksFrom(from: LogPosition, budget?: MemoryBudget): Observable<CscChunk>;
}

export function isLogSource(value: unknown): value is LogSource {
  return isMatrixSource(value) && typeof (value as LogSource).chunksFrom === 'function';
}
