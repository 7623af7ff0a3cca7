/**
 * bench:mask-cost-l1 — what a mask costs weighted L1 (issue #15), and online fits: process CPU ms per sCD iteration of
 * a masked l1 fit against the unmasked one (in memory, one thread; out of core), and CPU ms per chunk of masked
 * online fits (l1 and l2) against the unmasked ones, side by side in one run, with the load averages. Fits include
 * their set-up (the start, the least-squares warm-up, the feature-major copy): per-iteration figures are total CPU /
 * iterations, the median of `repeats` fits after one untimed fit of the same variant (JIT warm-up). Times are process CPU (user + system): the machine is shared, so wall times are recorded, not compared.
 * Writes bench/results/mask-cost-l1-<date>.json.   npm run bench:mask-cost-l1 [-- --rank=10 --iterations=10 --repeats=3]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { lastValueFrom } from 'rxjs';
import type { FitOptions } from '../src/options.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fitOnline, type OnlineOptions } from '../src/pipeline/fit-online.js';
import { fromCsc, type CscMatrix } from '../src/source/from-csc.js';
import { loadMtx } from '../src/source/from-mtx.js';
import type { MatrixSource } from '../src/source/matrix-source.js';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const rank = Number(arg('rank', '10'));
const iterations = Number(arg('iterations', '10'));
const repeats = Number(arg('repeats', '3'));
const chunkSize = Number(arg('chunk-size', '100'));

const median = (v: number[]): number => v.sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
/** Streamed (not an in-memory matrix): the l1 engine runs out of core. */
const streamed = (A: CscMatrix): MatrixSource => {
  const inner = fromCsc(A, { chunkSize: 1000 });
  return { name: 'streamed', rereadable: true, features: A.m, chunks: () => inner.chunks() };
};

async function cpuMs(run: () => Promise<unknown>, per: number): Promise<{ cpu: number; wall: number }> {
  const cpu: number[] = [], wall: number[] = [];
  await run(); // warm-up (JIT), not counted
  for (let q = 0; q < repeats; q++) {
    const t = performance.now(), c = process.cpuUsage();
    await run();
    const used = process.cpuUsage(c);
    wall.push((performance.now() - t) / per);
    cpu.push((used.user + used.system) / 1000 / per);
  }
  return { cpu: median(cpu), wall: median(wall) };
}

const L1: [string, Partial<FitOptions>][] = [
  ['l1 unmasked', {}],
  ['l1 5% sampled zeros', { testFraction: 0.05 }],
  ['l1 10% sampled zeros', { testFraction: 0.1 }],
  ['l1 5% all zeros', { testFraction: 0.05, testZeros: 'all' }],
  ['l1 mask zeros + 5%', { mask: 'zeros', testFraction: 0.05 }],
  ['l1 unmasked, λ = 0 (what mask zeros fits)', { lambda: 0 }],
];
const ONLINE: [string, Partial<OnlineOptions>][] = [
  ['online l2 unmasked', { threads: 1 }],
  ['online l2 5% sampled zeros', { testFraction: 0.05 }],
  ['online l2 mask zeros + 5%', { mask: 'zeros', testFraction: 0.05 }],
  ['online l1 unmasked', { loss: 'l1', threads: 1 }],
  ['online l1 5% sampled zeros', { loss: 'l1', testFraction: 0.05, threads: 1 }],
];

const results: Record<string, unknown>[] = [];
for (const name of (arg('data', 'hawaiibirds,movielens')).split(',')) {
  const A = (await loadMtx(`../shared/data/${name}.mtx`)).matrix;
  const nnz = A.colPtr[A.n]!;
  console.log(`\n**${name}** (${A.m}×${A.n}, ${nnz} nonzeros, rank ${rank}), load ${loadavg()[0]!.toFixed(1)}`);
  console.log('| variant | CPU ms per iteration / chunk | × unmasked | wall ms |\n|---|---|---|---|');
  for (const [mode, make] of [['in memory', (M: CscMatrix) => fromCsc(M)], ['out of core', streamed]] as const) {
    let base = 0;
    for (const [label, extra] of L1) {
      const t = await cpuMs(() => fitModel(make(A), { rank, loss: 'l1', lambda: 0.5, maxIterations: iterations, tol: 0, emit: 'final', threads: 1, ...extra }), iterations);
      if (base === 0) base = t.cpu;
      console.log(`| ${label} (${mode}) | ${t.cpu.toFixed(2)} | ${(t.cpu / base).toFixed(2)} | ${t.wall.toFixed(1)} |`);
      results.push({ data: name, mode, variant: label, cpuMsPerIteration: t.cpu, wallMsPerIteration: t.wall, load: loadavg() });
    }
  }
  const chunks = Math.ceil(A.n / chunkSize);
  let base = 0;
  for (const [label, extra] of ONLINE) {
    if (label.startsWith('online l1 unmasked')) base = 0;
    const t = await cpuMs(() => lastValueFrom(fitOnline(fromCsc(A, { chunkSize }), { rank, emitEvery: 1_000_000, buffer: 0, ...extra })), chunks);
    if (base === 0) base = t.cpu;
    console.log(`| ${label} (chunks of ${chunkSize}) | ${t.cpu.toFixed(2)} | ${(t.cpu / base).toFixed(2)} | ${t.wall.toFixed(1)} |`);
    results.push({ data: name, mode: 'online', variant: label, chunkSize, cpuMsPerChunk: t.cpu, wallMsPerChunk: t.wall, load: loadavg() });
  }
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const out = new URL(`./results/mask-cost-l1-${new Date().toISOString().slice(0, 10)}.json`, import.meta.url);
writeFileSync(out, JSON.stringify({ rank, iterations, repeats, chunkSize, results }, null, 1));
console.log(`\nwrote ${out.pathname}`);
