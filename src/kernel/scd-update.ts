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
 * reaches half the total, 0 again. The positive breakpoints are split around the old value while
 * they are formed (a free first partition), and only the side holding the answer is selected in.
 *
 * Storage: the line's nonzeros are idx/vals[start, end) (CSC column or CSR row of A). x (the
 * factor being updated) and y (the other one) both hold k contiguous values per index: W is
 * row-major m×k, H sample-major n×k, so an H-update reads y = W at idx·k and a W-update reads
 * y = H at idx·k. The rebuild gathers the nonzero y along the line into ws.yl / ws.pos (per
 * component, stride len = end − start; zero entries of y change neither a breakpoint weight nor
 * the residual, and on sparse factors they are most of them) and the residual
 * r_p = a_p − Σ_l y_{p,l} x_l into ws.r[p − start].
 *
 * Cost: O(k·|K|) to rebuild the residual, the gathered y and the line sums, then per entry O(1)
 * when the zeroing rule fires, else O(|K_l|) expected (one pass + selection on one side), plus
 * O(|K_l|) when the value changes, K_l ⊆ K the positions where y_·l ≠ 0.
 *
 * Allocates nothing.
 *
 * Reference: Seraghiti, Dubrulle, Vandaele, Gillis, "Nonnegative Matrix Factorization in the
 * Component-Wise L1 Norm for Sparse Data", arXiv 2603.29715 (2026), sCD; docs/architecture.md, Weighted L1.
 * Tested against test/reference/dense-l1-cd.ts (brute force over all m·n entries).
 */
import { WEIGHT_FLOOR, weightedSelect } from './weighted-median.js';
import type { ScdWorkspace } from './scd-workspace.js';

/**
 * ws.r = a − y·x on the line; ws.yl / ws.pos / ws.count = the nonzero y_·l gathered per component;
 * ws.lineSums[l] = Σ_K y_{p,l}. O(k·|K|).
 */
export function scdRebuildLine(
  idx: Int32Array, vals: Float64Array, start: number, end: number,
  x: Float64Array, xOff: number, y: Float64Array, k: number, ws: ScdWorkspace,
): void {
  const r = ws.r, yl = ws.yl, pos = ws.pos, count = ws.count, sums = ws.lineSums, len = end - start;
  for (let l = 0; l < k; l++) { sums[l] = 0; count[l] = 0; }
  for (let p = start; p < end; p++) {
    const base = idx[p]! * k, q = p - start;
    let pred = 0;
    for (let l = 0; l < k; l++) {
      const yv = y[base + l]!;
      pred += yv * x[xOff + l]!;
      sums[l] = sums[l]! + yv;
      if (yv > 0) {
        const u = l * len + count[l]!;
        yl[u] = yv; pos[u] = q; count[l] = count[l]! + 1;
      }
    }
    r[q] = vals[p]! - pred;
  }
}

/**
 * scdRebuildLine specialised for one rank: the k-loops unrolled, x, the k line sums and the k
 * gather cursors in locals, the gather branch-free (written always, the cursor moves by 0/1)
 * (docs/architecture.md, Kernels; ~1.3–1.5× on the whole iteration here). Same floating-point operations in the
 * same order as scdRebuildLine, so the results are bit-identical. Generated once per k and cached.
 */
type RebuildKernel = (idx: Int32Array, vals: Float64Array, start: number, end: number,
  x: Float64Array, xOff: number, y: Float64Array, r: Float64Array, yl: Float64Array, pos: Int32Array,
  count: Int32Array, sums: Float64Array) => void;

const MAX_UNROLLED = 32;
const rebuildKernels: Array<RebuildKernel | undefined> = [];

function rebuildKernel(k: number): RebuildKernel {
  let kernel = rebuildKernels[k];
  if (kernel === undefined) {
    const each = (f: (a: number) => string, sep: string): string => Array.from({ length: k }, (_, a) => f(a)).join(sep);
    const body = `
      const len = end - start;
      ${each((a) => `const x${a} = x[xOff + ${a}]; let s${a} = 0; let c${a} = ${a} * len;`, '\n')}
      for (let p = start; p < end; p++) {
        const o = idx[p] * ${k}, q = p - start;
        ${each((a) => `const y${a} = y[o + ${a}]; s${a} += y${a}; yl[c${a}] = y${a}; pos[c${a}] = q; c${a} += +(y${a} > 0);`, '\n')}
        r[q] = vals[p] - (${each((a) => `y${a} * x${a}`, ' + ')});
      }
      ${each((a) => `sums[${a}] = s${a}; count[${a}] = c${a} - ${a} * len;`, '\n')}`;
    // The Function constructor is the code generator here: the body above is a fixed template.
    kernel = new Function('idx', 'vals', 'start', 'end', 'x', 'xOff', 'y', 'r', 'yl', 'pos', 'count', 'sums', body) as RebuildKernel;
    rebuildKernels[k] = kernel;
  }
  return kernel;
}

/**
 * The exact minimiser of entry l of a line of `len` nonzeros, given the residual ws.r (which
 * includes xOld·y_·l), the gathered ws.yl and the sums ws.lineSums / ws.allSums.
 * Writes only ws.bt / ws.bw.
 */
export function scdSolveEntry(len: number, l: number, xOld: number, lambda: number, ws: ScdWorkspace): number {
  const sumK = ws.lineSums[l]!;
  let c = lambda * (ws.allSums[l]! - sumK);
  if (!(c > 0)) c = 0;
  if (c >= sumK) return 0; // zeroing rule: the zeros' weight alone is half the total
  const r = ws.r, yl = ws.yl, pos = ws.pos, bt = ws.bt, bw = ws.bw, off = l * len, cnt = ws.count[l]!;
  let left = c > WEIGHT_FLOOR ? c : 0; // weight at or below 0
  let below = 0, above = 0; // weight in (0, xOld) and in [xOld, ∞)
  let nb = 0, na = len; // (0, xOld) fills bt[0, nb), [xOld, ∞) fills bt[na, len)
  for (let u = 0; u < cnt; u++) {
    // branch-free: the pair is written to both free slots and the counts move by 0/1 flags (the
    // three-way test would mispredict on every other breakpoint)
    const yq = yl[off + u]!;
    const t = r[pos[off + u]!]! / yq + xOld;
    const live = +(yq > WEIGHT_FLOOR);
    const ps = live & +(t > 0);
    const up = ps & +(t >= xOld);
    const front = ps - up;
    bt[nb] = t; bw[nb] = yq;
    bt[na - 1] = t; bw[na - 1] = yq;
    nb += front; na -= up;
    left += yq * (live - ps);
    below += yq * front;
    above += yq * up;
  }
  const half = 0.5 * (left + below + above);
  if (left >= half) return 0;
  if (left + below >= half) return weightedSelect(bt, bw, 0, nb, half - left);
  return weightedSelect(bt, bw, na, len, half - left - below);
}

/** ws.r −= y_·l · delta on the line (after entry l moved by delta); only where y_·l ≠ 0. */
export function scdShiftResidual(len: number, l: number, delta: number, ws: ScdWorkspace): void {
  const r = ws.r, yl = ws.yl, pos = ws.pos, off = l * len, cnt = ws.count[l]!;
  for (let u = 0; u < cnt; u++) {
    const q = pos[off + u]!;
    r[q] = r[q]! - yl[off + u]! * delta;
  }
}

/** Update the k entries x[xOff .. xOff+k) in order, each to its exact minimiser. */
export function scdUpdateLine(
  idx: Int32Array, vals: Float64Array, start: number, end: number,
  x: Float64Array, xOff: number, y: Float64Array, k: number, lambda: number, ws: ScdWorkspace,
): void {
  if (k <= MAX_UNROLLED) rebuildKernel(k)(idx, vals, start, end, x, xOff, y, ws.r, ws.yl, ws.pos, ws.count, ws.lineSums);
  else scdRebuildLine(idx, vals, start, end, x, xOff, y, k, ws);
  const len = end - start;
  for (let l = 0; l < k; l++) {
    const xOld = x[xOff + l]!;
    const xNew = scdSolveEntry(len, l, xOld, lambda, ws);
    if (xNew !== xOld) {
      x[xOff + l] = xNew;
      scdShiftResidual(len, l, xNew - xOld, ws);
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
