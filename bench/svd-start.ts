/**
 * Where the SVD start's time goes (`init: 'nndsvd'`, src/pipeline/nndsvd-start.ts), stage by stage.
 *
 *   npm run bench:svd-start [-- --datasets movielens,synthetic] [--q 0,1,2] [--backends wasm,typescript]
 *                              [--reps 5] [--before DIR] [--iterations] [--out FILE]
 *
 * Per data set (read once into memory, one chunk, k = 10, seed 1…) and per q and backend, a fresh
 * process (so the first start is really the first: the module compiled, the JIT cold, the memory never
 * touched) times
 *   first:  the first start, stage by stage — each pass's chunk loop (its products, and pass 0's Ω, sum of
 *           A and chunk check), each end of pass (the orthonormalisation), the small SVD (ZᵀZ, Jacobi,
 *           U and V), NNDSVD — by calling the stages directly, as the driver does;
 *   again:  the same once more (the spare WebAssembly instance reused: no fresh memory);
 *   whole:  nndsvdStart through its Observable, `reps` times after those two (median, min–max);
 * and, for q = 1 with the default backend, a random-start fit of 10 iterations (the fast solver, one
 * thread): its first iteration and the median of the others, the unit the start is compared with.
 * `--before DIR` also times `whole` (first and later starts) for the library in DIR (e.g. an export of an
 * older commit with node_modules linked), in a fresh process too. `--iterations` adds, per q and seed 1–5,
 * the iterations the default solver needs from the start's W to L20 (the random start's loss after 20
 * iterations, same seed) and to L* (bench/results/lstar.json), at most 100 — what q buys. Writes
 * bench/results/svd-start-<date>.json with os.loadavg() per process.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, takeWhile, toArray } from 'rxjs';
import { markdownTable, ms } from './lib/markdown.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PATHS: Record<string, string> = {
  movielens: join(repoRoot, '..', 'shared', 'data', 'movielens.mtx'),
  synthetic: join(repoRoot, 'bench', 'data', 'synthetic-20000x5000-1pct.mtx'),
};
const RANK = 10;
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const list = (name: string, fallback: string): string[] => (flag(name) ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
const load = (): number[] => loadavg().map((x) => Number(x.toFixed(2)));
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

interface Child { stages?: { first: Record<string, number>; again: Record<string, number> }; whole: number[]; iterations?: number[]; load: number[] }

/** One fresh process: `--child DATASET Q BACKEND SRC_DIR STAGES(0|1) FIT(0|1) REPS`. */
async function child(): Promise<void> {
  const [name, qText, backend, srcDir, stagesFlag, fitFlag, repsText] = argv.slice(1);
  const q = Number(qText), wasm = backend !== 'typescript', reps = Number(repsText);
  const src = (path: string): Promise<Record<string, unknown>> => import(join(srcDir!, path)) as Promise<Record<string, unknown>>;
  const { loadMtx } = await src('source/from-mtx.ts') as { loadMtx: (path: string) => Promise<{ matrix: { m: number; n: number } } & object> };
  const { nndsvdStart } = await src('pipeline/nndsvd-start.ts') as { nndsvdStart: (s: object, o: object) => import('rxjs').Observable<unknown> };
  const source = await loadMtx(PATHS[name!]!);
  const out: Child = { whole: [], load: [] };
  if (stagesFlag === '1') {
    const sketch = await src('model/svd/sketch.ts') as typeof import('../src/model/svd/sketch.js');
    const { nndsvd } = await src('kernel/nndsvd.ts') as typeof import('../src/kernel/nndsvd.js');
    const { checkChunk } = await src('chunk/check-chunk.ts') as typeof import('../src/chunk/check-chunk.js');
    const chunks = await lastValueFrom((source as unknown as { chunks(): import('rxjs').Observable<import('../src/chunk/csc-chunk.js').CscChunk> }).chunks().pipe(toArray()));
    const staged = (): Record<string, number> => {
      const times: Record<string, number> = {};
      const started = performance.now();
      let t = started;
      const lap = (stage: string): void => { const now = performance.now(); times[stage] = now - t; t = now; };
      const state = sketch.makeSvdSketch(RANK, 1, source.matrix.n, 10, q, wasm);
      for (let pass = 0; pass < state.passes; pass++) {
        sketch.beginSvdPass(state);
        for (const chunk of chunks) {
          if (pass === 0) checkChunk(chunk, 'bench');
          sketch.stepSvdSketch(state, chunk, 'bench');
        }
        lap(`pass ${pass}`);
        sketch.endSvdPass(state, 'bench');
        lap(`orth ${pass}`);
      }
      const svd = sketch.svdOfSketch(state);
      lap('small SVD, U, V');
      const H = new Float64Array(RANK * svd.n);
      nndsvd(svd.U, svd.m, svd.sigma, svd.V, svd.n, RANK, RANK, svd.U, H, new Float64Array(6 * RANK));
      lap('NNDSVD');
      times.total = performance.now() - started;
      return times;
    };
    out.stages = { first: staged(), again: staged() };
  }
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    const own = Number.isFinite(q) ? { powerIterations: q, wasm } : {}; // --before: that library's defaults
    await lastValueFrom(nndsvdStart(source, { rank: RANK, seed: r + 1, fill: false, ...own }));
    out.whole.push(performance.now() - t);
  }
  if (fitFlag === '1') {
    const { fit } = await src('pipeline/fit.ts') as typeof import('../src/pipeline/fit.js');
    const snaps = await lastValueFrom(fit(source as never, { rank: RANK, seed: 1, tol: 0, maxIterations: 10, threads: 1 }).pipe(toArray()));
    const steps = snaps.filter((s) => !s.final && s.iteration >= 1).map((s) => s.elapsedSeconds * 1000);
    out.iterations = steps.map((x, i) => x - (i === 0 ? 0 : steps[i - 1]!));
  }
  out.load = load();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function spawn(args: string[]): Child {
  const text = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', ...args],
    { encoding: 'utf8', cwd: repoRoot, maxBuffer: 1 << 24 });
  return JSON.parse(text.trim().split('\n').at(-1)!) as Child;
}

async function main(): Promise<void> {
  const datasets = list('datasets', 'movielens,synthetic');
  const qs = list('q', '0,1,2').map(Number);
  const backends = list('backends', 'wasm,typescript');
  const reps = Number(flag('reps') ?? 5);
  const before = flag('before');
  const out = flag('out') ?? join(repoRoot, 'bench', 'results', `svd-start-${new Date().toISOString().slice(0, 10)}.json`);
  const iterations: Record<string, Record<string, (number | null)[][]>> = {};
  const git = (...args: string[]): string => execFileSync('git', args, { encoding: 'utf8', cwd: repoRoot }).trim();
  const report = {
    command: `npm run bench:svd-start -- ${argv.join(' ')}`.trim(), date: new Date().toISOString(), head: git('rev-parse', 'HEAD'),
    srcChanges: git('status', '--short', '--', 'src').split('\n').filter(Boolean), node: process.version, rank: RANK, loadStart: load(),
    runs: [] as ({ dataset: string; q: number; backend: string; library: string } & Child)[],
  };
  console.log(`bench:svd-start — k = ${RANK}; load ${report.loadStart.join(' ')}`);
  const rows: string[][] = [];
  for (const name of datasets) {
    const runs: { label: string; child: Child }[] = [];
    if (before !== undefined) {
      // the older library's default q (its own), whole starts only: the first in the process, then `reps`
      const child = spawn([name, 'NaN', 'wasm', resolve(before, 'src'), '0', '0', String(reps + 1)]);
      report.runs.push({ dataset: name, q: NaN, backend: 'default', library: before, ...child });
      runs.push({ label: `before (${before})`, child });
    }
    for (const q of qs) for (const backend of backends) {
      const child = spawn([name, String(q), backend, join(repoRoot, 'src'), '1', q === 1 && backend === backends[0] ? '1' : '0', String(reps)]);
      report.runs.push({ dataset: name, q, backend, library: 'working tree', ...child });
      runs.push({ label: `q = ${q}, ${backend}`, child });
      console.log(`  ${name} q ${q} ${backend}: first ${ms(child.stages!.first.total! / 1000)} ms, again ${ms(child.stages!.again.total! / 1000)} ms, whole ${child.whole.map((x) => x.toFixed(1)).join(' ')} ms; load ${child.load.join(' ')}`);
    }
    const fitChild = runs.find((r) => r.child.iterations)?.child;
    const iteration = fitChild?.iterations ? median(fitChild.iterations.slice(1)) : NaN;
    for (const { label, child } of runs) {
      const stages = child.stages;
      const first = stages?.first.total ?? child.whole[0]!, later = stages ? child.whole : child.whole.slice(1);
      const passes = stages ? Object.keys(stages.again).filter((s) => s.startsWith('pass ')).map((s) => ms(stages.again[s]! / 1000)).join(' / ') : '–';
      const orth = stages ? Object.keys(stages.again).filter((s) => s.startsWith('orth ')).map((s) => ms(stages.again[s]! / 1000)).join(' / ') : '–';
      rows.push([name, label, ms(first / 1000), ms(median(later) / 1000), Number.isFinite(iteration) ? (median(later) / iteration).toFixed(1) : '–',
        stages ? `${passes} (first: ${ms(stages.first['pass 0']! / 1000)})` : '–', orth,
        stages ? ms(stages.again['small SVD, U, V']! / 1000) : '–', stages ? ms(stages.again.NNDSVD! / 1000) : '–']);
    }
    if (fitChild?.iterations) console.log(`  ${name}: fast solver, random start: iteration 1 ${fitChild.iterations[0]!.toFixed(1)} ms, later ${iteration.toFixed(1)} ms (median)`);
    if (argv.includes('--iterations')) iterations[name] = await iterationsToTargets(name, qs);
  }
  const table = markdownTable(['data', 'start', 'first in process (ms)', 'later (ms, median)', 'later ÷ one iteration', 'passes (ms, again)', 'orthonormalisations (ms)', 'small SVD, U, V', 'NNDSVD'],
    rows, [false, false, true, true, true, true, true, true, true]);
  console.log(`\n${table}\n\nload at the end ${load().join(' ')}`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ ...report, loadEnd: load(), table, iterations }, null, 1)}\n`);
  console.log(`wrote ${out}`);
}

/** Per seed 1–5: [random's iterations to L*, then per q: [to L20, to L*]] (null: not within 100). */
async function iterationsToTargets(name: string, qs: readonly number[]): Promise<Record<string, (number | null)[][]>> {
  const { loadMtx } = await import('../src/source/from-mtx.js');
  const { fit } = await import('../src/pipeline/fit.js');
  const { nndsvdStart } = await import('../src/pipeline/nndsvd-start.js');
  const source = await loadMtx(PATHS[name]!);
  const lstarFile = JSON.parse(readFileSync(join(repoRoot, 'bench', 'results', 'lstar.json'), 'utf8')) as Record<string, { lstar: number }>;
  const lstar = lstarFile[name === 'synthetic' ? 'synthetic1m' : name]!.lstar;
  const until = async (init: object, seed: number, targets: number[]): Promise<(number | null)[]> => {
    const all = await lastValueFrom(fit(source, { rank: RANK, seed, tol: 0, maxIterations: 100, threads: 1, init } as never).pipe(
      takeWhile((s) => s.final || s.iteration < 20 || s.relativeLoss > Math.min(...targets), true), toArray()));
    const done = all.filter((s) => !s.final && s.iteration >= 1);
    return targets.map((t) => done.find((s) => s.relativeLoss <= t)?.iteration ?? null);
  };
  const result: Record<string, (number | null)[][]> = {};
  for (const seed of [1, 2, 3, 4, 5]) {
    const l20 = (await lastValueFrom(fit(source, { rank: RANK, seed, tol: 0, maxIterations: 20, threads: 1 }).pipe(toArray()))).at(-1)!.relativeLoss;
    const row = [await until('random' as never, seed, [lstar])];
    for (const q of qs) {
      const start = await lastValueFrom(nndsvdStart(source, { rank: RANK, seed, fill: false, powerIterations: q, withH: false }));
      row.push(await until({ W: start.W }, seed, [l20, lstar]));
    }
    result[seed] = row;
    console.log(`  ${name} seed ${seed}: random → L* ${row[0]![0] ?? '—'}; ${qs.map((q, i) => `q = ${q}: L20 ${row[i + 1]![0] ?? '—'}, L* ${row[i + 1]![1] ?? '—'}`).join('; ')}`);
  }
  return result;
}

if (argv[0] === '--child') await child();
else await main();
