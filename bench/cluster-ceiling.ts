/**
 * `npx tsx bench/cluster-ceiling.ts [--passes 8]` (issue #14): what two processes of the workers' compute get out of
 * this machine, with no broker, no coordinator and no chain — the ceiling of `bench:cluster`'s speed-up. Each child
 * decodes the synthetic bench matrix's units it is given (bench/data/cluster-synthetic-20000x200000, made by
 * `npm run bench:cluster -- --prepare-only`) and solves them pass after pass, exactly the workers' step (unitPassStats
 * with the 'fast' solver, k = 10, codes warm-started from the pass before) with a new W each pass (uniform random,
 * the same in every child: the codes move every pass, as in a fit). Runs: one child with all units, then two children
 * at once with half each, alternated `--rounds` times. Reports seconds per pass (median of passes 3…) and the speed-up
 * one / two, with the load averages.
 * Writes bench/results/cluster-ceiling-<date>.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { makeL2Engine } from '../src/model/l2/engine.js';
import { unitPassStats } from '../src/model/l2/pass-stats.js';
import { ensureHCapacity } from '../src/model/l2/state.js';
import { makeUnitReader, planData } from '../src/cluster/unit-data.js';
import { resolveOptions, withSolver } from '../src/options.js';

const PARTS = 'bench/data/cluster-synthetic-20000x200000';
const flag = (name: string, fallback: number): number => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) || fallback : fallback);
const passes = flag('--passes', 8);
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

if (process.argv.includes('--child')) {
  const [a, b] = process.argv[process.argv.indexOf('--child') + 1]!.split(':').map(Number) as [number, number];
  const plan = await planData(PARTS, { layout: 'list' });
  const reader = makeUnitReader({ ...plan, exponent: 0 });
  const given = { rank: 10, seed: 1, solver: 'fast' as const };
  const options = withSolver(resolveOptions(given), given);
  const engine = makeL2Engine(plan.m, options, { sourceName: PARTS, featureNames: undefined, threads: 1 });
  const chunks = [];
  for (let u = a; u < b; u++) chunks.push(await reader.read(u));
  ensureHCapacity(engine.state, plan.n);
  // ready: wait for the parent's go (both children decode first, then solve at the same time)
  process.stdout.write('ready\n');
  await new Promise((r) => process.stdin.once('data', r));
  const times: number[] = [];
  const W = engine.state.W;
  for (let p = 0; p < passes; p++) {
    const t0 = performance.now();
    let x = 12345 + p * 7919;
    for (let i = 0; i < W.length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; W[i] = x / 2 ** 32; }
    engine.state.warmScale.fill(1);
    engine.state.iteration = p;
    engine.beginPass();
    for (const chunk of chunks) unitPassStats(engine.state, chunk, options, PARTS);
    times.push((performance.now() - t0) / 1000);
  }
  process.stdout.write(`${JSON.stringify(times)}\n`);
  process.exit(0);
}

/** Children solving the given unit ranges at the same time: each one's seconds per pass. */
async function together(ranges: string[]): Promise<number[][]> {
  const children = ranges.map((r) => spawn('node', ['--import', 'tsx', 'bench/cluster-ceiling.ts', '--child', r, '--passes', String(passes)], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const outs = children.map(() => '');
  const ready = children.map((c, i) => new Promise<void>((resolve) => c.stdout.on('data', (b: Buffer) => { outs[i] += b.toString(); if (outs[i]!.includes('ready\n')) resolve(); })));
  await Promise.all(ready);
  for (const c of children) c.stdin.write('go\n');
  await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
  return outs.map((o) => JSON.parse(o.split('\n')[1]!) as number[]);
}

const rounds = flag('--rounds', 2);
const runs = [];
for (let r = 0; r < rounds; r++) {
  const load = [loadavg()];
  const one = await together(['0:49']);
  load.push(loadavg());
  const two = await together(['0:24', '24:49']);
  load.push(loadavg());
  // a pass of two processes lasts as long as the slower one's
  const onePass = median(one[0]!.slice(2)), twoPass = median(two[0]!.slice(2).map((t, p) => Math.max(t, two[1]![p + 2]!)));
  runs.push({ oneProcessSecondsPerPass: onePass, twoProcessesSecondsPerPass: twoPass, speedUp: onePass / twoPass, one, two, load });
  console.log(JSON.stringify({ oneProcessSecondsPerPass: +onePass.toFixed(3), twoProcessesSecondsPerPass: +twoPass.toFixed(3), speedUp: +(onePass / twoPass).toFixed(2), load: load.map((l) => l.map((x) => +x.toFixed(2))) }));
}
const result = { passes, runs };
mkdirSync('bench/results', { recursive: true });
writeFileSync(`bench/results/cluster-ceiling-${new Date().toISOString().slice(0, 10)}.json`, `${JSON.stringify(result, null, 1)}\n`);
