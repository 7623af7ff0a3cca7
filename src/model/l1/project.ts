/**
 * l1 projection: codes h ≥ 0 of new samples with W fixed, minimising the weighted L1 objective
 *   Σ_{a_i>0} |a_i − (W h)_i| + λ·Σ_{a_i=0} (W h)_i
 * by sparse coordinate descent on h (the sCD H-update, scd-update.ts) until a sweep leaves h
 * unchanged or maxSweeps. The start is the least-squares NNLS solution, as in the fit (a cold start
 * at 0 can stall: the zeroing rule holds at h = 0 on very sparse columns).
 * W is m×k row-major (the model's W diag(d)); out is rank × n row-major. Only columns [j0, j1) are
 * solved (default all): each column is independent, so any split over threads gives the same bytes.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { gram } from '../../kernel/gram.js';
import { invertDiagonal, nnlsSolve } from '../../kernel/nnls-solve.js';
import { clearFactorCache } from '../../kernel/nnls-support.js';
import { makeNnlsWorkspace } from '../../kernel/nnls-workspace.js';
import { rankKernels } from '../../kernel/rank-kernels.js';
import { scdUpdateLine } from '../../kernel/scd-update.js';
import { ensureScdWorkspace, makeScdWorkspace } from '../../kernel/scd-workspace.js';

export function projectL1Columns(
  W: Float64Array, m: number, k: number, lambda: number, maxSweeps: number, chunk: CscChunk, out: Float64Array,
  j0 = 0, j1 = chunk.n,
): Float64Array {
  const n = chunk.n;
  const { colPtr, rowIdx, values } = chunk;
  const G = new Float64Array(k * k);
  gram(W, m, k, G);
  const invDiag = new Float64Array(k);
  invertDiagonal(G, k, invDiag);
  const nnls = makeNnlsWorkspace(k);
  clearFactorCache(nnls.cache);
  const { rhs } = rankKernels(k);
  const b = new Float64Array(k);
  const h = new Float64Array(k);
  const before = new Float64Array(k);
  let longest = 1;
  for (let j = j0; j < j1; j++) longest = Math.max(longest, colPtr[j + 1]! - colPtr[j]!);
  const ws = makeScdWorkspace(k, longest);
  ensureScdWorkspace(ws, k, longest);
  ws.allSums.fill(0);
  for (let i = 0; i < m; i++) for (let a = 0; a < k; a++) ws.allSums[a] = ws.allSums[a]! + W[i * k + a]!;
  for (let j = j0; j < j1; j++) {
    const start = colPtr[j]!, end = colPtr[j + 1]!;
    rhs(W, rowIdx, values, start, end, 0, b, 0);
    h.fill(0);
    nnlsSolve(G, invDiag, k, b, 0, h, 0, nnls, 100, 1e-8, 0);
    for (let sweep = 0; sweep < maxSweeps; sweep++) {
      before.set(h);
      scdUpdateLine(rowIdx, values, start, end, h, 0, W, k, lambda, ws);
      let same = true;
      for (let a = 0; a < k; a++) if (h[a] !== before[a]) { same = false; break; }
      if (same) break;
    }
    for (let a = 0; a < k; a++) out[a * n + j] = h[a]!;
  }
  return out;
}
