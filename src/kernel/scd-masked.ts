/**
 * Masked lines of sparse coordinate descent for weighted L1-NMF (issue #15; docs/architecture.md, Masks and
 * held-out entries). A masked entry (held out, NaN, a held-out zero) must leave both the breakpoints and the
 * aggregated zero breakpoint of scd-update.ts, whose weight is λ·(allSums_l − Σ_line y_·l). The line's stored
 * entries hold only its observed nonzeros, so the masked ones are taken out of the zero breakpoint by lowering
 * allSums for this line alone: ws.allSums_l = base_l − Σ_masked y_·l. Without masked entries that is base_l − 0,
 * the same bytes as the unmasked update. The objective of the line (scdLineObjective) then counts the observed
 * entries only. Allocates nothing.
 */
import type { ScdWorkspace } from './scd-workspace.js';

/** ws.allSums[l] = base[l] − Σ_{q ∈ [q0, q1)} y[idx[q]·k + l] (the sum in q order, from 0). O(k·(q1 − q0)). */
export function maskedLineSums(
  idx: Int32Array, q0: number, q1: number, y: Float64Array, k: number, base: Float64Array, ws: ScdWorkspace,
): void {
  const s = ws.allSums;
  for (let l = 0; l < k; l++) s[l] = 0;
  for (let q = q0; q < q1; q++) {
    const o = idx[q]! * k;
    for (let l = 0; l < k; l++) s[l] = s[l]! + y[o + l]!;
  }
  for (let l = 0; l < k; l++) s[l] = base[l]! - s[l]!;
}

/**
 * The weighted L1 loss of one held-out entry with prediction `pred`: |a − pred| for a stored value a > 0,
 * λ·pred for a zero (the objective's own term for it).
 */
export function l1EntryLoss(a: number, pred: number, lambda: number): number {
  if (a > 0) { const e = a - pred; return e < 0 ? -e : e; }
  return lambda * pred;
}
