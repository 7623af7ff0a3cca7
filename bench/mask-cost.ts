/**
 * bench:mask-cost — per-iteration time of a masked least-squares fit against the unmasked one (issue #15), at
 * test fractions 5 % and 10 %, for each treatment of the held-out zeros ('sampled' — the default —, 'all', 'none')
 * and for mask 'zeros', side by side in one run, with the load averages. Unmasked: the default fit (the 'fast'
 * solver's pass in WebAssembly) and its TypeScript path (wasm: false). Masked: the default (the masked pass in
 * WebAssembly, model/l2/masked-wasm.ts) and, for the default treatment and mask zeros, the TypeScript path
 * (wasm: false: the same bytes; the only masked path before commit 654fd8b).
 * Synthetic sparse matrices with the same nonzeros and growing m show whether the cost grows with m·n.
 * Times are process CPU (user + system; the machine is shared, so wall times are recorded but not compared); each
 * variant's timed fits follow one untimed 2-iteration fit (without it the first variant paid the JIT warm-up).
 * Writes bench/results/mask-cost-<date>[-scaling].json.
 *   npm run bench:mask-cost [-- --rank=10 --iterations=10 --repeats=3 --scaling --inputs=movielens,hawaiibirds]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { makeRandom } from '../src/kernel/random.js';
import type { FitOptions } from '../src/options.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromCsc, type CscMatrix } from '../src/source/from-csc.js';
import { loadMtx } from '../src/source/from-mtx.js';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const rank = Number(arg('rank', '10'));
const iterations = Number(arg('iterations', '10'));
const repeats = Number(arg('repeats', '3'));

/** m × n with `perColumn` nonzeros per sample at random rows, values in (0, 1]. */
function synthetic(m: number, n: number, perColumn: number, seed: number): CscMatrix {
  const r = makeRandom(seed);
  const colPtr = new Int32Array(n + 1), rowIdx = new Int32Array(n * perColumn), values = new Float64Array(n * perColumn);
  for (let j = 0; j < n; j++) {
    const rows = new Set<number>();
    while (rows.size < perColumn) rows.add(Math.floor(r.uniform() * m));
    const sorted = [...rows].sort((a, b) => a - b);
    sorted.forEach((i, q) => { rowIdx[j * perColumn + q] = i; values[j * perColumn + q] = 1 - r.uniform(); });
    colPtr[j + 1] = (j + 1) * perColumn;
  }
  return { m, n, colPtr, rowIdx, values };
}

/** Median process CPU ms (user + system) and wall ms per iteration over `repeats` fits of `iterations` iterations (tol 0). */
async function msPerIteration(A: CscMatrix, options: Partial<FitOptions>): Promise<{ cpu: number; wall: number }> {
  const cpu: number[] = [], wall: number[] = [];
  for (let q = 0; q < repeats; q++) {
    const t = performance.now(), c = process.cpuUsage();
    await fitModel(fromCsc(A), { rank, maxIterations: iterations, tol: 0, emit: 'final', threads: 1, ...options });
    const used = process.cpuUsage(c);
    wall.push((performance.now() - t) / iterations);
    cpu.push((used.user + used.system) / 1000 / iterations);
  }
  const median = (v: number[]): number => v.sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  return { cpu: median(cpu), wall: median(wall) };
}

const VARIANTS: [string, Partial<FitOptions>][] = [
  ['unmasked (default, wasm)', {}],
  ['unmasked (TypeScript path)', { wasm: false }],
  ['5% sampled zeros (default)', { testFraction: 0.05 }],
  ['10% sampled zeros (default)', { testFraction: 0.1 }],
  ['5% no zeros', { testFraction: 0.05, testZeros: 'none' }],
  ['10% no zeros', { testFraction: 0.1, testZeros: 'none' }],
  ['5% all zeros (RcppML)', { testFraction: 0.05, testZeros: 'all' }],
  ['10% all zeros (RcppML)', { testFraction: 0.1, testZeros: 'all' }],
  ['5% sampled zeros, TypeScript path', { testFraction: 0.05, wasm: false }],
  ['mask zeros', { mask: 'zeros' }],
  ['mask zeros, TypeScript path', { mask: 'zeros', wasm: false }],
  ['mask zeros + 5%', { mask: 'zeros', testFraction: 0.05 }],
  ['mask zeros + 10%', { mask: 'zeros', testFraction: 0.1 }],
];

// --scaling: only the synthetic matrices (nnz fixed, m growing) and the variants that claim a cost ∝ nnz
const scaling = process.argv.includes('--scaling');
const inputs: [string, CscMatrix][] = scaling ? [
  ['synthetic 2000×4000, 40/sample', synthetic(2000, 4000, 40, 1)],
  ['synthetic 20000×4000, 40/sample', synthetic(20000, 4000, 40, 1)],
  ['synthetic 80000×4000, 40/sample', synthetic(80000, 4000, 40, 1)],
] : [
  ['movielens', (await loadMtx('../shared/data/movielens.mtx')).matrix],
  ['hawaiibirds', (await loadMtx('../shared/data/hawaiibirds.mtx')).matrix],
  ['synthetic 2000×4000, 40/sample', synthetic(2000, 4000, 40, 1)],
  ['synthetic 20000×4000, 40/sample', synthetic(20000, 4000, 40, 1)],
  ['synthetic 80000×4000, 40/sample', synthetic(80000, 4000, 40, 1)],
];

// --inputs=a,b: only the inputs whose names start with one of these
const only = arg('inputs', '').split(',').filter((x) => x !== '');
if (only.length > 0) inputs.splice(0, inputs.length, ...inputs.filter(([name]) => only.some((x) => name.startsWith(x))));
const load = [loadavg()];
const rows: Record<string, unknown>[] = [];
for (const [name, A] of inputs) {
  const big = A.m >= 80000;
  const row: Record<string, { cpu: number; wall: number }> = {};
  for (const [label, options] of VARIANTS) {
    if (scaling && !['unmasked (default, wasm)', 'unmasked (TypeScript path)', '5% sampled zeros (default)', '5% no zeros'].includes(label)) continue;
    if (big && label.includes('all zeros')) continue; // m·n held-out zeros: the cost the default avoids (skipped at this size)
    await fitModel(fromCsc(A), { rank, maxIterations: 2, tol: 0, emit: 'final', threads: 1, ...options }); // untimed warm-up (JIT, module)
    row[label] = await msPerIteration(A, options);
  }
  const base = row['unmasked (default, wasm)']!.cpu, ts = row['unmasked (TypeScript path)']!.cpu;
  rows.push({ data: name, m: A.m, n: A.n, nnz: A.colPtr[A.n], msPerIteration: row, loadAverage: loadavg() });
  console.log(`\n**${name}** (${A.m}×${A.n}, ${A.colPtr[A.n]} nonzeros, rank ${rank}): CPU ms per iteration, × unmasked default (wasm), × unmasked TypeScript path; load ${loadavg()[0]!.toFixed(1)}`);
  console.log('| variant | CPU ms/iteration | × default | × TS path | wall ms |\n|---|---|---|---|---|');
  for (const [label, ms] of Object.entries(row)) console.log(`| ${label} | ${ms.cpu.toFixed(2)} | ${(ms.cpu / base).toFixed(2)} | ${(ms.cpu / ts).toFixed(2)} | ${ms.wall.toFixed(1)} |`);
  load.push(loadavg());
}
const date = new Date().toISOString().slice(0, 10);
mkdirSync('bench/results', { recursive: true });
const out = `bench/results/mask-cost-${date}${scaling ? '-scaling' : ''}.json`;
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), rank, iterations, repeats, loadAverages: load, rows }, null, 1));
console.log(`\nwrote ${out}; load averages ${load.map((l) => l.map((x) => x.toFixed(2)).join(' ')).join(' → ')}`);
