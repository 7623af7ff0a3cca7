/**
 * The in-memory problem of a masked weighted L1 fit (issue #15): split chunks (masked-split.ts) put side by side
 * (samples renumbered from 0 in the order given), the observed values as an ordinary L1Problem (its CSC and the
 * transposed index), the masked entries by sample and by feature (both orders ascending: the feature-major copy's
 * order), and the held-out entries with columns renumbered. With `mask: 'zeros'` the zero breakpoint has weight 0
 * (λ = 0): with zeros missing, the objective is Σ_observed |A_ij − (WH)_ij| alone — exactly the unmasked objective
 * with λ = 0, which already ignores zeros.
 */
import type { ResolvedMask } from '../../options.js';
import { ensureScdWorkspace, type ScdWorkspace } from '../../kernel/scd-workspace.js';
import { factorSums } from './iteration.js';
import { addTestLoss, maskedSweep, type MaskedLines } from './masked-lines.js';
import { emptyTestList, pushTest, type L1MaskedChunk, type L1TestList } from './masked-split.js';
import { makeL1Problem, type L1Problem } from './problem.js';

export interface MaskedL1Problem {
  /** The observed positive values, with the λ the masked fit uses (maskedLambda). */
  readonly problem: L1Problem;
  readonly cols: MaskedLines;
  readonly rows: MaskedLines;
  /** Held-out entries, columns indexing the problem's samples. */
  readonly test: L1TestList;
  /** Entries fitted: the train loss's denominator. */
  readonly observedCount: number;
}

/** λ of a masked fit: 0 when zeros are missing (their breakpoint is gone), else the option's. */
export const maskedLambda = (mask: ResolvedMask, lambda: number): number => (mask.zeros ? 0 : lambda);

export function makeMaskedL1Problem(splits: readonly L1MaskedChunk[], m: number, lambda: number): MaskedL1Problem {
  let n = 0, nnz = 0, masked = 0, observedCount = 0;
  for (const s of splits) { n += s.observed.n; nnz += s.observed.colPtr[s.observed.n]!; masked += s.maskPtr[s.observed.n]!; observedCount += s.observedCount; }
  const colPtr = new Int32Array(n + 1), rowIdx = new Int32Array(nnz), values = new Float64Array(nnz);
  const maskPtr = new Int32Array(n + 1), maskIdx = new Int32Array(masked);
  const test = emptyTestList();
  let j0 = 0;
  for (const s of splits) {
    const c = s.observed, base = colPtr[j0]!, mbase = maskPtr[j0]!;
    rowIdx.set(c.rowIdx.subarray(0, c.colPtr[c.n]!), base);
    values.set(c.values.subarray(0, c.colPtr[c.n]!), base);
    maskIdx.set(s.maskRows.subarray(0, s.maskPtr[c.n]!), mbase);
    for (let j = 0; j < c.n; j++) { colPtr[j0 + j + 1] = base + c.colPtr[j + 1]!; maskPtr[j0 + j + 1] = mbase + s.maskPtr[j + 1]!; }
    for (let q = 0; q < s.test.n; q++) pushTest(test, s.test.rows[q]!, j0 + s.test.cols[q]! - c.colStart, s.test.values[q]!, s.test.weights[q]!);
    j0 += c.n;
  }
  const problem = makeL1Problem({ m, n, colPtr, rowIdx, values }, lambda);
  // the masked entries by feature: a counting sort of the by-sample lists (samples ascending per feature)
  const rowMaskPtr = new Int32Array(m + 1), rowMaskIdx = new Int32Array(masked);
  for (let q = 0; q < masked; q++) rowMaskPtr[maskIdx[q]! + 1] = rowMaskPtr[maskIdx[q]! + 1]! + 1;
  for (let i = 0; i < m; i++) rowMaskPtr[i + 1] = rowMaskPtr[i + 1]! + rowMaskPtr[i]!;
  const next = rowMaskPtr.slice(0, m);
  for (let j = 0; j < n; j++) {
    for (let q = maskPtr[j]!; q < maskPtr[j + 1]!; q++) { const i = maskIdx[q]!; rowMaskIdx[next[i]!] = j; next[i] = next[i]! + 1; }
  }
  return {
    problem, test, observedCount,
    cols: { ptr: problem.colPtr, idx: problem.rowIdx, values: problem.values, maskPtr, maskIdx },
    rows: { ptr: problem.rowPtr, idx: problem.colIdx, values: problem.rowValues, maskPtr: rowMaskPtr, maskIdx: rowMaskIdx },
  };
}

/**
 * One masked sCD iteration in memory (W then H, masked-lines.ts), the model/l1/iteration.ts of a masked fit; `base`:
 * a k-vector of scratch, `f`: n column terms. Returns the objective over the observed entries.
 */
export function scdIterationMasked(
  mp: MaskedL1Problem, W: Float64Array, H: Float64Array, k: number, ws: ScdWorkspace, base: Float64Array, f: Float64Array,
): number {
  const { m, n, lambda } = mp.problem;
  ensureScdWorkspace(ws, k, mp.problem.maxLine);
  factorSums(H, n, k, base);
  maskedSweep(mp.rows, 0, m, 0, W, H, k, lambda, ws, base);
  factorSums(W, m, k, base);
  return maskedSweep(mp.cols, 0, n, 0, H, W, k, lambda, ws, base, f);
}

/** The test loss Σ weight·loss / Σ weight of the problem's held-out entries (undefined: none). */
export function maskedTestLoss(mp: MaskedL1Problem, W: Float64Array, H: Float64Array, k: number): number | undefined {
  const acc = { loss: 0, weight: 0 };
  addTestLoss(mp.test, W, H, k, mp.problem.lambda, acc);
  return acc.weight > 0 ? acc.loss / acc.weight : undefined;
}
