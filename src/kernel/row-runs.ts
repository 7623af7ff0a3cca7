/**
 * Rows of an m×k row-major matrix moved as runs of consecutive rows (the pass statistics' AHᵀ on the rows a
 * unit touched: model/l2/pass-stats.ts, cluster/stats-codec.ts). A unit of the synthetic 20000 × 200000 matrix
 * touches all or all but a few of the 20000 rows, so its rows are one or a few runs: each run is one
 * TypedArray.set (a copy) or one flat loop over run·k entries (an add) instead of a k-loop per row.
 *   gatherRows:  the rows i with mark[i] === value, ascending, and their values (a compact copy: fresh, or views of
 *                `into` — buffers of m rows the caller reuses: a fresh 1.6 MB array cost 2–5 ms here in page faults).
 *   scatterRows: B[rows[q]] = src[q] for every q (touched[row] = 1 when given).
 *   addRows:     B[rows[q]] = B[rows[q]] + src[q], entry by entry, for every q (touched[row] = 1).
 * The same operands and the same additions, in the same order, as the per-row loops they replace (each entry of
 * B gets one addition per row present; a row absent adds nothing, not +0), so the same bytes, whatever the order
 * of `rows` (runs are taken where it happens to be consecutive: in the statistics it is ascending).
 */

/** The end of the run of consecutive rows that starts at rows[q] (rows[q..e) = rows[q], rows[q] + 1, …). */
function runEnd(rows: Int32Array, q: number): number {
  let e = q + 1;
  for (const row = rows[q]! - q; e < rows.length && rows[e] === row + e;) e++;
  return e;
}

/** Buffers for gatherRows' result, of m rows (rows.length ≥ m, B.length ≥ m·k). */
export interface RowBuffers {
  readonly rows: Int32Array;
  readonly B: Float64Array;
}

export function gatherRows(dense: Float64Array, mark: Int32Array, value: number, k: number, into?: RowBuffers): { rows: Int32Array; B: Float64Array } {
  const m = mark.length;
  let count = 0;
  for (let i = 0; i < m; i++) if (mark[i] === value) count++;
  const rows = into ? into.rows.subarray(0, count) : new Int32Array(count), B = into ? into.B.subarray(0, count * k) : new Float64Array(count * k);
  for (let i = 0, r = 0; r < count; i++) {
    if (mark[i] !== value) continue;
    const start = i, at = r;
    for (; i < m && mark[i] === value; i++) rows[r++] = i;
    B.set(dense.subarray(start * k, i * k), at * k);
  }
  return { rows, B };
}

export function scatterRows(B: Float64Array, touched: Int32Array | undefined, rows: Int32Array, src: Float64Array, k: number): void {
  for (let q = 0; q < rows.length;) {
    const e = runEnd(rows, q), row = rows[q]!;
    B.set(src.subarray(q * k, e * k), row * k);
    touched?.fill(1, row, row + e - q);
    q = e;
  }
}

export function addRows(B: Float64Array, touched: Int32Array, rows: Int32Array, src: Float64Array, k: number): void {
  for (let q = 0; q < rows.length;) {
    const e = runEnd(rows, q), row = rows[q]!;
    for (let p = q * k, o = row * k, end = e * k; p < end; p++, o++) B[o] = B[o]! + src[p]!;
    touched.fill(1, row, row + e - q);
    q = e;
  }
}
