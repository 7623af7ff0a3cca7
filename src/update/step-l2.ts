/**
 * One chunk of the least-squares H-update (DESIGN.md §2.1 step 1) and the fold of the chunk into
 * the pass statistics. For every sample j of the chunk: b = Wᵀ a_j − L1_H, solve the NNLS from
 * the warm start (previous model's d ⊙ h_j), store the raw h_j, add h_j to HHᵀ, a_j h_jᵀ to AHᵀ.
 */
import type { CscChunk } from '../chunk/csc-chunk.js';
import { DataError } from '../errors.js';
import { accumulateOuter } from '../kernel/accumulate-stats.js';
import { addDiagonal } from '../kernel/gram.js';
import { invertDiagonal, nnlsSolve } from '../kernel/nnls-solve.js';
import { clearFactorCache } from '../kernel/nnls-support.js';
import type { ResolvedOptions } from '../options.js';
import { ensureHCapacity, type L2State } from './l2-state.js';

/** Start a pass: Gram of the current W, statistics zeroed. */
export function beginPassL2(state: L2State, options: ResolvedOptions): void {
  const { W, m, k, G } = state;
  if (!state.gramFresh) state.kernels.gram(W, m, G); // else the W-update left WᵀW of this W in G
  state.gramFresh = false;
  addDiagonal(G, k, options.l2H);
  invertDiagonal(G, k, state.invDiag);
  clearFactorCache(state.ws.cache);
  state.B.fill(0);
  state.S.fill(0);
  state.hSum.fill(0);
  state.normA2 = 0;
  state.passNnz = 0;
  state.passSamples = 0;
}

export function stepL2(state: L2State, chunk: CscChunk, options: ResolvedOptions, sourceName: string): void {
  const { m, k, W, G, invDiag, B, S, hSum, warmScale, ws, b } = state;
  const { rhs, stats } = state.kernels;
  if (chunk.m !== m) {
    throw new DataError('SHAPE_MISMATCH', `chunk has ${chunk.m} features but the model has ${m}`,
      { source: sourceName, batch: chunk.position });
  }
  ensureHCapacity(state, chunk.colStart + chunk.n);
  const H = state.H;
  const { colPtr, rowIdx, values } = chunk;
  const warm = state.iteration > 0 && state.warmStart;
  let normA2 = 0;
  for (let j = 0; j < chunk.n; j++) {
    const start = colPtr[j]!;
    const end = colPtr[j + 1]!;
    const off = (chunk.colStart + j) * k;
    rhs(W, rowIdx, values, start, end, options.l1H, b, 0);
    for (let a = 0; a < k; a++) H[off + a] = warm ? H[off + a]! * warmScale[a]! : 0;
    nnlsSolve(G, invDiag, k, b, 0, H, off, ws, options.nnlsMaxSweeps, options.nnlsTol, options.nnlsMethod);
    accumulateOuter(H, off, k, S, hSum);
    normA2 += stats(H, off, rowIdx, values, start, end, B);
  }
  state.normA2 += normA2;
  state.passNnz += colPtr[chunk.n]!;
  state.passSamples = Math.max(state.passSamples, chunk.colStart + chunk.n);
}
