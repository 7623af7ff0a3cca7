/**
 * A tall matrix times a small one: out = X·M, X rows×l row-major (from element xOff), M l×cols
 * row-major, out rows×cols row-major (from element outOff; must not overlap X). Each entry is summed
 * from +0 over b = 0…l−1 in order: out[i, c] = Σ_b X[i, b]·M[b, c] — the order of the WebAssembly
 * rhsColumns kernel used as a dense product (kernel/wasm/tall-products.ts), so both give the same bytes.
 * Cost O(rows·l·cols). Allocates nothing. Reference: any BLAS `dgemm`.
 */
export function timesSmall(
  X: Float64Array, xOff: number, rows: number, l: number, M: Float64Array, cols: number,
  out: Float64Array, outOff: number,
): void {
  for (let i = 0; i < rows; i++) {
    const x = xOff + i * l, o = outOff + i * cols;
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let b = 0; b < l; b++) s += X[x + b]! * M[b * cols + c]!;
      out[o + c] = s;
    }
  }
}
