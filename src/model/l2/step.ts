/**
 * One chunk of the least-squares H-update (docs/architecture.md, Least squares) and the fold of the chunk into
 * the pass statistics. For every sample j of the chunk: b = Wᵀ a_j − L1_H, solve the NNLS from
 * the warm start (previous model's d ⊙ h_j), store the raw h_j; then, unit by unit in sample order
 * (units.ts), add h_j h_jᵀ to HHᵀ and a_j h_jᵀ to AHᵀ.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { DataError } from '../../errors.js';
import { accumulateOuter } from '../../kernel/accumulate-stats.js';
import { addDiagonal } from '../../kernel/gram.js';
import { invertDiagonal } from '../../kernel/nnls-solve.js';
import { clearFactorCache } from '../../kernel/nnls-support.js';
import type { ResolvedOptions } from '../../options.js';
import { extrapolateW } from './extrapolate.js';
import { solveColumns } from './phases.js';
import { ensureHCapacity, type L2State } from './state.js';
import { openUnitRows } from '../../kernel/unit-rows.js';
import { forEachUnit, openUnit, resetUnits } from './units.js';

/** Start a pass: W extrapolated (solver 'fast'), Gram of the current W, statistics zeroed. */
export function beginPassL2(state: L2State, options: ResolvedOptions): void {
  const { W, m, k, G } = state;
  if (state.accel !== undefined && extrapolateW(state, state.accel)) state.gramFresh = false;
  if (!state.gramFresh) state.kernels.gram(W, m, G); // else the W-update left WᵀW of this W in G
  state.gramFresh = false;
  addDiagonal(G, k, options.l2H);
  invertDiagonal(G, k, state.invDiag);
  clearFactorCache(state.ws.cache);
  state.B.fill(0);
  state.S.fill(0);
  state.hSum.fill(0);
  state.normA2 = 0;
  resetUnits(state.units);
  state.passNnz = 0;
  state.passSamples = 0;
}

export function stepL2(state: L2State, chunk: CscChunk, options: ResolvedOptions, sourceName: string): void {
  if (chunk.m !== state.m) {
    throw new DataError('SHAPE_MISMATCH', `chunk has ${chunk.m} features but the model has ${state.m}`,
      { source: sourceName, batch: chunk.position });
  }
  ensureHCapacity(state, chunk.colStart + chunk.n);
  const { colPtr } = chunk;
  const warm = state.iteration > 0 && state.warmStart;
  // Every h_j first, then the statistics: in two sweeps W (read by the H solves) and AHᵀ (written by
  // the statistics), each m×k, do not evict each other from the cache — faster than one fused sweep
  // for large m, with the same operations per entry (and the same as the threads' phases).
  if (state.wasmPass !== undefined) {
    state.wasmPass.step(state, chunk, options, warm);
  } else {
    stepPhases(state, chunk, options, warm);
  }
  state.passNnz += colPtr[chunk.n]!;
  state.passSamples = Math.max(state.passSamples, chunk.colStart + chunk.n);
}

function stepPhases(state: L2State, chunk: CscChunk, options: ResolvedOptions, warm: boolean): void {
  const { k, W, G, invDiag, warmScale, ws, b, H } = state;
  const { rhs, stats } = state.kernels;
  const { colPtr, rowIdx, values } = chunk;
  const nnls = { maxSweeps: options.nnlsMaxSweeps, tol: options.nnlsTol, method: options.nnlsMethod };
  solveColumns(W, G, invDiag, warmScale, warm, k, colPtr, rowIdx, values, chunk.colStart, 0, chunk.n, H, ws, b, rhs, options.l1H, nnls);
  // The statistics unit by unit (units.ts): each from zero in sample order, added to the totals in unit order.
  forEachUnit(chunk.colStart, chunk.n, (unit, j0, j1) => {
    const sums = openUnit(state, unit);
    openUnitRows(rowIdx, colPtr[j0]!, colPtr[j1]!, unit, k, state.B, sums.Bu, sums.last, 0, state.m);
    let normA2 = sums.normA2;
    for (let j = j0; j < j1; j++) {
      const off = (chunk.colStart + j) * k;
      accumulateOuter(H, off, k, sums.S, sums.hSum);
      normA2 += stats(H, off, rowIdx, values, colPtr[j]!, colPtr[j + 1]!, sums.Bu);
    }
    sums.normA2 = normA2;
  });
}
