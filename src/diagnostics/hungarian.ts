/**
 * Optimal assignment (the linear assignment problem) by the Hungarian / Kuhn–Munkres algorithm,
 * from the `munkres` package (MIT, O(n³), square and rectangular cost matrices). This file only
 * adapts it to nmflow's row-major Float64Array matrices and checks the input.
 */
import { munkres } from 'munkres';
import { OptionError } from '../errors.js';

/**
 * Minimum-cost assignment for a rows×cols cost matrix (row-major). Returns, for each row, the
 * column assigned to it, or −1 when rows > cols leaves the row unassigned. Every cost must be finite.
 */
export function assignMinCost(cost: Float64Array | readonly number[], rows: number, cols: number): Int32Array {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new OptionError('rows/cols', 'integers ≥ 0', [rows, cols]);
  }
  if (cost.length !== rows * cols) throw new OptionError('cost', `${rows}×${cols} = ${rows * cols} numbers`, `${cost.length} numbers`);
  const matrix: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const row: number[] = [];
    for (let c = 0; c < cols; c++) {
      const v = cost[r * cols + c]!;
      if (!Number.isFinite(v)) throw new OptionError('cost', 'finite numbers', v);
      row.push(v);
    }
    matrix.push(row);
  }
  const assignment = new Int32Array(rows).fill(-1);
  if (rows === 0 || cols === 0) return assignment;
  for (const [r, c] of munkres(matrix)) assignment[r] = c;
  return assignment;
}

/** Maximum-similarity assignment: the same, on cost = −similarity. */
export function assignMaxSimilarity(similarity: Float64Array | readonly number[], rows: number, cols: number): Int32Array {
  const cost = new Float64Array(similarity.length);
  for (let p = 0; p < cost.length; p++) cost[p] = -similarity[p]!;
  return assignMinCost(cost, rows, cols);
}

/** Σ_r cost[r, assignment[r]] over the assigned rows. */
export function assignmentCost(cost: Float64Array | readonly number[], cols: number, assignment: Int32Array): number {
  let total = 0;
  for (let r = 0; r < assignment.length; r++) {
    const c = assignment[r]!;
    if (c >= 0) total += cost[r * cols + c]!;
  }
  return total;
}
