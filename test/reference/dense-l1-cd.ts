/**
 * Reference (slow, obviously correct): coordinate descent for weighted L1-NMF over all m·n
 * entries of a dense A, with the same update order as sCD — every entry of W row by row (k in
 * order within a row), then every entry of H column by column — and each entry set to the
 * smallest minimiser of its one-dimensional objective, found by brute force: the objective
 *   φ(x) = Σ_entries ω_ij |A_ij − (WH)_ij|,  ω_ij = 1 if A_ij > 0, λ if A_ij = 0,
 * is evaluated directly (every entry of the row/column) at every candidate point (0 and each
 * positive breakpoint) and the smallest candidate within 1e-12 (relative) of the minimum wins.
 * Cost O(k·(m·n²+n·m²)) per iteration: for problems of a few dozen rows and columns only.
 * src/ never imports this file.
 *
 * Storage as in src/: A dense row-major m×n (A[i·n + j]); W row-major m×k; H sample-major n×k.
 */
import type { CscMatrix } from '../../src/source/from-csc.js';

export function denseFromCsc(matrix: CscMatrix): Float64Array {
  const A = new Float64Array(matrix.m * matrix.n);
  for (let j = 0; j < matrix.n; j++) {
    for (let p = matrix.colPtr[j]!; p < matrix.colPtr[j + 1]!; p++) {
      A[matrix.rowIdx[p]! * matrix.n + j] = A[matrix.rowIdx[p]! * matrix.n + j]! + matrix.values[p]!;
    }
  }
  return A;
}

function predict(W: Float64Array, H: Float64Array, k: number, i: number, j: number): number {
  let s = 0;
  for (let l = 0; l < k; l++) s += W[i * k + l]! * H[j * k + l]!;
  return s;
}

/** f = Σ_{A_ij>0} |A_ij − (WH)_ij| + λ·Σ_{A_ij=0} (WH)_ij, entry by entry; `keep` false: the entry is masked (left out). */
export function denseL1Objective(
  A: Float64Array, m: number, n: number, W: Float64Array, H: Float64Array, k: number, lambda: number,
  keep: (i: number, j: number) => boolean = () => true,
): number {
  let f = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      if (!keep(i, j)) continue;
      const a = A[i * n + j]!;
      const e = Math.abs(a - predict(W, H, k, i, j));
      f += a > 0 ? e : lambda * e;
    }
  }
  return f;
}

/**
 * Smallest minimiser over x ≥ 0 of φ(x) = Σ_q ω_q |b_q − g_q x| (g_q ≥ 0), by evaluating φ at
 * 0 and at every positive breakpoint b_q / g_q. As in DESIGN.md §2.2, a term whose breakpoint
 * weight ω_q·g_q is ≤ 1e-14 is ignored (it is constant up to 1e-14·|x|).
 */
export function bruteForce1d(b: readonly number[], g: readonly number[], omega: readonly number[]): number {
  const counts = (q: number): boolean => omega[q]! * g[q]! > 1e-14;
  const phi = (x: number): number => {
    let s = 0;
    for (let q = 0; q < b.length; q++) if (counts(q)) s += omega[q]! * Math.abs(b[q]! - g[q]! * x);
    return s;
  };
  const candidates = [0];
  for (let q = 0; q < b.length; q++) {
    if (counts(q) && b[q]! / g[q]! > 0) candidates.push(b[q]! / g[q]!);
  }
  candidates.sort((u, v) => u - v);
  const values = candidates.map(phi);
  const best = Math.min(...values);
  const tol = 1e-12 * Math.max(best, 1e-300);
  for (let c = 0; c < candidates.length; c++) if (values[c]! <= best + tol) return candidates[c]!;
  return 0;
}

/** One dense CD iteration (W then H) in place; returns the dense objective afterwards. `keep` false: a masked entry (weight 0). */
export function denseL1CdIteration(
  A: Float64Array, m: number, n: number, W: Float64Array, H: Float64Array, k: number, lambda: number,
  keep: (i: number, j: number) => boolean = () => true,
): number {
  const weightOf = (a: number): number => (a > 0 ? 1 : lambda);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < k; l++) {
      const b: number[] = [], g: number[] = [], omega: number[] = [];
      for (let j = 0; j < n; j++) {
        const other = predict(W, H, k, i, j) - W[i * k + l]! * H[j * k + l]!;
        b.push(A[i * n + j]! - other); g.push(H[j * k + l]!); omega.push(keep(i, j) ? weightOf(A[i * n + j]!) : 0);
      }
      W[i * k + l] = bruteForce1d(b, g, omega);
    }
  }
  for (let j = 0; j < n; j++) {
    for (let l = 0; l < k; l++) {
      const b: number[] = [], g: number[] = [], omega: number[] = [];
      for (let i = 0; i < m; i++) {
        const other = predict(W, H, k, i, j) - W[i * k + l]! * H[j * k + l]!;
        b.push(A[i * n + j]! - other); g.push(W[i * k + l]!); omega.push(keep(i, j) ? weightOf(A[i * n + j]!) : 0);
      }
      H[j * k + l] = bruteForce1d(b, g, omega);
    }
  }
  return denseL1Objective(A, m, n, W, H, k, lambda, keep);
}
