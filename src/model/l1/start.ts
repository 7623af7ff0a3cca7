/**
 * The paper's start for weighted L1-NMF (arXiv 2603.29715), without its least-squares warm-up
 * iterations (the caller runs those after this):
 *   1. W (m×k) and H (k×n) uniform on [0, 1) from the seeded generator — W first, row-major,
 *      then H, sample-major;
 *   2. W ← α·W with the best scalar α = ⟨AHᵀ, W⟩ / ⟨HHᵀ, WᵀW⟩ = argmin_α ‖A − αWH‖_F,
 *      computed sparsely: O(k·nnz + (m + n)·k²);
 *   3. each pair balanced, W_l ← s·W_l and H_l ← H_l / s with s = √(‖H_l‖₁ / ‖W_l‖₁), so that
 *      ‖W_l‖₁ = ‖H_l‖₁ and W·H is unchanged.
 * Storage as in sCD: W row-major m×k, H sample-major n×k (k codes of sample j at H[j·k]).
 */
import type { Random } from '../../kernel/random.js';
import type { CscMatrix } from '../../chunk/csc-matrix.js';

export interface L1Start {
  readonly W: Float64Array;
  readonly H: Float64Array;
  /** The scale applied to the random W. */
  readonly alpha: number;
}

export function l1Start(matrix: CscMatrix, k: number, random: Random): L1Start {
  const { m, n } = matrix;
  const W = new Float64Array(m * k);
  const H = new Float64Array(n * k);
  for (let q = 0; q < W.length; q++) W[q] = random.uniform();
  for (let q = 0; q < H.length; q++) H[q] = random.uniform();
  const num = alphaNumerator(matrix.colPtr, matrix.rowIdx, matrix.values, n, 0, W, H, k, 0);
  return finishStart(W, H, m, n, k, num);
}

/**
 * ⟨AHᵀ, W⟩ = Σ_nonzeros A_ij · (W_i · H_j), continued from `sum` over the columns [0, n) of a chunk
 * whose first sample is colStart: summed column by column, so a chunked pass adds in the same order.
 */
export function alphaNumerator(
  colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array, n: number, colStart: number,
  W: Float64Array, H: Float64Array, k: number, sum: number,
): number {
  let num = sum;
  for (let j = 0; j < n; j++) {
    for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) {
      const wi = rowIdx[p]! * k, hj = (colStart + j) * k;
      let dot = 0;
      for (let l = 0; l < k; l++) dot += W[wi + l]! * H[hj + l]!;
      num += values[p]! * dot;
    }
  }
  return num;
}

/** Scale W by α = num / ⟨HHᵀ, WᵀW⟩ and balance each pair (steps 2–3 above), in place. */
export function finishStart(W: Float64Array, H: Float64Array, m: number, n: number, k: number, num: number): L1Start {
  // ⟨HHᵀ, WᵀW⟩ = Σ_{l,l'} (HHᵀ)_{ll'} (WᵀW)_{ll'}
  const gW = gram(W, m, k), gH = gram(H, n, k);  let den = 0;
  for (let q = 0; q < k * k; q++) den += gW[q]! * gH[q]!;
  const alpha = den > 0 ? num / den : 0;
  for (let q = 0; q < W.length; q++) W[q] = W[q]! * alpha;

  const normW = columnAbsSums(W, m, k), normH = columnAbsSums(H, n, k);
  for (let l = 0; l < k; l++) {
    const a = normW[l]!, b = normH[l]!;
    if (!(a > 0 && b > 0)) continue; // a zero factor stays as it is: the product is 0 either way
    const s = Math.sqrt(b / a), inv = 1 / s;
    for (let i = 0; i < m; i++) W[i * k + l] = W[i * k + l]! * s;
    for (let j = 0; j < n; j++) H[j * k + l] = H[j * k + l]! * inv;
  }
  return { W, H, alpha };
}

/** FᵀF (k×k) of a rows×k row-major factor. */
function gram(F: Float64Array, rows: number, k: number): Float64Array {
  const G = new Float64Array(k * k);
  for (let r = 0; r < rows; r++) {
    const base = r * k;
    for (let a = 0; a < k; a++) {
      const fa = F[base + a]!;
      for (let b = 0; b < k; b++) G[a * k + b] = G[a * k + b]! + fa * F[base + b]!;
    }
  }
  return G;
}

function columnAbsSums(F: Float64Array, rows: number, k: number): Float64Array {
  const s = new Float64Array(k);
  for (let r = 0; r < rows; r++) for (let l = 0; l < k; l++) s[l] = s[l]! + Math.abs(F[r * k + l]!);
  return s;
}
