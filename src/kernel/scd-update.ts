/**
 * One line of sparse coordinate descent (sCD) for weighted L1-NMF.
 *
 * Math: for one factor entry x_l (H[l,j] for column j of A, or W[i,l] for row i) with the other
 * factor y fixed, minimise over x_l ≥ 0
 *   Σ_{p∈K} |a_p − R_p − y_{p,l} x_l| + λ · x_l · (Σ_all y_·l − Σ_{p∈K} y_{p,l}),
 * K = the line's nonzeros, R_p = the other components' prediction. The minimiser is the lower
 * weighted median of the breakpoints t_p = (a_p − R_p)/y_{p,l} (weights y_{p,l}) and one
 * breakpoint at 0 of weight c = λ·(Σ_all y_·l − Σ_K y_·l) standing for every zero of the line,
 * clipped at 0; weights ≤ 1e-14 are ignored, no surviving breakpoint gives 0. Zeroing rule:
 * c ≥ Σ_K y_·l settles 0 before any breakpoint is formed; otherwise, if the weight at or below 0
 * reaches half the total, 0 again; only the positive breakpoints go to the selection.
 *
 * Storage: the line's nonzeros are idx/vals[start, end) (CSC column or CSR row of A). x (the
 * factor being updated) and y (the other one) both hold k contiguous values per index: W is
 * row-major m×k, H sample-major n×k, so an H-update reads y = W at idx·k and a W-update reads
 * y = H at idx·k. The residual r_p = a_p − Σ_l y_{p,l} x_l lives in ws.r[p − start].
 *
 * Cost: O(k·|K|) to rebuild the residual and the line sums, then per entry O(1) when the zeroing
 * rule fires, else O(|K|) expected (selection), plus O(|K|) when the value changes.
 *
 * Allocates nothing.
 *
 * Reference: Seraghiti, Dubrulle, Vandaele, Gillis, "Nonnegative Matrix Factorization in the
 * Component-Wise L1 Norm for Sparse Data", arXiv 2603.29715 (2026), sCD; DESIGN.md §2.2.
 * Tested against test/reference/dense-l1-cd.ts (brute force over all m·n entries).
 */
import { WEIGHT_FLOOR, weightedSelect } from './weighted-median.js';
import type { ScdWorkspace } from './scd-workspace.js';

/** ws.r = a − y·x on the line; ws.lineSums[l] = Σ_K y_{p,l}. O(k·|K|). */
export function scdRebuildLine(
  idx: Int32Array, vals: Float64Array, start: number, end: number,
  x: Float64Array, xOff: number, y: Float64Array, k: number, ws: ScdWorkspace,
): void {
  const r = ws.r, sums = ws.lineSums;
  for (let l = 0; l < k; l++) sums[l] = 0;
  for (let p = start; p < end; p++) {
    const base = idx[p]! * k;
    let pred = 0;
    for (let l = 0; l < k; l++) {
      const yl = y[base + l]!;
      pred += yl * x[xOff + l]!;
      sums[l] = sums[l]! + yl;
    }
    r[p - start] = vals[p]! - pred;
  }
}

/**
 * The exact minimiser of entry l given the residual in ws.r (which includes xOld·y_·l) and the
 * sums in ws.lineSums / ws.allSums. Writes only ws.bt / ws.bw.
 */
export function scdSolveEntry(
  idx: Int32Array, start: number, end: number, y: Float64Array, k: number, l: number,
  xOld: number, lambda: number, ws: ScdWorkspace,
): number {
  const sumK = ws.lineSums[l]!;
  let c = lambda * (ws.allSums[l]! - sumK);
  if (!(c > 0)) c = 0;
  if (c >= sumK) return 0; // zeroing rule: the zeros' weight alone is half the total
  const r = ws.r, bt = ws.bt, bw = ws.bw;
  let total = c > WEIGHT_FLOOR ? c : 0;
  let left = total;
  let np = 0;
  for (let p = start; p < end; p++) {
    const yp = y[idx[p]! * k + l]!;
    if (yp > WEIGHT_FLOOR) {
      const t = r[p - start]! / yp + xOld;
      total += yp;
      if (t <= 0) {
        left += yp;
      } else {
        bt[np] = t; bw[np] = yp; np++;
      }
    }
  }
  const half = 0.5 * total;
  if (left >= half) return 0;
  return weightedSelect(bt, bw, 0, np, half - left);
}

/** ws.r −= y_·l · delta on the line (after entry l moved by delta). */
export function scdShiftResidual(
  idx: Int32Array, start: number, end: number, y: Float64Array, k: number, l: number,
  delta: number, ws: ScdWorkspace,
): void {
  const r = ws.r;
  for (let p = start; p < end; p++) r[p - start] = r[p - start]! - y[idx[p]! * k + l]! * delta;
}

/** Update the k entries x[xOff .. xOff+k) in order, each to its exact minimiser. */
export function scdUpdateLine(
  idx: Int32Array, vals: Float64Array, start: number, end: number,
  x: Float64Array, xOff: number, y: Float64Array, k: number, lambda: number, ws: ScdWorkspace,
): void {
  scdRebuildLine(idx, vals, start, end, x, xOff, y, k, ws);
  for (let l = 0; l < k; l++) {
    const xOld = x[xOff + l]!;
    const xNew = scdSolveEntry(idx, start, end, y, k, l, xOld, lambda, ws);
    if (xNew !== xOld) {
      x[xOff + l] = xNew;
      scdShiftResidual(idx, start, end, y, k, l, xNew - xOld, ws);
    }
  }
}

/**
 * The line's share of the objective from the residual in ws.r:
 * Σ_K |r_p| + λ·(Σ_l allSums_l·x_l − Σ_K (a_p − r_p)). O(|K| + k).
 */
export function scdLineObjective(
  vals: Float64Array, start: number, end: number, x: Float64Array, xOff: number, k: number,
  lambda: number, ws: ScdWorkspace,
): number {
  const r = ws.r, all = ws.allSums;
  let abs = 0, predK = 0;
  for (let p = start; p < end; p++) {
    const rp = r[p - start]!;
    abs += rp < 0 ? -rp : rp;
    predK += vals[p]! - rp;
  }
  let predAll = 0;
  for (let l = 0; l < k; l++) predAll += all[l]! * x[xOff + l]!;
  return abs + lambda * (predAll - predK);
}
