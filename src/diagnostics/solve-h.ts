/**
 * H for a fixed model on some data, so that a model read from a file can be evaluated on a matrix:
 *  'l2': for every sample j, h_j = argmin_{h≥0} ‖A[:,j] − W·diag(d)·h‖² — the exact NNLS of the
 *        fit's H-update (kernel/nnls-solve.ts), without penalties; O(nnz·k + n·k³) at worst.
 *  'l1': that least-squares H, then `sweeps` half-sweeps of sparse coordinate descent on H with
 *        W·diag(d) fixed (kernel/scd-update.ts), which lowers the weighted L1 objective.
 * Returns H as rank × samples, row-major, with A ≈ W·diag(d)·H (rows not normalised).
 */
import { gram } from '../kernel/gram.js';
import { invertDiagonal, nnlsSolve, NNLS_ACTIVE_SET } from '../kernel/nnls-solve.js';
import { makeNnlsWorkspace } from '../kernel/nnls-workspace.js';
import { sparseRhs } from '../kernel/sparse-rhs.js';
import { scdUpdateLine } from '../kernel/scd-update.js';
import { ensureScdWorkspace, makeScdWorkspace } from '../kernel/scd-workspace.js';
import { OptionError } from '../errors.js';
import type { CscMatrix } from '../source/from-csc.js';
import { makeL1Problem } from '../model/l1/problem.js';
import type { FactorModel } from './factor-model.js';

export interface SolveHOptions {
  /** Which loss H minimises. Default: the model's loss, else 'l2'. */
  readonly loss?: 'l2' | 'l1';
  /** l1: weight of the zero entries. Default 1. */
  readonly lambda?: number;
  /** l1: sCD half-sweeps over H after the least-squares start. Default 20. */
  readonly sweeps?: number;
}

/** H (rank × samples) for the matrix with the model's W·diag(d) fixed: exact NNLS per sample (l1 models: refined by sCD). */
export function solveH(matrix: CscMatrix, model: FactorModel, options: SolveHOptions = {}): Float64Array {
  const k = model.rank, m = model.features, n = matrix.n;
  if (matrix.m !== m) throw new OptionError('matrix', `${m} features (the model's)`, `${matrix.m} features`);
  const Wd = new Float64Array(m * k);
  for (let i = 0; i < m; i++) for (let a = 0; a < k; a++) Wd[i * k + a] = model.W[i * k + a]! * model.d[a]!;
  const G = new Float64Array(k * k);
  const invDiag = new Float64Array(k);
  gram(Wd, m, k, G);
  invertDiagonal(G, k, invDiag);
  const ws = makeNnlsWorkspace(k);
  const b = new Float64Array(k);
  const Hs = new Float64Array(n * k); // sample-major while solving: the k codes of sample j contiguous
  for (let j = 0; j < n; j++) {
    sparseRhs(Wd, k, matrix.rowIdx, matrix.values, matrix.colPtr[j]!, matrix.colPtr[j + 1]!, 0, b, 0);
    nnlsSolve(G, invDiag, k, b, 0, Hs, j * k, ws, 100, 1e-8, NNLS_ACTIVE_SET);
  }
  if ((options.loss ?? model.loss ?? 'l2') === 'l1') refineL1(matrix, Wd, Hs, k, options.lambda ?? 1, options.sweeps ?? 20);
  const H = new Float64Array(k * n);
  for (let j = 0; j < n; j++) for (let a = 0; a < k; a++) H[a * n + j] = Hs[j * k + a]!;
  return H;
}

/** sCD half-sweeps over the columns of H (sample-major) with W fixed. */
function refineL1(matrix: CscMatrix, W: Float64Array, H: Float64Array, k: number, lambda: number, sweeps: number): void {
  const problem = makeL1Problem(matrix, lambda);
  const ws = makeScdWorkspace(k, problem.maxLine);
  ensureScdWorkspace(ws, k, problem.maxLine);
  for (let a = 0; a < k; a++) ws.allSums[a] = 0;
  for (let i = 0; i < problem.m; i++) for (let a = 0; a < k; a++) ws.allSums[a] = ws.allSums[a]! + W[i * k + a]!;
  const { colPtr, rowIdx, values } = problem;
  for (let s = 0; s < sweeps; s++) {
    for (let j = 0; j < problem.n; j++) scdUpdateLine(rowIdx, values, colPtr[j]!, colPtr[j + 1]!, H, j * k, W, k, lambda, ws);
  }
}
