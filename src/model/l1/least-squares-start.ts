/**
 * The least-squares warm-up of the L1 fit (arXiv 2603.29715 §5): a few ALS iterations of the
 * l2 engine from the given W on the in-memory matrix, then W diag(d) H split evenly between the
 * factors (W_l·√d_l, H_l·√d_l, so ‖W_l‖₁ = ‖H_l‖₁), in sCD storage (W m×k, H sample-major n×k).
 */
import { makeCscChunk } from '../../chunk/csc-chunk.js';
import { makeRandom } from '../../kernel/random.js';
import type { ResolvedOptions } from '../../options.js';
import type { CscMatrix } from '../../chunk/csc-matrix.js';
import { endPassL2 } from '../l2/end-pass.js';
import { makeL2State } from '../l2/state.js';
import { beginPassL2, stepL2 } from '../l2/step.js';

export function leastSquaresWarmup(
  matrix: CscMatrix, W0: Float64Array, k: number, iterations: number, options: ResolvedOptions,
): { W: Float64Array; H: Float64Array } {
  const l2Options: ResolvedOptions = {
    ...options, loss: 'l2', l1W: 0, l1H: 0, l2W: 0, l2H: 0, initW: W0, initH: undefined,
  };
  const state = makeL2State(matrix.m, l2Options, makeRandom(options.seed));
  const chunk = makeCscChunk({ ...matrix, colStart: 0 });
  for (let t = 0; t < iterations; t++) {
    beginPassL2(state, l2Options);
    stepL2(state, chunk, l2Options, 'warm-up');
    endPassL2(state, l2Options);
  }
  const { m, n } = matrix;
  const W = new Float64Array(m * k);
  const H = new Float64Array(n * k);
  for (let a = 0; a < k; a++) {
    const root = Math.sqrt(state.d[a]!);
    const hScale = state.hSum[a]! > 0 ? root / state.hSum[a]! : 0;
    for (let i = 0; i < m; i++) W[i * k + a] = state.W[i * k + a]! * root;
    for (let j = 0; j < n; j++) H[j * k + a] = state.H[j * k + a]! * hScale;
  }
  return { W, H };
}
