/**
 * Diagonal scaling of docs/architecture.md, Least squares: for a row-major rows×k factor X, d[a] = Σ_r X[r,a] and
 * each column is divided by it (a column summing to 0 is left at 0 with d[a] = 0).
 * Cost O(rows·k). Allocates nothing.
 */
export function columnSums(X: Float64Array, rows: number, k: number, d: Float64Array): void {
  d.fill(0, 0, k);
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    for (let a = 0; a < k; a++) d[a] = d[a]! + X[o + a]!;
  }
}

export function scaleColumns(X: Float64Array, rows: number, k: number, d: Float64Array, inv: Float64Array): void {
  columnSums(X, rows, k, d);
  for (let a = 0; a < k; a++) inv[a] = d[a]! > 0 ? 1 / d[a]! : 0;
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    for (let a = 0; a < k; a++) X[o + a] = X[o + a]! * inv[a]!;
  }
}
