// Threads, side by side in one run (issue 7): nmflow l2 with 1 and 2 threads against RcppML with
// 1 and 2 OpenMP threads (fixed iterations, tol 0, k = 10) on the synthetic 20000×5000 @ 1% matrix
// and movielens; then the in-memory sCD (l1) with 1 and 2 threads on the same data (breakpoint-
// updates per second = 2·k·nnz per iteration). Times: minimum over the repeats; nmflow's "later"
// column is seconds per iteration after the first (JIT warm-up and worker start-up excluded).
// Then where an l2 pass goes, per phase and per thread (the pool's phase timings, in process, 1 and
// 2 threads, mean over the passes after the third): H phase, B phase (AHᵀ by row ranges) and W
// phase per thread, the main thread's waits at the barriers and its serial parts.
// Last, projection (the ETL stage's solver): the codes of every sample of the data set with the fitted
// W fixed (an l2 model: exact NNLS; an l1 model: sCD), one thread (makeProjector) against the projection
// pool with 2 threads (the same bytes; checked), samples per second.
// usage: npx tsx bench/threads.ts [--repeat 3] [--datasets synthetic,movielens] [--phase-passes 12]
//        [--only-project]  (just the projection rows; written to threads-project-<date>.json)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { lastValueFrom, toArray } from 'rxjs';
import { fitModel, loadMtx } from '../src/index.js';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import { resolveOptions } from '../src/options.js';
import { makeL2Pool } from '../src/parallel/l2-pool.js';
import { CMD_ACCUMULATE_B, CMD_SOLVE_H, CMD_SOLVE_W, TIME_END, TIME_LOAD, TIME_SLOTS, TIME_SUMS, TIME_WAIT } from '../src/parallel/l2-shared.js';
import { beginPassL2 } from '../src/model/l2/step.js';
import { makeCscChunk } from '../src/chunk/csc-chunk.js';
import { makeProjectPool } from '../src/parallel/project-pool.js';
import { makeProjector } from '../src/model/project.js';
import { runTool, type ToolRun } from './lib/peer-tools.js';
import { markdownTable, ms, ratio, ratioText } from './lib/markdown.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shared = join(root, '..', 'shared');
const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] ?? fallback : fallback; };
const repeat = Number(flag('--repeat', '3'));
const synthetic = join(root, 'bench', 'data', 'synthetic-20000x5000-0.01.mtx');
if (!existsSync(synthetic)) {
  mkdirSync(dirname(synthetic), { recursive: true });
  execSync(`/usr/bin/python3 ${join(shared, 'peers', 'make_synthetic.py')} ${synthetic}`, { stdio: 'inherit' });
}
const files: Record<string, string> = { synthetic, movielens: join(shared, 'data', 'movielens.mtx') };
const datasets = flag('--datasets', 'synthetic,movielens').split(',');
execSync('npm run build', { cwd: root, stdio: 'ignore' });
const environment = { repoRoot: root, peersDir: join(shared, 'peers'), env: { ...process.env }, timeoutSeconds: 1800 };
const uptime = (): string => execSync('uptime').toString().trim();
const phasePasses = Number(flag('--phase-passes', '12'));
const onlyProject = argv.includes('--only-project');
console.log(`start: ${uptime()}`);
const loads: Record<string, number[]> = { start: loadavg() };

/** Milliseconds per pass in each phase (per thread) and in the main thread's serial parts, passes 4…N. */
async function phases(chunks: CscChunk[], m: number, threads: number): Promise<Record<string, number | number[]>> {
  const options = resolveOptions({ rank: 10, seed: 42, maxIterations: phasePasses, tol: 0 });
  const pool = makeL2Pool(m, options, threads);
  try {
    await pool.ready;
    const skip = 3;
    let seconds = 0;
    for (let pass = 0; pass < phasePasses; pass++) {
      if (pass === skip) pool.resetPhaseTimes();
      const started = performance.now();
      beginPassL2(pool.state, options);
      for (const chunk of chunks) pool.step(chunk, 'bench');
      pool.endPass();
      if (pass >= skip) seconds += performance.now() - started;
    }
    const passes = phasePasses - skip;
    const t = pool.phaseTimes();
    const per = (slot: number): number => t[slot]! / passes;
    const perThread = (command: number): number[] => Array.from({ length: threads }, (_, th) => per(th * TIME_SLOTS + command));
    return {
      pass: seconds / passes, H: perThread(CMD_SOLVE_H), B: perThread(CMD_ACCUMULATE_B), W: perThread(CMD_SOLVE_W),
      waitH: per(TIME_WAIT + CMD_SOLVE_H), waitB: per(TIME_WAIT + CMD_ACCUMULATE_B), waitW: per(TIME_WAIT + CMD_SOLVE_W),
      load: per(TIME_LOAD), sums: per(TIME_SUMS), end: per(TIME_END),
    };
  } finally {
    pool.close();
  }
}
const phaseRows: string[][] = [];
const msText = (v: number): string => v.toFixed(1);

const rows: string[][] = [];
const results: Record<string, unknown> = {};
for (const name of datasets) {
  const file = files[name]!;
  loads[name] = loadavg();
  const iterations = name === 'synthetic' ? 10 : 20;
  const request = { file, rank: 10, maxIterations: iterations, tol: 0, seed: 42, repeat };
  const runs: Record<string, ToolRun> = {};
  for (const threads of onlyProject ? [] : [1, 2]) {
    runs[`nmflow-${threads}`] = runTool('nmflow', { ...request, threads }, environment);
    runs[`rcppml-${threads}`] = runTool('rcppml', { ...request, threads }, environment);
  }
  const perIt = (run: ToolRun | undefined): number | undefined => (run?.ok ? Math.min(...run.fitSeconds) / iterations : undefined);
  const later = (run: ToolRun | undefined): number | undefined => (run?.ok && run.laterSecondsPerIteration.length ? Math.min(...run.laterSecondsPerIteration) : undefined);
  const r1 = perIt(runs['rcppml-1']);
  for (const key of onlyProject ? [] : ['nmflow-1', 'nmflow-2', 'rcppml-1', 'rcppml-2']) {
    rows.push([name, key, ms(perIt(runs[key])), ms(later(runs[key])), ratioText(ratio(perIt(runs[key]), r1)), runs[key]?.relativeLoss?.toFixed(6) ?? 'n/a']);
  }
  // sCD, in process: λ = 0.01 (a realistic mix of zero and nonzero entries) and λ = 1
  const source = await loadMtx(file);
  for (const lambda of onlyProject ? [] : [1, 0.01]) {
    const seconds: Record<number, number> = {};
    for (const threads of [1, 2]) {
      let best = Infinity;
      for (let r = 0; r < Math.max(1, repeat - 1); r++) {
        const model = await fitModel(source, { rank: 10, loss: 'l1', lambda, seed: 42, maxIterations: 6, tol: 0, threads, warmupIterations: 3 });
        const t = model.trace;
        best = Math.min(best, (t.at(-1)!.seconds - t[0]!.seconds) / (t.length - 1));
      }
      seconds[threads] = best;
      const nnz = source.matrix.values.length;
      rows.push([name, `sCD λ=${lambda} ${threads}t`, ms(best), `${(2 * 10 * nnz / best / 1e6).toFixed(1)} M bp/s`, threads === 2 ? `×${(seconds[1]! / best).toFixed(2)} vs 1t` : '', '']);
    }
    results[`${name}-scd-${lambda}`] = seconds;
  }
  results[name] = runs;
  // projection: all samples as one chunk, W of a short fit fixed
  const all = makeCscChunk({ ...source.matrix, colStart: 0 });
  for (const loss of ['l2', 'l1'] as const) {
    const model = await fitModel(source, { rank: 10, loss, seed: 42, maxIterations: 4, tol: 0, warmupIterations: 2 });
    const seconds: Record<number, number> = {};
    let reference: Float64Array | undefined;
    for (const threads of [1, 2]) {
      const pool = threads > 1 ? makeProjectPool(model, {}, threads) : undefined;
      await pool?.ready;
      const solve = pool ? (c: CscChunk) => pool.project(c) : makeProjector(model);
      let best = Infinity;
      for (let r = 0; r < Math.max(2, repeat); r++) {
        const t0 = performance.now();
        const H = solve(all);
        best = Math.min(best, (performance.now() - t0) / 1000);
        reference ??= H;
        if (!Buffer.from(H.buffer, H.byteOffset, H.byteLength).equals(Buffer.from(reference.buffer, reference.byteOffset, reference.byteLength))) throw new Error('projection: the threads gave other codes');
      }
      pool?.close();
      seconds[threads] = best;
      rows.push([name, `project ${loss} ${threads}t`, ms(best), `${(all.n / best / 1000).toFixed(1)} k samples/s`, threads === 2 ? `×${(seconds[1]! / best).toFixed(2)} vs 1t` : '', '']);
    }
    results[`${name}-project-${loss}`] = seconds;
  }
  if (onlyProject) continue;
  const chunks = await lastValueFrom(source.chunks().pipe(toArray()));
  const breakdown: Record<number, Record<string, number | number[]>> = {};
  for (const threads of [1, 2]) {
    const p = await phases(chunks, source.matrix.m, threads);
    breakdown[threads] = p;
    const list = (v: number | number[] | undefined): string => (Array.isArray(v) ? v.map(msText).join(' / ') : msText(v ?? NaN));
    phaseRows.push([name, `${threads}t`, msText(p.pass as number), list(p.H), list(p.B), list(p.W),
      `${list(p.waitH)} / ${list(p.waitB)} / ${list(p.waitW)}`, list(p.sums), list(p.load), list(p.end)]);
  }
  results[`${name}-phases`] = breakdown;
}
console.log(markdownTable(['data', 'run', 'ms/iteration', 'after it. 1', 'vs RcppML 1t', 'rel. loss'], rows, [false, false, true, true, true, true]));
console.log('\nl2 pass by phase (ms per pass, passes 4…N, in process; per thread: main / worker):');
console.log(markdownTable(['data', 'threads', 'pass', 'H', 'B', 'W', 'main waits H / B / W', 'sums after H', 'chunk copy', 'end of pass (serial)'],
  phaseRows, [false, false, true, true, true, true, true, true, true, true]));
loads.end = loadavg();
console.log(`end: ${uptime()}`);
const out = join(root, 'bench', 'results', `threads${onlyProject ? '-project' : ''}-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(out, JSON.stringify({ command: ['npx tsx bench/threads.ts', ...argv].join(' '), uptime: uptime(), loadAverages: loads, rows, phaseRows, results }, null, 1));
console.log(`wrote ${out}`);
