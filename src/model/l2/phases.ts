/**
 * The least-squares pass cut into phases that can run on disjoint ranges in parallel (docs/architecture.md,
 * Runners and the canonical order), each giving the same bits as the sequential model/l2/step.ts / model/l2/end-pass.ts:
 *  solveColumns:    H for columns [j0, j1) of a chunk (independent per column given W);
 *  (kernel/accumulate-stats.ts accumulateRows: B[i, :] += A[i, j]·h_j for rows i in [i0, i1),
 *                   columns in ascending order — the same additions per B entry as the sequential fold);
 *  solveRows:       W rows [i0, i1) from the normalised statistics (independent per row given H).
 * Pure typed-array functions: no RxJS, no worker code.
 */
import { nnlsSolve } from '../../kernel/nnls-solve.js';
import type { NnlsWorkspace } from '../../kernel/nnls-workspace.js';
import type { RhsKernel, RowsKernel } from '../../kernel/rank-kernels.js';
import { openUnitRows } from '../../kernel/unit-rows.js';
import { forEachUnit } from './units.js';

export interface NnlsSettings {
  readonly maxSweeps: number;
  readonly tol: number;
  readonly method: number;
}

export function solveColumns(
  W: Float64Array, G: Float64Array, invDiag: Float64Array, warmScale: Float64Array, warm: boolean, k: number,
  colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array, colStart: number, j0: number, j1: number,
  H: Float64Array, ws: NnlsWorkspace, b: Float64Array, rhs: RhsKernel, l1H: number, nnls: NnlsSettings,
): void {
  for (let j = j0; j < j1; j++) {
    const off = (colStart + j) * k;
    rhs(W, rowIdx, values, colPtr[j]!, colPtr[j + 1]!, l1H, b, 0);
    for (let a = 0; a < k; a++) H[off + a] = warm ? H[off + a]! * warmScale[a]! : 0;
    nnlsSolve(G, invDiag, k, b, 0, H, off, ws, nnls.maxSweeps, nnls.tol, nnls.method);
  }
}

/** Rows [i0, i1): Bn ← B·inv (may be B itself), then w_i from b = Bn_i − L1_W, warm start w_i ⊙ hSum. */
export function solveRows(
  W: Float64Array, B: Float64Array, Bn: Float64Array, inv: Float64Array, hSum: Float64Array, Gw: Float64Array, invDiag: Float64Array,
  k: number, l1W: number, i0: number, i1: number, ws: NnlsWorkspace, b: Float64Array, nnls: NnlsSettings,
): void {
  for (let i = i0; i < i1; i++) {
    const o = i * k;
    for (let a = 0; a < k; a++) {
      const bn = B[o + a]! * inv[a]!;
      Bn[o + a] = bn;
      b[a] = bn - l1W;
      W[o + a] = W[o + a]! * hSum[a]!;
    }
    nnlsSolve(Gw, invDiag, k, b, 0, W, o, ws, nnls.maxSweeps, nnls.tol, nnls.method);
  }
}

/**
 * The B phase on rows [i0, i1) (parallel/l2-pool.ts): AHᵀ of the chunk's columns unit by unit (units.ts),
 * each unit's rows summed from zero in Bu (columns in order) and added to B in unit order.
 */
export function accumulateUnitRows(
  rows: RowsKernel, k: number, colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array, n: number, colStart: number,
  H: Float64Array, B: Float64Array, Bu: Float64Array, last: Int32Array, i0: number, i1: number,
): void {
  forEachUnit(colStart, n, (unit, j0, j1) => {
    openUnitRows(rowIdx, colPtr[j0]!, colPtr[j1]!, unit, k, B, Bu, last, i0, i1);
    rows(k, colPtr.subarray(j0), rowIdx, values, j1 - j0, colStart + j0, H, Bu, i0, i1);
  });
}
