/**
 * The 'fast' least-squares solver: extrapolation of W between iterations (Ang & Gillis 2019,
 * "Accelerating nonnegative matrix factorization algorithms using extrapolation", Neural Computation
 * 31(2)). Each iteration still solves every subproblem exactly; only the W that the next H-update
 * sees moves further along the last step:
 *   Ŵ_t = max(0, W_t + β (W_t − W_{t−1}))          (start of pass t+1; W_t, W_{t−1} the solved factors)
 * β adapts to the loss of the returned models: after a pass whose loss did not rise, β ← min(β̄, γβ)
 * and β̄ ← min(1, γ̄β̄); after one whose loss rose, β̄ ← β, β ← β/η and the next pass starts from
 * the solved W itself (a plain ALS step). Everything depends on the losses alone, which are the same
 * bytes for any chunking and thread count, so the fit is too. At a fixed point W_t = W_{t−1}, so the
 * fixed points are those of plain ALS.
 */
import type { L2State } from './state.js';

/** Constants of the scheme (β₀, γ, γ̄, η): the paper's γ̄ and η; β₀ and γ larger than its 0.5 and 1.05 — on the synthetic 1 M matrix 10/19/11 iterations to L* for seeds 1–3 instead of 12/25/12, movielens unchanged (4). */
const BETA0 = 0.9;
const GROW = 1.1;
const GROW_MAX = 1.01;
const SHRINK = 1.5;

export interface Extrapolation {
  beta: number;
  betaMax: number;
  /** Relative loss of the previous pass (Infinity before the first). */
  lastLoss: number;
  /** Extrapolate at the start of the next pass (false after a rise of the loss, and before pass 2). */
  next: boolean;
  /** Set by extrapolateW: Wprev already holds the solved W of the last pass (W holds Ŵ). */
  held: boolean;
}

export function makeExtrapolation(): Extrapolation {
  return { beta: BETA0, betaMax: 1, lastLoss: Infinity, next: false, held: false };
}

/**
 * Start of a pass: W ← Ŵ = max(0, W + β(W − Wprev)) and Wprev ← W (the solved one, for the next
 * extrapolation and for the convergence measure). Returns false (nothing changed) when this pass
 * takes a plain step.
 */
export function extrapolateW(state: L2State, x: Extrapolation): boolean {
  if (!x.next) return false;
  x.held = true;
  if (state.wasmPass !== undefined) { state.wasmPass.extrapolate(state, x.beta); return true; }
  const { W, Wprev } = state;
  const beta = x.beta;
  for (let p = 0, end = state.m * state.k; p < end; p++) {
    const w = W[p]!;
    const v = w + beta * (w - Wprev[p]!);
    W[p] = v > 0 ? v : 0;
    Wprev[p] = w;
  }
  return true;
}

/** End of a pass with relative loss `loss`: adapt β and decide whether the next pass extrapolates. */
export function adaptExtrapolation(x: Extrapolation, loss: number): void {
  if (x.lastLoss === Infinity) {
    x.next = true; // after the first pass: W_0 → W_1 is the first step to extrapolate along
  } else if (loss > x.lastLoss) {
    x.betaMax = x.beta;
    x.beta = x.beta / SHRINK;
    x.next = false;
  } else {
    x.beta = Math.min(x.betaMax, GROW * x.beta);
    x.betaMax = Math.min(1, GROW_MAX * x.betaMax);
    x.next = true;
  }
  x.lastLoss = loss;
}
