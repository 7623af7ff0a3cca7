/**
 * The half-sweeps of a masked weighted L1 fit (issue #15), shared by the in-memory engine, its threads
 * (parallel/l1-pool.ts, l1-worker.ts), the out-of-core engine and the online fit, so that every path makes the same
 * sums in the same order:
 *   W half-sweep, row i: the zero breakpoint's Σ_all H_jl less H over row i's masked samples (ascending j), then the
 *     sCD line over its observed nonzeros (ascending j);
 *   H half-sweep, column j: likewise with W over column j's masked rows (in the split's order, masked-split.ts);
 *     the column's objective term (observed entries only) from its final residual.
 * Test loss: Σ weight·loss(a, (WH)_ij) over the held-out entries in sample order (kernel/scd-masked.ts l1EntryLoss).
 */
import { l1EntryLoss, maskedLineSums } from '../../kernel/scd-masked.js';
import { scdLineObjective, scdRebuildLine, scdUpdateLine } from '../../kernel/scd-update.js';
import type { ScdWorkspace } from '../../kernel/scd-workspace.js';
import type { L1TestList } from './masked-split.js';

/** Observed lines and masked lines of one layout (CSC by sample or CSR by feature), `ptr` relative to the first line. */
export interface MaskedLines {
  readonly ptr: Int32Array;
  readonly idx: Int32Array;
  readonly values: Float64Array;
  readonly maskPtr: Int32Array;
  readonly maskIdx: Int32Array;
}

/**
 * Updates lines [t0, t1) of `lines` (line t is x at (shift + t)·k; y the fixed factor; `base`: Σ_all y per
 * component). With `f`: each line's objective term into f[t], added in line order to `total` (returned).
 */
export function maskedSweep(
  lines: MaskedLines, t0: number, t1: number, shift: number, x: Float64Array, y: Float64Array, k: number, lambda: number,
  ws: ScdWorkspace, base: Float64Array, f?: Float64Array, total = 0,
): number {
  const { ptr, idx, values, maskPtr, maskIdx } = lines;
  for (let t = t0; t < t1; t++) {
    maskedLineSums(maskIdx, maskPtr[t]!, maskPtr[t + 1]!, y, k, base, ws);
    const start = ptr[t]!, end = ptr[t + 1]!, off = (shift + t) * k;
    scdUpdateLine(idx, values, start, end, x, off, y, k, lambda, ws);
    if (f !== undefined) {
      const term = scdLineObjective(values, start, end, x, off, k, lambda, ws);
      f[t] = term;
      total += term;
    }
  }
  return total;
}

/** The objective of lines [0, count) (x at (shift + t)·k) without updating them, added in line order to `total`. */
export function maskedObjective(
  lines: MaskedLines, count: number, shift: number, x: Float64Array, y: Float64Array, k: number, lambda: number,
  ws: ScdWorkspace, base: Float64Array, total = 0,
): number {
  const { ptr, idx, values, maskPtr, maskIdx } = lines;
  for (let t = 0; t < count; t++) {
    maskedLineSums(maskIdx, maskPtr[t]!, maskPtr[t + 1]!, y, k, base, ws);
    const start = ptr[t]!, end = ptr[t + 1]!, off = (shift + t) * k;
    scdRebuildLine(idx, values, start, end, x, off, y, k, ws);
    total += scdLineObjective(values, start, end, x, off, k, lambda, ws);
  }
  return total;
}

/** Adds the test list's Σ weight·loss and Σ weight to `acc` (W m×k, H n×k by `cols`), entries in list order. */
export function addTestLoss(t: L1TestList, W: Float64Array, H: Float64Array, k: number, lambda: number, acc: { loss: number; weight: number }): void {
  let loss = acc.loss, weight = acc.weight;
  for (let q = 0; q < t.n; q++) {
    const wo = t.rows[q]! * k, ho = t.cols[q]! * k;
    let pred = 0;
    for (let a = 0; a < k; a++) pred += W[wo + a]! * H[ho + a]!;
    const w = t.weights[q]!;
    loss += w * l1EntryLoss(t.values[q]!, pred, lambda);
    weight += w;
  }
  acc.loss = loss; acc.weight = weight;
}

/**
 * A block of feature-major rows whose masked entries are stored as NaN (masked-split.ts withMaskedAsNaN) as
 * MaskedLines: the observed and the masked samples of each row, both ascending.
 */
export function splitNaNRows(rowPtr: Int32Array, colIdx: Int32Array, values: Float64Array, rows: number): MaskedLines {
  const nnz = rowPtr[rows]!;
  let masked = 0;
  for (let p = 0; p < nnz; p++) if (values[p] !== values[p]) masked++;
  const ptr = new Int32Array(rows + 1), idx = new Int32Array(nnz - masked), vals = new Float64Array(nnz - masked);
  const maskPtr = new Int32Array(rows + 1), maskIdx = new Int32Array(masked);
  let o = 0, q = 0;
  for (let r = 0; r < rows; r++) {
    for (let p = rowPtr[r]!; p < rowPtr[r + 1]!; p++) {
      const v = values[p]!;
      if (v !== v) maskIdx[q++] = colIdx[p]!;
      else { idx[o] = colIdx[p]!; vals[o++] = v; }
    }
    ptr[r + 1] = o; maskPtr[r + 1] = q;
  }
  return { ptr, idx, values: vals, maskPtr, maskIdx };
}
