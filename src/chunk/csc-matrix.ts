/** A whole matrix in CSC form: m features × n samples, colPtr of length n + 1 (the in-memory sources and l1 engines share it). */
export interface CscMatrix {
  readonly m: number;
  readonly n: number;
  readonly colPtr: Int32Array;
  readonly rowIdx: Int32Array;
  readonly values: Float64Array;
}
