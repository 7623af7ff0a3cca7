/**
 * One iteration of sparse coordinate descent (sCD) for weighted L1-NMF, in memory
 * (docs/architecture.md, Weighted L1, arXiv 2603.29715):
 *   1. W half-sweep: every row i of W, its k entries in order, each the exact minimiser against
 *      row i's nonzeros (weights H_lj) plus the aggregated zero breakpoint λ·(Σ_all j H_lj − Σ_row H_lj);
 *   2. H half-sweep: every column j of H likewise against column j's nonzeros (weights W_il).
 * The objective f = Σ_{A_ij>0} |A_ij − (WH)_ij| + λ·Σ_{A_ij=0} (WH)_ij of the new (W, H) is
 * accumulated during the H half-sweep from the final residual of each column, without a dense WH.
 *
 * W is row-major m×k, H sample-major n×k (k codes of sample j at H[j·k]); both updated in place.
 * The model is A ≈ W·H (no diagonal scale during sCD).
 */
import { ensureScdWorkspace, makeScdWorkspace, type ScdWorkspace } from '../../kernel/scd-workspace.js';
import { scdLineObjective, scdRebuildLine, scdUpdateLine } from '../../kernel/scd-update.js';
import type { L1Problem } from './problem.js';

/** One sCD iteration (W then H); returns the absolute objective f at the new iterate. */
export function scdIteration(problem: L1Problem, W: Float64Array, H: Float64Array, k: number, ws: ScdWorkspace): number {
  const { m, n, lambda } = problem;
  ensureScdWorkspace(ws, k, problem.maxLine);
  // W half-sweep: the zero breakpoint of W[i,l] weighs λ·(Σ_all j H_lj − Σ_row H_lj); H is fixed
  // during this half-sweep, so the totals are taken once, exactly.
  factorSums(H, n, k, ws.allSums);
  const { rowPtr, colIdx, rowValues } = problem;
  for (let i = 0; i < m; i++) {
    scdUpdateLine(colIdx, rowValues, rowPtr[i]!, rowPtr[i + 1]!, W, i * k, H, k, lambda, ws);
  }
  // H half-sweep, with Σ_all i W_il of the new W; the objective falls out of each column's residual.
  factorSums(W, m, k, ws.allSums);
  const { colPtr, rowIdx, values } = problem;
  let f = 0;
  for (let j = 0; j < n; j++) {
    const start = colPtr[j]!, end = colPtr[j + 1]!;
    scdUpdateLine(rowIdx, values, start, end, H, j * k, W, k, lambda, ws);
    f += scdLineObjective(values, start, end, H, j * k, k, lambda, ws);
  }
  return f;
}

/**
 * The objective f of (W, H) computed directly, column by column: O(k·nnz + (m + n)·k).
 * Used for iteration 0 and for checks; leaves W and H untouched. The workspace is optional
 * (one is made when absent).
 */
export function l1Objective(
  problem: L1Problem, W: Float64Array, H: Float64Array, k: number,
  ws: ScdWorkspace = makeScdWorkspace(k, problem.maxLine),
): number {
  const { m, n, lambda, colPtr, rowIdx, values } = problem;
  ensureScdWorkspace(ws, k, problem.maxLine);
  factorSums(W, m, k, ws.allSums);
  let f = 0;
  for (let j = 0; j < n; j++) {
    const start = colPtr[j]!, end = colPtr[j + 1]!;
    scdRebuildLine(rowIdx, values, start, end, H, j * k, W, k, ws);
    f += scdLineObjective(values, start, end, H, j * k, k, lambda, ws);
  }
  return f;
}

/** sums[l] = Σ_r F[r·k + l] over the rows of a rows×k row-major factor. */
/** sums[l] = Σ_r F[r, l] for a rows×k row-major factor (the λ-weighted zero breakpoint needs it). */
export function factorSums(F: Float64Array, rows: number, k: number, sums: Float64Array): void {
  for (let l = 0; l < k; l++) sums[l] = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * k;
    for (let l = 0; l < k; l++) sums[l] = sums[l]! + F[base + l]!;
  }
}
