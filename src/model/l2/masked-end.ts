/**
 * End of a masked least-squares pass (issue #15): every row of W from its own Gram over its observed samples,
 *   zeros missing: G_i = R_i;  zeros are data: G_i = HHᵀ − R_i  (R_i: masked-pass.ts),
 * normalised as the ordinary W-update (end-pass.ts: H's rows to unit sums, G_i·inv_a·inv_c, b_i = (AHᵀ)_i·inv − L1_W,
 * L2_W on the diagonal), W's columns scaled (sums → d). Then the losses of the new model A ≈ W diag(d) H:
 *   train: Σ_observed (a_ij − ŵ_i·h_j)² = ‖A_obs‖² + Σ_i (ŵ_iᵀ G_i ŵ_i − 2 ŵ_i·b_i) from the statistics (O(m·k²));
 *   test:  Σ_heldout weight·(a_ij − (W d H)_ij)² over the listed entries (O(held-out · k)), in sample order;
 * trainLoss and testLoss are those sums divided by the observed count and by the held-out weights' sum.
 */
import { addDiagonal } from '../../kernel/gram.js';
import { invertDiagonal, NNLS_CD_WARM, nnlsSolve } from '../../kernel/nnls-solve.js';
import { clearFactorCache } from '../../kernel/nnls-support.js';
import { pearsonTol } from '../../kernel/pearson.js';
import { scaleColumns } from '../../kernel/scale.js';
import { foldUnitRows } from '../../kernel/unit-rows.js';
import type { ResolvedOptions } from '../../options.js';
import type { MaskedL2 } from './masked-pass.js';
import { foldUnits } from './units.js';

export interface MaskedPassResult {
  readonly iteration: number;
  /** Σ_observed (a − â)² / ‖A_observed‖². */
  readonly relativeLoss: number;
  readonly trainLoss: number;
  /** Undefined without a test set (or with an empty one). */
  readonly testLoss: number | undefined;
  readonly tol: number;
}

export function endMaskedPass(ms: MaskedL2, options: ResolvedOptions): MaskedPassResult {
  const st = ms.base, { m, k, W, Wprev, d, hSum, inv, warmScale } = st;
  if (st.iteration === 0) st.samples = st.passSamples;
  const diag = options.diag;
  if (ms.wasm !== undefined) ms.wasm.fold(ms);
  else {
    foldUnits(st, m, k);
    foldUnitRows(k * k, ms.R, ms.Ru, ms.lastR, 0, m);
  }
  for (let a = 0; a < k; a++) inv[a] = !diag ? 1 : hSum[a]! > 0 ? 1 / hSum[a]! : 0;
  Wprev.set(W);
  const rowTerms = ms.wasm !== undefined ? ms.wasm.solveRows(ms, options) : solveRows(ms, options);
  const train = Math.max(0, st.normA2 + rowTerms);
  if (diag) scaleColumns(W, m, k, d, ms.scratch);
  else d.fill(1);
  for (let a = 0; a < k; a++) warmScale[a] = !diag ? 1 : hSum[a]! > 0 ? d[a]! / hSum[a]! : 0;
  st.gramFresh = false;
  st.iteration += 1;
  return {
    iteration: st.iteration, relativeLoss: st.normA2 > 0 ? train / st.normA2 : 0, trainLoss: ms.observed > 0 ? train / ms.observed : 0,
    testLoss: testLossOf(ms), tol: pearsonTol(W, Wprev, m * k),
  };
}

/** Σ weight·(a − (W d H)_ij)² / Σ weight over the held-out entries of the pass (H of this pass, W and d just solved). */
export function testLossOf(ms: MaskedL2): number | undefined {
  const st = ms.base, { k, W, d, H, inv } = st, t = ms.test;
  let sse = 0, weights = 0;
  for (let q = 0; q < t.n; q++) {
    const wo = t.rows[q]! * k, ho = t.cols[q]! * k;
    let pred = 0;
    for (let a = 0; a < k; a++) pred += W[wo + a]! * d[a]! * H[ho + a]! * inv[a]!;
    const e = t.values[q]! - pred, w = t.weights[q]!;
    sse += w * e * e;
    weights += w;
  }
  return weights > 0 ? sse / weights : undefined;
}

/** Every row of W from its own Gram (the TypeScript path; wasm/masked.ts maskedRows does the same operations). Returns Σ_i (ŵᵀG_iŵ − 2ŵ·bn_i). */
function solveRows(ms: MaskedL2, options: ResolvedOptions): number {
  const st = ms.base, { m, k, W, B, S, hSum, inv, Gw, invDiagW, ws, b } = st;
  const kk = k * k, R = ms.R, diag = options.diag;
  const bn = ms.scratch;
  let rowTerms = 0;
  for (let i = 0; i < m; i++) {
    const o = i * k, r = i * kk;
    for (let a = 0; a < k; a++) {
      for (let c = a; c < k; c++) {
        const g = (ms.mask.zeros ? R[r + a * k + c]! : S[a * k + c]! - R[r + a * k + c]!) * inv[a]! * inv[c]!;
        Gw[a * k + c] = g; Gw[c * k + a] = g;
      }
      bn[a] = B[o + a]! * inv[a]!;
      b[a] = bn[a]! - options.l1W;
      if (diag) W[o + a] = W[o + a]! * hSum[a]!; // warm start in the normalised problem's scale
    }
    addDiagonal(Gw, k, options.l2W);
    invertDiagonal(Gw, k, invDiagW);
    if (options.nnlsMethod !== NNLS_CD_WARM) clearFactorCache(ws.cache); // the warm CD keeps no factors
    nnlsSolve(Gw, invDiagW, k, b, 0, W, o, ws, options.nnlsMaxSweeps, options.nnlsTol, options.nnlsMethod);
    let quad = 0, cross = 0;
    for (let a = 0; a < k; a++) {
      const wa = W[o + a]!;
      if (wa === 0) continue;
      cross += wa * bn[a]!;
      let row = -options.l2W * wa;
      for (let c = 0; c < k; c++) row += Gw[a * k + c]! * W[o + c]!;
      quad += wa * row;
    }
    rowTerms += quad - 2 * cross;
  }
  return rowTerms;
}
