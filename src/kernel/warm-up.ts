/**
 * JIT warm-up of the least-squares kernels: a few thousand small random NNLS problems of the fit's
 * rank, solved from cold and warm starts, and the rank's data kernels on a small random matrix, so
 * that V8 has optimised them (all the solver's paths: support step, Lawson–Hanson, CD) before the
 * first real pass instead of during it (measured: ~25% off a 20-iteration movielens fit). Costs a
 * few milliseconds, once per rank and process; the results are discarded (the generator is local,
 * the fit's random stream is untouched).
 */
import { makeRandom } from './random.js';
import { invertDiagonal, nnlsSolve } from './nnls-solve.js';
import { clearFactorCache } from './nnls-support.js';
import { makeNnlsWorkspace } from './nnls-workspace.js';
import { rankKernels } from './rank-kernels.js';

const warmed = new Set<number>();

export function warmUpL2Kernels(k: number, problems = 3000): void {
  if (warmed.has(k)) return;
  warmed.add(k);
  const rnd = makeRandom(1);
  const G = new Float64Array(k * k);
  for (let r = 0; r < 2 * k; r++) {
    const x = Array.from({ length: k }, () => rnd.uniform());
    for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) G[a * k + c] = G[a * k + c]! + x[a]! * x[c]!;
  }
  const invDiag = new Float64Array(k);
  invertDiagonal(G, k, invDiag);
  const ws = makeNnlsWorkspace(k);
  clearFactorCache(ws.cache);
  const b = new Float64Array(k);
  const x = new Float64Array(k);
  for (let p = 0; p < problems; p++) {
    for (let a = 0; a < k; a++) b[a] = rnd.uniform() - 0.3;
    for (let a = 0; a < k; a++) x[a] = p % 3 === 0 ? 0 : rnd.uniform() < 0.5 ? 0 : rnd.uniform();
    nnlsSolve(G, invDiag, k, b, 0, x, 0, ws, 100, 1e-8, p % 7 === 0 ? 1 : 0);
  }
  const m = 64, nnz = 16;
  const W = new Float64Array(m * k).map(() => rnd.uniform());
  const B = new Float64Array(m * k);
  const rowIdx = new Int32Array(nnz), values = new Float64Array(nnz), colPtr = Int32Array.from([0, nnz]);
  const { rhs, stats, rows, gram, scale } = rankKernels(k);
  for (let p = 0; p < problems; p++) {
    for (let q = 0; q < nnz; q++) { rowIdx[q] = (rnd.uniform() * m) | 0; values[q] = rnd.uniform(); }
    rhs(W, rowIdx, values, 0, nnz, 0, b, 0);
    stats(b, 0, rowIdx, values, 0, nnz, B);
    if (p % 10 === 0) rows(k, colPtr, rowIdx, values, 1, 0, b, B, 0, m);
    if (p % 30 === 0) { gram(W, m, G); scale(B, m, x, b); }
  }
}
