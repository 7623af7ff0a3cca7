// One-thread seconds per least-squares pass (the passes after the second: JIT warm-up and page faults of
// the first excluded), solver 'fast' (the pass in WebAssembly) and 'exact', k = 10, tol 0, on movielens
// and a seeded synthetic 20000 × 5000 matrix at 1 % (1 M nonzeros, 5 units of model/l2/units.ts).
// Wall and process CPU milliseconds, minimum over the repeats; the sha-256 of the final W shows which summation order a build has.
// usage: npx tsx bench/pass-time.ts [--iterations 12] [--repeat 3] [--solvers fast,exact]
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitModel, fromCsc, loadMtx } from '../src/index.js';
import type { CscMatrix } from '../src/chunk/csc-matrix.js';
import { makeRandom } from '../src/kernel/random.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] ?? fallback : fallback; };
const iterations = Number(flag('--iterations', '12'));
const repeat = Number(flag('--repeat', '3'));
const solvers = flag('--solvers', 'fast,exact').split(',') as ('fast' | 'exact')[];

/** m × n, each entry nonzero with probability `density`, values uniform in (0, 5]; seeded. */
function synthetic(m: number, n: number, density: number): CscMatrix {
  const random = makeRandom(7);
  const colPtr = new Int32Array(n + 1), rows: number[] = [], values: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) if (random.uniform() < density) { rows.push(i); values.push(5 * (1 - random.uniform())); }
    colPtr[j + 1] = rows.length;
  }
  return { m, n, colPtr, rowIdx: Int32Array.from(rows), values: Float64Array.from(values) };
}

const datasets: [string, CscMatrix][] = [
  ['movielens', (await loadMtx(join(root, '..', 'shared', 'data', 'movielens.mtx'))).matrix],
  ['synthetic 20000×5000 @1%', synthetic(20000, 5000, 0.01)],
];
for (const [name, matrix] of datasets) {
  for (const solver of solvers) {
    let best = Infinity, bestCpu = Infinity, hash = '';
    for (let r = 0; r < repeat; r++) {
      const cpu: number[] = []; // process CPU time at the end of each pass (less exposed to the machine's load than wall time)
      const onIteration = (): void => { const u = process.cpuUsage(); cpu.push((u.user + u.system) / 1000); };
      const model = await fitModel(fromCsc(matrix), { rank: 10, solver, threads: 1, maxIterations: iterations, tol: 0, seed: 1, onIteration });
      const t = model.trace;
      best = Math.min(best, (t.at(-1)!.seconds - t[1]!.seconds) / (t.length - 2));
      bestCpu = Math.min(bestCpu, (cpu.at(-1)! - cpu[1]!) / (cpu.length - 2));
      hash = createHash('sha256').update(new Uint8Array(model.W.buffer, model.W.byteOffset, model.W.byteLength)).digest('hex').slice(0, 12);
    }
    console.log(JSON.stringify({ dataset: name, solver, msPerPass: +(best * 1000).toFixed(2), cpuMsPerPass: +bestCpu.toFixed(2), W: hash, load: loadavg()[0] }));
  }
}
