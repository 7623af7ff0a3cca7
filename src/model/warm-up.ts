/**
 * Every JIT warm-up of the library, in one place: small made-up problems run before the real work so that
 * V8 has optimised the hot loops (results discarded; no random stream of a fit is touched).
 *   warmUpL2(k, { phases }): the least-squares kernels (kernel/warm-up.ts) and, on the thread that runs whole
 *     passes, the phase loops of model/l2/phases.ts;
 *   warmUpProjector: a projector of model/project.ts (the projection pool's workers, before they report ready).
 */
import type { CscChunk } from '../chunk/csc-chunk.js';
import { clearFactorCache } from '../kernel/nnls-support.js';
import { makeNnlsWorkspace } from '../kernel/nnls-workspace.js';
import { rankKernels } from '../kernel/rank-kernels.js';
import { warmUpL2Kernels } from '../kernel/warm-up.js';
import { solveColumns, solveRows, type NnlsSettings } from './l2/phases.js';
import type { RangeProjector } from './project.js';

/** The kernels of rank k; with `phases`, the phase loops too (once per rank and thread each). */
export function warmUpL2(k: number, what: { readonly phases: boolean }): void {
  warmUpL2Kernels(k);
  if (what.phases) warmUpL2Phases(k);
}

const warmedPhases = new Set<number>();

/**
 * JIT warm-up of the two phase loops (kernel/warm-up.ts warms the kernels they call): a small random
 * problem solved from cold and warm starts in turn, so that V8 has seen both branches of
 * solveColumns before it optimises it — otherwise the first warm-started pass deoptimises it and
 * runs unoptimised for a while, on every thread. Results are discarded. Once per rank and thread.
 */
function warmUpL2Phases(k: number, rounds = 200): void {
  if (warmedPhases.has(k)) return;
  warmedPhases.add(k);
  const m = 64, n = 32, perColumn = 8;
  let seed = 12345;
  const next = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x80000000; };
  const W = Float64Array.from({ length: m * k }, next);
  const G = new Float64Array(k * k);
  for (let i = 0; i < m; i++) for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) G[a * k + c] = G[a * k + c]! + W[i * k + a]! * W[i * k + c]!;
  const invDiag = Float64Array.from({ length: k }, (_, a) => 1 / G[a * k + a]!);
  const colPtr = Int32Array.from({ length: n + 1 }, (_, j) => j * perColumn);
  const rowIdx = Int32Array.from({ length: n * perColumn }, (_, p) => ((p % perColumn) * 7 + Math.floor(p / perColumn)) % m);
  const values = Float64Array.from({ length: n * perColumn }, next);
  const H = new Float64Array(n * k), B = Float64Array.from({ length: m * k }, next), Bn = new Float64Array(m * k);
  const ones = new Float64Array(k).fill(1);
  const ws = makeNnlsWorkspace(k), b = new Float64Array(k);
  const nnls: NnlsSettings = { maxSweeps: 100, tol: 1e-8, method: 0 };
  const { rhs } = rankKernels(k);
  clearFactorCache(ws.cache);
  for (let r = 0; r < rounds; r++) {
    solveColumns(W, G, invDiag, ones, r % 2 === 1, k, colPtr, rowIdx, values, 0, 0, n, H, ws, b, rhs, 0, nnls);
    solveRows(W, B, Bn, ones, ones, G, invDiag, k, 0, 0, m, ws, b, nnls);
  }
}

/**
 * Runs a projector on a small made-up chunk a few times, so that V8 has compiled its loops before the
 * first real batch (a worker thread of the projection pool would otherwise solve its first shares cold).
 */
export function warmUpProjector(solve: RangeProjector, m: number, k: number): void {
  const n = 64, per = Math.min(m, 16), step = Math.max(1, Math.floor(m / per));
  const colPtr = new Int32Array(n + 1), rowIdx = new Int32Array(n * per), values = new Float64Array(n * per);
  for (let j = 0, p = 0; j < n; j++) {
    for (let q = 0; q < per; q++, p++) { rowIdx[p] = (j + q * step) % m; values[p] = 1 + ((j * q) % 5); }
    colPtr[j + 1] = (j + 1) * per;
  }
  const chunk: CscChunk = { m, colStart: 0, n, colPtr, rowIdx, values, position: 0 };
  const out = new Float64Array(k * n);
  for (let round = 0; round < 20; round++) solve(chunk, out, 0, n);
}
