// Reference least-squares NMF (DESIGN.md §2.1) on a dense matrix, written for clarity, not speed:
// dense products, slow exact NNLS, dense loss. src/ never imports it.
import { slowNnls } from './brute-nnls.js';

export interface DenseAlsResult {
  losses: number[];
  W: Float64Array; // m×k row-major, unit column sums
  d: Float64Array;
  H: Float64Array; // k×n row-major, unit row sums
}

/** A: m×n column-major dense. W0: m×k row-major. l1 / l2 are [W, H]. */
export function denseAls(
  A: Float64Array, m: number, n: number, W0: Float64Array, k: number, iterations: number,
  l1: [number, number] = [0, 0], l2: [number, number] = [0, 0],
): DenseAlsResult {
  const W = Float64Array.from(W0);
  normaliseColumns(W, m, k);
  const H = new Float64Array(k * n);
  const d = new Float64Array(k);
  const losses: number[] = [];
  for (let it = 0; it < iterations; it++) {
    // H-update
    const G = crossprod(W, m, k, l2[1]);
    for (let j = 0; j < n; j++) {
      const b = new Float64Array(k);
      for (let a = 0; a < k; a++) {
        let s = 0;
        for (let i = 0; i < m; i++) s += W[i * k + a]! * A[j * m + i]!;
        b[a] = s - l1[1];
      }
      const x = slowNnls(G, b, k);
      for (let a = 0; a < k; a++) H[a * n + j] = x[a]!;
    }
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += H[a * n + j]!;
      for (let j = 0; j < n; j++) H[a * n + j] = s > 0 ? H[a * n + j]! / s : 0;
    }
    // W-update
    const Ht = new Float64Array(n * k);
    for (let a = 0; a < k; a++) for (let j = 0; j < n; j++) Ht[j * k + a] = H[a * n + j]!;
    const Gw = crossprod(Ht, n, k, l2[0]);
    for (let i = 0; i < m; i++) {
      const b = new Float64Array(k);
      for (let a = 0; a < k; a++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += H[a * n + j]! * A[j * m + i]!;
        b[a] = s - l1[0];
      }
      const x = slowNnls(Gw, b, k);
      W.set(x, i * k);
    }
    d.set(normaliseColumns(W, m, k));
    losses.push(denseRelativeLoss(A, m, n, W, d, H, k));
  }
  return { losses, W, d, H };
}

export function denseRelativeLoss(A: Float64Array, m: number, n: number, W: Float64Array, d: Float64Array, H: Float64Array, k: number): number {
  let num = 0, den = 0;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) {
      let p = 0;
      for (let a = 0; a < k; a++) p += W[i * k + a]! * d[a]! * H[a * n + j]!;
      const a = A[j * m + i]!;
      num += (a - p) ** 2;
      den += a * a;
    }
  }
  return num / den;
}

function crossprod(X: Float64Array, rows: number, k: number, ridge: number): Float64Array {
  const G = new Float64Array(k * k);
  for (let r = 0; r < rows; r++) for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) G[a * k + c]! += X[r * k + a]! * X[r * k + c]!;
  for (let a = 0; a < k; a++) G[a * k + a]! += ridge;
  return G;
}

function normaliseColumns(X: Float64Array, rows: number, k: number): Float64Array {
  const d = new Float64Array(k);
  for (let r = 0; r < rows; r++) for (let a = 0; a < k; a++) d[a]! += X[r * k + a]!;
  for (let r = 0; r < rows; r++) for (let a = 0; a < k; a++) X[r * k + a] = d[a]! > 0 ? X[r * k + a]! / d[a]! : 0;
  return d;
}

export function cscToDense(m: number, n: number, colPtr: Int32Array, rowIdx: Int32Array, values: Float64Array): Float64Array {
  const A = new Float64Array(m * n);
  for (let j = 0; j < n; j++) for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) A[j * m + rowIdx[p]!] = values[p]!;
  return A;
}
