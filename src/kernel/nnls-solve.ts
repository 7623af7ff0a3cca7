/**
 * Exact NNLS  min_{x≥0} ½xᵀGx − bᵀx  for one column or row. x[xOff..xOff+k) holds the warm start
 * on entry (0 = cold) and the solution on exit; b is not modified. Two exact methods, same optimum:
 *
 *  'active-set' (default): the support step (nnls-support.ts) on the warm start's support (all
 *    coordinates when cold: the unconstrained solution); when its KKT test passes that is the
 *    answer; otherwise Lawson–Hanson (nnls-active-set.ts) from the clipped warm start. Exact and
 *    finite; no sweep count or tolerance involved.
 *  'cd': RcppML 0.3.7's recipe — start from the clipped support solution, cyclic coordinate descent
 *    (nnls-cd.ts) in residual form, ≤ maxSweeps sweeps, mean relative change < tol — followed by
 *    the support step on the support CD found, which snaps the result to the exact optimum when
 *    that support is right.
 *  NNLS_CD_WARM (the 'fast' solver, options.ts withSolver): not exact — ≤ maxSweeps CD sweeps from the
 *    warm start alone, no support step. A warm start that is already the solution stays put, so an
 *    outer iteration that converges converges to the same KKT points. wasm/fast.ts does the same
 *    operations in the same order.
 * The workspace's factor cache must have been cleared since G last changed (clearFactorCache).
 * The exact methods fall back to CD when a sub-Gram is numerically singular. Returns CD sweeps used.
 * Allocates nothing.
 */
import { nnlsActiveSet } from './nnls-active-set.js';
import { nnlsCd } from './nnls-cd.js';
import { nnlsOnSupport } from './nnls-support.js';
import { COUNT_SOLVES, COUNT_SUPPORT_HITS, COUNT_SWEEPS, type NnlsWorkspace } from './nnls-workspace.js';

export const NNLS_ACTIVE_SET = 0;
export const NNLS_CD = 1;
/** Coordinate descent from the warm start alone (no support step, no snap): the 'fast' solver's inexact solve. */
export const NNLS_CD_WARM = 2;

export function nnlsSolve(
  G: Float64Array, invDiag: Float64Array, k: number, b: Float64Array, bOff: number,
  x: Float64Array, xOff: number, ws: NnlsWorkspace, maxSweeps: number, tol: number, method: number,
): number {
  const { passive, z, idx, L, counts, scratch, cache } = ws;
  counts[COUNT_SOLVES] = counts[COUNT_SOLVES]! + 1;
  if (method === NNLS_CD_WARM) return nnlsCdWarm(G, invDiag, k, b, bOff, x, xOff, ws, maxSweeps, tol);
  let any = 0;
  for (let a = 0; a < k; a++) {
    const on = x[xOff + a]! > 0 && invDiag[a]! > 0 ? 1 : 0;
    passive[a] = on;
    any |= on;
  }
  if (any === 0) for (let a = 0; a < k; a++) passive[a] = invDiag[a]! > 0 ? 1 : 0;
  const first = nnlsOnSupport(G, k, b, bOff, x, xOff, passive, invDiag, L, z, idx, scratch, cache);
  if (first === 1) { counts[COUNT_SUPPORT_HITS] = counts[COUNT_SUPPORT_HITS]! + 1; return 0; }
  // A feasible start: the support solution clipped at 0 (when it was computed), else the warm start.
  if (first === 0) {
    for (let a = 0; a < k; a++) x[xOff + a] = 0;
    let p = 0;
    for (let a = 0; a < k; a++) {
      if (passive[a] !== 1) continue;
      const v = z[p++]!;
      if (v > 0) x[xOff + a] = v;
    }
  } else {
    clipStart(invDiag, k, x, xOff);
  }
  if (method === NNLS_ACTIVE_SET && nnlsActiveSet(G, invDiag, k, b, bOff, x, xOff, ws) >= 0) return 0;
  const sweeps = cdFrom(G, invDiag, k, b, bOff, x, xOff, ws, maxSweeps, tol);
  let any2 = 0;
  for (let a = 0; a < k; a++) {
    const on = x[xOff + a]! > 0 ? 1 : 0;
    passive[a] = on;
    any2 |= on;
  }
  if (any2 === 1) nnlsOnSupport(G, k, b, bOff, x, xOff, passive, invDiag, L, z, idx, scratch, cache);
  return sweeps;
}

/** invDiag[a] = 1 / G[a,a], or 0 where G[a,a] ≤ 0 (a dead coordinate, held at 0). */
export function invertDiagonal(G: Float64Array, k: number, invDiag: Float64Array): void {
  for (let a = 0; a < k; a++) {
    const g = G[a * k + a]!;
    invDiag[a] = g > 0 ? 1 / g : 0;
  }
}

/** The warm start x made feasible (negative, NaN and dead coordinates set to 0), then ≤ maxSweeps CD sweeps. */
function nnlsCdWarm(
  G: Float64Array, invDiag: Float64Array, k: number, b: Float64Array, bOff: number,
  x: Float64Array, xOff: number, ws: NnlsWorkspace, maxSweeps: number, tol: number,
): number {
  clipStart(invDiag, k, x, xOff);
  return cdFrom(G, invDiag, k, b, bOff, x, xOff, ws, maxSweeps, tol);
}

function clipStart(invDiag: Float64Array, k: number, x: Float64Array, xOff: number): void {
  for (let a = 0; a < k; a++) if (!(x[xOff + a]! > 0) || invDiag[a] === 0) x[xOff + a] = 0;
}

/** r = b − Gx for the feasible start x, then ≤ maxSweeps CD sweeps (counted). Returns the sweeps. */
function cdFrom(
  G: Float64Array, invDiag: Float64Array, k: number, b: Float64Array, bOff: number,
  x: Float64Array, xOff: number, ws: NnlsWorkspace, maxSweeps: number, tol: number,
): number {
  const { r, counts } = ws;
  for (let a = 0; a < k; a++) {
    let s = b[bOff + a]!;
    for (let c = 0; c < k; c++) s -= G[a * k + c]! * x[xOff + c]!;
    r[a] = s;
  }
  const sweeps = nnlsCd(G, invDiag, k, r, 0, x, xOff, maxSweeps, tol);
  counts[COUNT_SWEEPS] = counts[COUNT_SWEEPS]! + sweeps;
  return sweeps;
}
