/**
 * End of a least-squares pass (docs/architecture.md, Least squares): scale H's rows to unit sums (their sums
 * dH), solve every row of W from the statistics G_W = HHᵀ + L2_W·I and b_i = (AHᵀ)_i − L1_W,
 * scale W's columns to unit sums (the sums become d), then the loss by the Gram identity and the
 * convergence measure 1 − Pearson(W_t, W_{t−1}).
 */
import { addDiagonal } from '../../kernel/gram.js';
import { crossTerm, lossOfTerms, reconTerm } from '../../kernel/gram-loss.js';
import { invertDiagonal } from '../../kernel/nnls-solve.js';
import { solveRows } from './phases.js';
import { clearFactorCache } from '../../kernel/nnls-support.js';
import { pearsonTol } from '../../kernel/pearson.js';
import type { ResolvedOptions } from '../../options.js';
import type { L2State } from './state.js';
import { foldUnits } from './units.js';

export interface PassResult {
  readonly iteration: number;
  /** ‖A − W diag(d) H‖² / ‖A‖² with this iteration's W, d and H. */
  readonly relativeLoss: number;
  /** 1 − Pearson(W_t, W_{t−1}). */
  readonly tol: number;
  readonly samples: number;
  readonly nnz: number;
}

/**
 * The last O(m·k) work of the W-update on other threads: runs `here` (the Gram matrix of the new W)
 * on this thread while others compute 1 − Pearson(W, Wprev) and the loss's cross term Σ W·d·Bn
 * (pearsonTol, crossTerm: the same functions, so the same bits).
 */
export type FinishInParallel = (here: () => void) => { readonly tol: number; readonly cross: number };

export function endPassL2(
  state: L2State, options: ResolvedOptions, solveRowsInParallel?: () => void, finishInParallel?: FinishInParallel,
): PassResult {
  if (state.iteration === 0) state.samples = state.passSamples;
  const { relativeLoss, tol } = updateWFromStats(state, options, state.S, state.B, solveRowsInParallel, finishInParallel);
  state.iteration += 1;
  return { iteration: state.iteration, relativeLoss, tol, samples: state.passSamples, nnz: state.passNnz };
}

/**
 * Statistics of the row-normalised H: inv_a = 1 / dH_a (state.inv) and Sn = S_ac / (dH_a dH_c), full
 * k×k from S's upper triangle. Without the diagonal (diag: false) H is not normalised (inv = 1) and W
 * not scaled: the factors carry the scale.
 */
export function normaliseGram(state: L2State, diag: boolean, Sn: Float64Array): void {
  const { k, S, hSum, inv } = state;
  for (let a = 0; a < k; a++) inv[a] = !diag ? 1 : hSum[a]! > 0 ? 1 / hSum[a]! : 0;
  for (let a = 0; a < k; a++) {
    for (let c = a; c < k; c++) {
      const v = S[a * k + c]! * inv[a]! * inv[c]!;
      Sn[a * k + c] = v;
      Sn[c * k + a] = v;
    }
  }
}

/**
 * The W-update from the raw statistics state.S (upper triangle), state.B, state.hSum, state.normA2:
 * normalised statistics go to Sn / Bn (which may be state.S / state.B themselves, overwriting them),
 * then every row of W is solved, W's columns scaled (sums → d), and the loss and tol computed.
 */
export function updateWFromStats(
  state: L2State, options: ResolvedOptions, Sn: Float64Array, Bn: Float64Array, solveRowsInParallel?: () => void,
  finishInParallel?: FinishInParallel,
): { relativeLoss: number; tol: number } {
  const { m, k, W, Wprev, d, B, hSum, Gw, inv, ws, b, warmScale } = state;
  const invDiag = state.invDiagW;
  const diag = options.diag;
  state.wasmPass?.foldUnits(state);
  state.wasmPass?.flush(state);
  foldUnits(state, m, k);
  normaliseGram(state, diag, Sn);
  Gw.set(Sn);
  addDiagonal(Gw, k, options.l2W);
  invertDiagonal(Gw, k, invDiag);
  clearFactorCache(ws.cache);
  // Wprev: the last solved W (already there when the pass started from an extrapolated W).
  if (state.accel?.held === true) state.accel.held = false;
  else Wprev.set(W);
  // W-update, warm-started from the previous W in the new problem's scale (w_i ⊙ dH).
  if (solveRowsInParallel !== undefined) {
    solveRowsInParallel(); // the same solveRows on row ranges, in worker threads
  } else if (state.wasmPass !== undefined) {
    state.wasmPass.solveRows(state, options, Bn, diag ? hSum : ones(k));
  } else {
    const nnls = { maxSweeps: options.nnlsMaxSweeps, tol: options.nnlsTol, method: options.nnlsMethod };
    solveRows(W, B, Bn, inv, diag ? hSum : ones(k), Gw, invDiag, k, options.l1W, 0, m, ws, b, nnls);
  }
  if (diag) state.kernels.scale(W, m, d, inv);
  else d.fill(1);
  // Warm start of the next H-update: d_t ⊙ h_norm = d_t ⊙ h_raw / dH.
  for (let a = 0; a < k; a++) warmScale[a] = !diag ? 1 : hSum[a]! > 0 ? d[a]! / hSum[a]! : 0;
  const WtW = state.G;
  const gramHere = (): void => state.kernels.gram(W, m, WtW);
  let finished: { readonly tol: number; readonly cross: number };
  const finish = finishInParallel ?? state.wasmPass?.finish(state, Bn);
  if (finish !== undefined) {
    finished = finish(gramHere);
  } else {
    gramHere();
    finished = { tol: pearsonTol(W, Wprev, m * k), cross: crossTerm(W, m, k, d, Bn) };
  }
  state.gramFresh = true;
  const loss = lossOfTerms(state.normA2, finished.cross, reconTerm(k, d, Sn, WtW));
  return { relativeLoss: state.normA2 > 0 ? loss / state.normA2 : 0, tol: finished.tol };
}

const onesCache = new Map<number, Float64Array>();
function ones(k: number): Float64Array {
  let v = onesCache.get(k);
  if (v === undefined) { v = new Float64Array(k).fill(1); onesCache.set(k, v); }
  return v;
}
