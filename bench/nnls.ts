// NNLS methods on a real W-update problem: the statistics of iteration ITER of an l2 fit on a
// Matrix Market file, then every row solved by the active-set method and by RcppML-style CD, from
// the warm start (the previous W in the new scale) and cold (x = 0). CPU time, best of 15.
// usage: npx tsx bench/nnls.ts <file.mtx> [ITER=10]
import { readMtx } from '../src/source/read-mtx.js';
import { makeCscChunk } from '../src/chunk/csc-chunk.js';
import { resolveOptions } from '../src/options.js';
import { makeL2State } from '../src/model/l2/state.js';
import { beginPassL2, stepL2 } from '../src/model/l2/step.js';
import { endPassL2 } from '../src/model/l2/end-pass.js';
import { makeRandom } from '../src/kernel/random.js';
import { invertDiagonal, nnlsSolve } from '../src/kernel/nnls-solve.js';
import { clearFactorCache } from '../src/kernel/nnls-support.js';
import { symmetrizeUpper } from '../src/kernel/gram.js';
const A = await readMtx(process.argv[2]!);
const ITER = Number(process.argv[3] ?? 10);
const k = 10;
const opts = resolveOptions({ rank: k, seed: 1 });
const st = makeL2State(A.m, opts, makeRandom(1));
const chunk = makeCscChunk({ ...A, colStart: 0 });
for (let it = 0; it < ITER; it++) { beginPassL2(st, opts); stepL2(st, chunk, opts, 'x'); if (it < ITER - 1) endPassL2(st, opts); }
// The W-update problem of iteration ITER.
const { B, S, hSum, ws } = st;
const inv = new Float64Array(k); for (let a = 0; a < k; a++) inv[a] = hSum[a]! > 0 ? 1 / hSum[a]! : 0;
symmetrizeUpper(S, k);
const G = new Float64Array(k * k);
for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) G[a * k + c] = S[a * k + c]! * inv[a]! * inv[c]!;
const invDiag = new Float64Array(k); invertDiagonal(G, k, invDiag);
const bAll = new Float64Array(A.m * k); for (let i = 0; i < A.m; i++) for (let a = 0; a < k; a++) bAll[i * k + a] = B[i * k + a]! * inv[a]!;
const warm = new Float64Array(A.m * k); for (let i = 0; i < A.m * k; i++) warm[i] = st.W[i]! * hSum[i % k]!;
for (const [name, method, useWarm] of [['active-set warm', 0, true], ['cd warm', 1, true], ['active-set cold', 0, false], ['cd cold', 1, false]] as const) {
  const x = new Float64Array(A.m * k);
  let best = Infinity;
  for (let rep = 0; rep < 15; rep++) {
    if (useWarm) x.set(warm); else x.fill(0);
    clearFactorCache(ws.cache); ws.counts.fill(0);
    const t0 = process.cpuUsage();
    for (let i = 0; i < A.m; i++) nnlsSolve(G, invDiag, k, bAll, i * k, x, i * k, ws, 100, 1e-8, method);
    const t = process.cpuUsage(t0); best = Math.min(best, (t.user + t.system) / 1000);
  }
  console.log(`${name.padEnd(16)} ${best.toFixed(2)} ms for ${A.m} rows = ${(best * 1000 / A.m).toFixed(2)} µs/solve; support hits ${(ws.counts[2]! / ws.counts[0]!).toFixed(3)}, sweeps/solve ${(ws.counts[1]! / ws.counts[0]!).toFixed(2)}`);
}
