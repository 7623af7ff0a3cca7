/**
 * A chunk of samples: consecutive columns of A (m features × n samples) in compressed sparse
 * column form. Column j of the chunk is global sample `colStart + j`; its nonzeros are
 * `rowIdx[colPtr[j] .. colPtr[j+1])` with `values` at the same positions.
 *
 * Chunks are immutable once made. `colPtr[0]` is 0. Values are Float64 (model math is float64;
 * converters widen float32/integers once, at the boundary).
 */
export interface CscChunk {
  /** Number of features (rows of A). */
  readonly m: number;
  /** Global index of the chunk's first sample (column). */
  readonly colStart: number;
  /** Number of samples (columns) in the chunk. */
  readonly n: number;
  /** Length n + 1, colPtr[0] = 0, nondecreasing, colPtr[n] = nnz. */
  readonly colPtr: Int32Array;
  /** Length ≥ nnz: the feature index of each nonzero, in [0, m). */
  readonly rowIdx: Int32Array;
  /** Length ≥ nnz: the value of each nonzero, finite and ≥ 0. */
  readonly values: Float64Array;
  /** Deterministic position of the chunk in its source (0-based), for ids and error messages. */
  readonly position: number;
  /** A chunk read from a log (cluster/jetstream-source.ts): the sequence of the message it came from. */
  readonly sequence?: number;
}

export function nnzOf(chunk: CscChunk): number {
  return chunk.colPtr[chunk.n] ?? 0;
}

/** A CscChunk of consecutive samples from its CSC arrays (`colStart`: the global index of its first sample); not checked (see checkChunk). */
export function makeCscChunk(fields: {
  m: number;
  colStart: number;
  colPtr: Int32Array;
  rowIdx: Int32Array;
  values: Float64Array;
  position?: number;
}): CscChunk {
  return {
    m: fields.m,
    colStart: fields.colStart,
    n: fields.colPtr.length - 1,
    colPtr: fields.colPtr,
    rowIdx: fields.rowIdx,
    values: fields.values,
    position: fields.position ?? 0,
  };
}
