/**
 * Streaming benchmark (issue 4, item 8): large long-layout Parquet files, and per pass the I/O-only
 * time, the compute-only time (the same matrix in memory), the streamed time, and the peak RSS of the
 * streamed least-squares fit as the number of samples grows.
 *
 *   npx tsx bench/streaming.ts [--sizes 1,10,50] [--rounds 2] [--threads 1,2] [--iterations N]
 *                              [--rank 10] [--chunk-size 4096] [--batch-size 65536] [--out FILE] [--before REV]
 *
 * `--before REV` also compiles the committed sources of REV and runs its I/O-only and streamed measurements in
 * the same rounds (modes io-before, stream-before), so that a change is measured side by side under the same load.
 *
 * Data (generated once with DuckDB into bench/data/streaming/, git-ignored): m = 20 000 features,
 * 50 nonzeros per sample, n = nnz / 50 samples (1 M nnz → 20 000 samples, 10 M → 200 000,
 * 50 M → 1 000 000). Columns feature INT32, sample INT32, value DOUBLE, rows ordered by sample, row
 * groups of 1 000 000 rows, DuckDB's defaults otherwise (snappy, dictionary encoding). Structure:
 * sample s belongs to block c = s mod 10; 40 of its nonzeros are distinct features of block c
 * (features 2000c … 2000c + 1999), value (0.5 + u)·(1 + (f mod 5)/4), and 10 are distinct features
 * outside the block, value 0.2·u (u uniform in [0, 1) from hash(row)): a rank-10 block model plus
 * noise, no duplicate (feature, sample) pairs.
 *
 * Every measurement runs in its own child process (`node --import tsx bench/streaming.ts --child …`,
 * under `/usr/bin/time -v` when it exists), so that peak RSS belongs to one measurement:
 * - io: `fromParquet(file).chunks()` subscribed twice, doing nothing with the chunks; the second pass
 *   is reported (the decoder worker and wasm module are warm, as in every pass of a fit after the
 *   first). The file is in the page cache after generation: "I/O" is read + decode + long → CSC,
 *   not disk.
 * - compute: the chunks of one pass gathered into one CSC matrix (not timed), then `fit(fromCsc(matrix,
 *   { chunkSize }))` with tol 0: per-iteration time after the first, (t_N − t_1)/(N − 1).
 * - stream: `fit(fromParquet(file))`, the same options: per-iteration time after the first, and maxRSS.
 * - baseline: the child with every module imported and nothing run (Node + tsx + the libraries): the
 *   part of every RSS figure that is not data.
 * l2, rank 10, seed 42, tol 0, keepH false; `threads` 1 (one compute thread; the Parquet decoder is
 * always its own worker thread) and 2. Rounds are interleaved (each round runs every measurement of
 * every size once); times are the minimum over rounds, RSS the maximum. CPU seconds of the whole
 * process (all threads) are kept next to wall times: on a shared machine, wall time ≫ CPU time means
 * the measurement waited for a core.
 *
 * Output: a table on stdout and bench/results/streaming-<YYYY-MM-DD>.json (every child's figures).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Observable, lastValueFrom, tap } from 'rxjs';
import { DuckDBInstance } from '@duckdb/node-api';
import { makeCscBuilder } from '../src/chunk/csc-builder.js';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import type { CscMatrix } from '../src/source/from-csc.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import type { Snapshot } from '../src/snapshot/snapshot.js';
import { buildSnapshot } from './lib/build-snapshot.js';
import { markdownTable } from './lib/markdown.js';
import { jsonLines, runCommand, tail } from './lib/run-command.js';

const M = 20_000;
const PER_SAMPLE = 50;
const ROW_GROUP = 1_000_000;
const DATA_DIR = join('bench', 'data', 'streaming');
const MB = 1024 * 1024;

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const numbers = (name: string, fallback: number[]): number[] => flag(name)?.split(',').map(Number) ?? fallback;

// ---------------------------------------------------------------------------------------------
// Child side: one measurement, one JSON line on stdout.

interface FitStamp { iteration: number; wall: number; cpu: number; rssMB: number; heapMB: number; heapTotalMB: number; arrayBuffersMB: number }

const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

/** This process's memory; heap and array buffers are the main thread's (workers' heaps and wasm memory only show in rss). */
const memory = (): { rssMB: number; heapMB: number; heapTotalMB: number; arrayBuffersMB: number } => {
  const u = process.memoryUsage();
  return { rssMB: u.rss / MB, heapMB: u.heapUsed / MB, heapTotalMB: u.heapTotal / MB, arrayBuffersMB: u.arrayBuffers / MB };
};

/**
 * The library under test: the compiled snapshot of HEAD made by the driver (`--lib DIR`), or the
 * working tree's sources (`--lib src`, through tsx).
 */
interface Library {
  fit: typeof import('../src/pipeline/fit.js').fit;
  fromCsc: typeof import('../src/source/from-csc.js').fromCsc;
  fromParquet: typeof import('../src/source/from-parquet.js').fromParquet;
}

async function loadLibrary(root: string): Promise<Library> {
  const base = root === 'src' ? new URL('../src/', import.meta.url) : pathToFileURL(`${resolve(root)}/`);
  const load = async <T>(path: string): Promise<T> => await import(new URL(path, base).href) as T;
  const [{ fit }, { fromCsc }, { fromParquet }] = await Promise.all([
    load<typeof import('../src/pipeline/fit.js')>('pipeline/fit.js'),
    load<typeof import('../src/source/from-csc.js')>('source/from-csc.js'),
    load<typeof import('../src/source/from-parquet.js')>('source/from-parquet.js'),
  ]);
  return { fit, fromCsc, fromParquet };
}

function parquetSource(lib: Library, path: string, chunkSize: number, batchSize: number): MatrixSource {
  return lib.fromParquet(path, { layout: 'long', feature: 'feature', sample: 'sample', value: 'value', chunkSize, batchSize });
}

/**
 * Per pass of a fit over `inner`: wall time from subscription to completion, the time spent inside the
 * consumer's `next` (the fit's per-chunk work: checkChunk and the H-update of the chunk), and the
 * main thread's idle time (event-loop idle: waiting for the decoder worker).
 */
interface PassTiming { wall: number; consumer: number; idle: number; chunks: number; mainCpu: number; processCpu: number }

/** CPU seconds of the main thread alone (Linux: /proc/self/task/<pid>/stat, utime + stime at 100 Hz); NaN elsewhere. */
function mainThreadCpu(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function timedSource(inner: MatrixSource, passes: PassTiming[]): MatrixSource {
  const source = {
    name: inner.name,
    rereadable: inner.rereadable,
    get features() { return inner.features; },
    get samples() { return inner.samples; },
    get featureNames() { return inner.featureNames; },
    chunks: (): Observable<CscChunk> => new Observable<CscChunk>((subscriber) => {
      const start = performance.now();
      const elu0 = performance.eventLoopUtilization();
      const main0 = mainThreadCpu();
      const cpu0 = process.cpuUsage();
      let consumer = 0;
      let chunks = 0;
      return inner.chunks().subscribe({
        next: (chunk) => {
          const t = performance.now();
          subscriber.next(chunk);
          consumer += performance.now() - t;
          chunks++;
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          const elu = performance.eventLoopUtilization(elu0);
          passes.push({ wall: (performance.now() - start) / 1000, consumer: consumer / 1000, idle: elu.idle / 1000, chunks,
            mainCpu: mainThreadCpu() - main0, processCpu: cpuSeconds(cpu0) });
          subscriber.complete();
        },
      });
    }),
  };
  // Getters typed `number | undefined` stand for MatrixSource's optional properties (unknown until read).
  return source as unknown as MatrixSource;
}

/** One pass over a source, doing nothing with the chunks. */
async function onePass(source: MatrixSource): Promise<{ seconds: number; cpu: number; idle: number; chunks: number; samples: number; nnz: number; maxChunkNnz: number; maxChunkSamples: number }> {
  const t0 = performance.now();
  const elu0 = performance.eventLoopUtilization();
  const c0 = process.cpuUsage();
  let chunks = 0;
  let samples = 0;
  let nnz = 0;
  let maxChunkNnz = 0;
  let maxChunkSamples = 0;
  await new Promise<void>((resolve, reject) => {
    source.chunks().subscribe({
      next: (c: CscChunk) => {
        chunks++;
        samples += c.n;
        const z = c.colPtr[c.n]!;
        nnz += z;
        maxChunkNnz = Math.max(maxChunkNnz, z);
        maxChunkSamples = Math.max(maxChunkSamples, c.n);
      },
      error: reject,
      complete: resolve,
    });
  });
  const idle = performance.eventLoopUtilization(elu0).idle / 1000;
  return { seconds: (performance.now() - t0) / 1000, cpu: cpuSeconds(c0), idle, chunks, samples, nnz, maxChunkNnz, maxChunkSamples };
}

/** A fit with tol 0; a stamp (wall, process CPU, memory) at every iteration's snapshot. */
async function timedFit(lib: Library, source: MatrixSource, iterations: number, threads: number, rank: number): Promise<{ stamps: FitStamp[]; model: Snapshot }> {
  const stamps: FitStamp[] = [];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const model = await lastValueFrom(lib.fit(source, { rank, maxIterations: iterations, tol: 0, seed: 42, threads, keepH: false }).pipe(
    tap((s) => {
      if (!s.final) stamps.push({ iteration: s.iteration, wall: (performance.now() - t0) / 1000, cpu: cpuSeconds(c0), ...memory() });
    }),
  ));
  return { stamps, model };
}

/** (t_N − t_1) / (N − 1): the time of an iteration once the first (cold start, JIT) is done. */
function perIteration(stamps: readonly FitStamp[], key: 'wall' | 'cpu'): number {
  const first = stamps[0]!;
  const last = stamps[stamps.length - 1]!;
  return stamps.length > 1 ? (last[key] - first[key]) / (stamps.length - 1) : first[key];
}

async function gather(source: MatrixSource): Promise<CscMatrix> {
  const chunks: CscChunk[] = [];
  await new Promise<void>((resolve, reject) => {
    source.chunks().subscribe({ next: (c) => chunks.push(c), error: reject, complete: resolve });
  });
  const builder = makeCscBuilder(chunks[0]?.m ?? M);
  for (const c of chunks) builder.append(c, 'bench');
  chunks.length = 0;
  return builder.finish();
}

async function child(mode: string, path: string): Promise<void> {
  const iterations = Number(flag('iterations') ?? 3);
  const threads = Number(flag('threads') ?? 1);
  const rank = Number(flag('rank') ?? 10);
  const chunkSize = Number(flag('chunk-size') ?? 4096);
  const batchSize = Number(flag('batch-size') ?? 65536);
  const lib = await loadLibrary(flag('lib') ?? 'src');
  const out: Record<string, unknown> = { mode, path, threads, iterations, rank, chunkSize, batchSize };
  if (mode === 'io') {
    const source = parquetSource(lib, path, chunkSize, batchSize);
    out['passes'] = [await onePass(source), await onePass(source)];
  } else if (mode === 'compute' || mode === 'stream') {
    let source: MatrixSource;
    if (mode === 'compute') {
      const t0 = performance.now();
      source = lib.fromCsc(await gather(parquetSource(lib, path, chunkSize, batchSize)), { chunkSize });
      out['gatherSeconds'] = (performance.now() - t0) / 1000;
      out['afterGather'] = memory();
    } else {
      source = parquetSource(lib, path, chunkSize, batchSize);
    }
    const passes: PassTiming[] = [];
    const { stamps, model } = await timedFit(lib, timedSource(source, passes), iterations, threads, rank);
    Object.assign(out, { stamps, passes, perIteration: perIteration(stamps, 'wall'), perIterationCpu: perIteration(stamps, 'cpu'),
      firstIteration: stamps[0]!.wall, relativeLoss: model.relativeLoss, features: model.features, samples: model.samples, nnz: model.nnz });
  } else if (mode !== 'baseline') {
    throw new Error(`unknown child mode ${mode}`);
  }
  out['end'] = memory();
  out['maxRssKB'] = process.resourceUsage().maxRSS;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Driver side.

interface FileInfo { nnz: number; samples: number; path: string; bytes: number; rowGroups: number; maxFeature: number; maxSample: number; sumValue: number; generateSeconds?: number }

async function makeFiles(sizes: readonly number[]): Promise<FileInfo[]> {
  mkdirSync(DATA_DIR, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const sql = await db.connect();
  const files: FileInfo[] = [];
  for (const millions of sizes) {
    const nnz = Math.round(millions * 1e6);
    const n = Math.round(nnz / PER_SAMPLE);
    const path = join(DATA_DIR, `long-${millions}M-m${M}.parquet`);
    let generateSeconds: number | undefined;
    if (!existsSync(path)) {
      const t0 = performance.now();
      const tmp = `${path}.tmp`;
      await sql.run(`COPY (
        SELECT feature::INTEGER AS feature, sample::INTEGER AS sample,
               (CASE WHEN j < 40 THEN (0.5 + u) * (1 + (feature % 5) / 4.0) ELSE 0.2 * u END)::DOUBLE AS value
        FROM (
          SELECT s AS sample, j, u,
            CASE WHEN j < 40 THEN (s % 10) * 2000 + (h1 + j * 37) % 2000
                 ELSE ((s % 10) * 2000 + 2000 + (h2 + (j - 40) * 1801) % 18000) % 20000 END AS feature
          FROM (
            SELECT i // ${PER_SAMPLE} AS s, i % ${PER_SAMPLE} AS j,
                   (hash(i // ${PER_SAMPLE}) % 2000)::BIGINT AS h1, (hash(i // ${PER_SAMPLE} + 4294967296) % 18000)::BIGINT AS h2,
                   (hash(i * 7 + 3) % 1000000)::DOUBLE / 1000000 AS u
            FROM range(${nnz}) r(i)
          )
        )
      ) TO '${tmp}' (FORMAT parquet, ROW_GROUP_SIZE ${ROW_GROUP})`);
      execFileSync('mv', [tmp, path]);
      generateSeconds = (performance.now() - t0) / 1000;
    }
    const reader = await sql.runAndReadAll(`SELECT count(*)::DOUBLE, max(feature)::DOUBLE, max(sample)::DOUBLE, sum(value)::DOUBLE,
      count(DISTINCT sample)::DOUBLE FROM read_parquet('${path}')`);
    const [count, maxFeature, maxSample, sumValue, distinct] = reader.getRows()[0]!.map(Number) as [number, number, number, number, number];
    const groups = await sql.runAndReadAll(`SELECT count(DISTINCT row_group_id)::DOUBLE FROM parquet_metadata('${path}')`);
    if (count !== nnz || distinct !== n || maxSample !== n - 1) throw new Error(`${path}: ${count} rows, ${distinct} samples; expected ${nnz}, ${n}`);
    files.push({ nnz, samples: n, path, bytes: statSync(path).size, rowGroups: Number(groups.getRows()[0]![0]), maxFeature, maxSample, sumValue,
      ...(generateSeconds === undefined ? {} : { generateSeconds }) });
  }
  sql.closeSync();
  return files;
}

interface ChildRun {
  mode: string; nnz: number; threads: number; round: number; load1: number; wallSeconds: number;
  timeRssKB?: number; ok: boolean; error?: string; result?: Record<string, unknown>;
}

const hasTime = existsSync('/usr/bin/time');

/** Runs `node args…` under /usr/bin/time -v (when present); the last JSON line of stdout is the result. */
function runNode(args: readonly string[]): { ok: boolean; seconds: number; rssKB?: number; lines: Record<string, unknown>[]; error?: string } {
  const r = hasTime ? runCommand('/usr/bin/time', ['-v', process.execPath, ...args], { timeoutSeconds: 900 })
    : runCommand(process.execPath, args, { timeoutSeconds: 900 });
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const lines = jsonLines(r.stdout);
  return { ok: r.ok && lines.length > 0, seconds: r.seconds, lines, ...(rss ? { rssKB: Number(rss[1]) } : {}),
    ...(r.ok && lines.length > 0 ? {} : { error: `${r.error ?? 'no JSON output'}\n${tail(r.stderr, 15)}` }) };
}

interface Settings { dist: string; beforeDist?: string; rank: number; chunkSize: number; batchSize: number; iterationsFor: (nnz: number) => number }

function runChild(s: Settings, mode: string, file: FileInfo | undefined, round: number, threads: number): ChildRun {
  const iterations = file ? s.iterationsFor(file.nnz) : 1;
  const before = mode.endsWith('-before');
  const args = ['--import', 'tsx', 'bench/streaming.ts', '--child', mode.replace(/-before$/, ''), file?.path ?? '-', '--lib', before ? s.beforeDist! : s.dist,
    '--threads', String(threads),
    '--iterations', String(iterations), '--rank', String(s.rank), '--chunk-size', String(s.chunkSize), '--batch-size', String(s.batchSize)];
  const load1 = loadavg()[0]!;
  const r = runNode(args);
  const result = r.lines.at(-1);
  return { mode, nnz: file?.nnz ?? 0, threads, round, load1, wallSeconds: r.seconds, ok: r.ok,
    ...(r.rssKB === undefined ? {} : { timeRssKB: r.rssKB }), ...(result ? { result } : {}), ...(r.error ? { error: r.error } : {}) };
}

/** The CLI (plain Node, the compiled snapshot): `nmflow fit file.parquet … --json`, or `--help` for its baseline. */
function runCli(s: Settings, file: FileInfo | undefined, round: number): ChildRun {
  const cli = join(s.dist, 'cli', 'run.js');
  const load1 = loadavg()[0]!;
  if (!file) {
    const r = runCommand(hasTime ? '/usr/bin/time' : process.execPath, [...(hasTime ? ['-v', process.execPath] : []), cli, '--help']);
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    return { mode: 'cli-baseline', nnz: 0, threads: 1, round, load1, wallSeconds: r.seconds, ok: r.ok && rss !== null,
      ...(rss ? { timeRssKB: Number(rss[1]) } : {}), ...(r.ok ? {} : { error: tail(r.stderr, 10) }) };
  }
  const iterations = s.iterationsFor(file.nnz);
  const r = runNode([cli, 'fit', file.path, '--rank', String(s.rank), '--max-iterations', String(iterations), '--tol', '0', '--seed', '42',
    '--threads', '1', '--chunk-size', String(s.chunkSize), '--json']);
  const its = r.lines.filter((l) => typeof l['iteration'] === 'number' && typeof l['seconds'] === 'number');
  const done = r.lines.find((l) => l['done'] === true);
  const stamps = its.map((l) => ({ iteration: l['iteration'] as number, wall: l['seconds'] as number }));
  const ok = r.ok && done !== undefined && stamps.length === iterations;
  const result = ok ? {
    stamps, perIteration: (stamps.at(-1)!.wall - stamps[0]!.wall) / Math.max(1, stamps.length - 1), firstIteration: stamps[0]!.wall,
    fitSeconds: done['fitSeconds'], loadSeconds: done['loadSeconds'], samples: done['samples'], nnz: done['nnz'], relativeLoss: done['relativeLoss'],
  } : undefined;
  return { mode: 'cli', nnz: file.nnz, threads: 1, round, load1, wallSeconds: r.seconds, ok,
    ...(r.rssKB === undefined ? {} : { timeRssKB: r.rssKB }), ...(result ? { result } : {}),
    ...(ok ? {} : { error: r.error ?? `expected ${iterations} iterations and a final line` }) };
}

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}`;
  }
}

const fmt = (x: number | undefined, digits = 3): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toPrecision(digits));
const mb = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(0));
const max = (xs: readonly number[]): number | undefined => (xs.length ? Math.max(...xs) : undefined);
const mean = (xs: readonly number[]): number | undefined => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
const sizeLabel = (nnz: number): string => `${nnz / 1e6} M`;

async function main(): Promise<void> {
  const sizes = numbers('sizes', [1, 10, 50]);
  const rssOnly = numbers('rss-only', [25]).filter((x) => x > 0 && !sizes.includes(x));
  const rounds = Number(flag('rounds') ?? 2);
  const threadCounts = numbers('threads', [1, 2]);
  const fixedIterations = flag('iterations');
  const settings: Settings = {
    dist: '', rank: Number(flag('rank') ?? 10), chunkSize: Number(flag('chunk-size') ?? 4096), batchSize: Number(flag('batch-size') ?? 65536),
    // Enough passes for a steady state on the small file (a pass of 1 M nonzeros takes a quarter of a second); 3 on the large ones.
    iterationsFor: (nnz) => (fixedIterations ? Number(fixedIterations) : nnz <= 2e6 ? 10 : nnz <= 20e6 ? 4 : 3),
  };
  const { rank, chunkSize, batchSize } = settings;
  const date = new Date().toISOString().slice(0, 10);
  const outPath = flag('out') ?? join('bench', 'results', `streaming-${date}.json`);
  const command = `npx tsx bench/streaming.ts ${argv.join(' ')}`.trim();
  const sha = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const dirty = (): string[] => execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  const dirtyAtStart = dirty();
  const uptimes: string[] = [uptime()];
  const started = performance.now();
  console.log(`# ${command}`);
  console.log(`# ${uptimes[0]} (${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version})`);
  const build = buildSnapshot(sha, DATA_DIR);
  settings.dist = build.dist;
  const beforeRev = flag('before');
  const beforeSha = beforeRev ? execFileSync('git', ['rev-parse', beforeRev], { encoding: 'utf8' }).trim() : undefined;
  if (beforeSha) {
    settings.beforeDist = buildSnapshot(beforeSha, DATA_DIR).dist;
    console.log(`# before: ${beforeRev} = ${beforeSha.slice(0, 10)} compiled into ${settings.beforeDist} (modes io-before, stream-before)`);
  }
  console.log(`# library: HEAD ${sha.slice(0, 10)} compiled into ${build.dist}${build.seconds === undefined ? ' (existing build)' : ` in ${build.seconds.toFixed(1)} s`}`
    + `${build.warnings ? ' (tsc reported errors; output emitted)' : ''}; not measured: ${dirtyAtStart.length} uncommitted change(s) in src/`);
  console.log(`# l2, rank ${rank}, tol 0, seed 42, chunkSize ${chunkSize}, batchSize ${batchSize}, rounds ${rounds}, threads ${threadCounts.join(',')}; `
    + `maxRSS from ${hasTime ? '/usr/bin/time -v' : 'process.resourceUsage()'}`);

  const all = await makeFiles([...sizes, ...rssOnly]);
  const files = all.filter((f) => sizes.includes(f.nnz / 1e6));
  const rssFiles = all.filter((f) => rssOnly.includes(f.nnz / 1e6));
  for (const f of all) {
    console.log(`# ${f.path}: ${f.nnz} rows, ${f.samples} samples, ${(f.bytes / MB).toFixed(1)} MB, ${f.rowGroups} row group(s), `
      + `${settings.iterationsFor(f.nnz)} iterations${rssOnly.includes(f.nnz / 1e6) ? ' (RSS only)' : ''}`
      + (f.generateSeconds === undefined ? '' : `; generated in ${f.generateSeconds.toFixed(1)} s`));
  }

  const runs: ChildRun[] = [];
  const rssMB = (run: ChildRun): number => (run.timeRssKB ?? Number(run.result?.['maxRssKB'] ?? NaN)) / 1024;
  const record = (run: ChildRun): void => {
    runs.push(run);
    const r = run.result;
    const what = !run.ok ? `FAILED: ${run.error}`
      : run.mode.startsWith('io') ? `pass 2 ${fmt((r!['passes'] as { seconds: number }[])[1]!.seconds)} s`
        : run.mode === 'baseline' || run.mode === 'cli-baseline' ? '-'
          : `${fmt(r!['perIteration'] as number)} s/it after it. 1${r!['perIterationCpu'] === undefined ? '' : ` (CPU ${fmt(r!['perIterationCpu'] as number)} s)`}`
            + `, first ${fmt(r!['firstIteration'] as number)} s`;
    console.log(`  round ${run.round} ${run.mode.padEnd(12)} ${sizeLabel(run.nnz).padStart(5)} T=${run.threads} load ${run.load1.toFixed(2)}: ${what}; `
      + `maxRSS ${mb(rssMB(run))} MB; process ${run.wallSeconds.toFixed(1)} s`);
  };
  for (let round = 1; round <= rounds; round++) {
    console.log(`# round ${round}: ${uptime()}`);
    record(runChild(settings, 'baseline', undefined, round, 1));
    record(runCli(settings, undefined, round));
    for (const f of files) {
      record(runChild(settings, 'io', f, round, 1));
      if (beforeSha) record(runChild(settings, 'io-before', f, round, 1));
      for (const t of threadCounts) {
        // Alternate the order so that a burst of load does not always hit the same mode.
        const order = (round + t) % 2 === 0 ? ['compute', 'stream'] : ['stream', 'compute'];
        if (beforeSha) order.splice(round % 2, 0, 'stream-before');
        for (const mode of order) record(runChild(settings, mode, f, round, t));
      }
      record(runCli(settings, f, round));
    }
    for (const f of rssFiles) {
      record(runChild(settings, 'stream', f, round, 1));
      record(runCli(settings, f, round));
    }
  }
  uptimes.push(uptime());
  const dirtyAtEnd = dirty();
  const benchSeconds = (performance.now() - started) / 1000;
  console.log(`# end (${(benchSeconds / 60).toFixed(1)} min): ${uptimes.at(-1)}`);

  // ---- Time per pass.
  const ok = (mode: string, nnz: number, threads?: number): ChildRun[] =>
    runs.filter((r) => r.ok && r.mode === mode && r.nnz === nnz && (threads === undefined || r.threads === threads));
  const num = (run: ChildRun, key: string): number => run.result![key] as number;
  const best = (list: ChildRun[]): ChildRun | undefined => list.reduce<ChildRun | undefined>((b, r) => (b && num(b, 'perIteration') <= num(r, 'perIteration') ? b : r), undefined);
  type IoPass = { seconds: number; cpu: number; idle: number; maxChunkNnz: number };
  const ioPass = (run: ChildRun): IoPass => (run.result!['passes'] as IoPass[])[1]!;
  const timeRows: string[][] = [];
  const breakdownRows: string[][] = [];
  const speed: Record<string, unknown>[] = [];
  for (const f of files) {
    const bestIo = (mode: string) => {
      const run = ok(mode, f.nnz).reduce<ChildRun | undefined>((b, r) => (b && ioPass(b).seconds <= ioPass(r).seconds ? b : r), undefined);
      return run ? ioPass(run) : undefined;
    };
    const io = bestIo('io');
    const ioBefore = bestIo('io-before');
    for (const t of threadCounts) {
      const c = best(ok('compute', f.nnz, t));
      const st = best(ok('stream', f.nnz, t));
      const compute = c ? num(c, 'perIteration') : undefined;
      const stream = st ? num(st, 'perIteration') : undefined;
      const stb = best(ok('stream-before', f.nnz, t));
      const streamBefore = stb ? num(stb, 'perIteration') : undefined;
      const boundBefore = ioBefore === undefined || compute === undefined ? undefined : Math.max(ioBefore.seconds, compute);
      const ratioBefore = streamBefore === undefined || boundBefore === undefined ? undefined : streamBefore / boundBefore;
      const bound = io === undefined || compute === undefined ? undefined : Math.max(io.seconds, compute);
      const ratio = stream === undefined || bound === undefined ? undefined : stream / bound;
      const sum = io === undefined || compute === undefined ? undefined : io.seconds + compute;
      // Where a pass goes (passes after the first): inside the fit's per-chunk step, main thread idle
      // (waiting for the decoder worker), main thread busy in the source (IPC → Arrow, long → CSC), end of pass.
      const parts = (run: ChildRun | undefined) => {
        if (!run) return undefined;
        const passes = (run.result!['passes'] as PassTiming[]).slice(1);
        const wall = mean(passes.map((p) => p.wall))!;
        const step = mean(passes.map((p) => p.consumer))!;
        const idle = mean(passes.map((p) => p.idle))!;
        return { wall, step, idle, source: wall - step - idle, endOfPass: num(run, 'perIteration') - wall,
          mainCpu: mean(passes.map((p) => p.mainCpu)), processCpu: mean(passes.map((p) => p.processCpu)) };
      };
      const sp = parts(st);
      const cp = parts(c);
      speed.push({
        nnz: f.nnz, samples: f.samples, threads: t, ioSeconds: io?.seconds, ioCpuSeconds: io?.cpu, ioMainIdleSeconds: io?.idle,
        ioRowsPerSecond: io ? f.nnz / io.seconds : undefined, computeSeconds: compute, computeCpuSeconds: c ? num(c, 'perIterationCpu') : undefined,
        streamSeconds: stream, streamCpuSeconds: st ? num(st, 'perIterationCpu') : undefined, ratio, ratioToSum: stream !== undefined && sum !== undefined ? stream / sum : undefined,
        goalMet: ratio === undefined ? undefined : ratio <= 1.2, streamPass: sp, computePass: cp,
        ...(beforeSha ? { before: { ioSeconds: ioBefore?.seconds, streamSeconds: streamBefore, ratio: ratioBefore,
          streamCpuSeconds: stb ? num(stb, 'perIterationCpu') : undefined, streamPass: parts(stb) } } : {}),
      });
      timeRows.push([sizeLabel(f.nnz), `${M} × ${f.samples}`, String(t), fmt(io?.seconds), io ? (f.nnz / io.seconds / 1e6).toFixed(1) : '—',
        fmt(compute), fmt(stream), fmt(ratio), sum !== undefined && stream !== undefined ? fmt(stream / sum) : '—',
        ratio === undefined ? '—' : ratio <= 1.2 ? 'yes' : 'no',
        ...(beforeSha ? [fmt(ioBefore?.seconds), fmt(streamBefore), fmt(ratioBefore)] : [])]);
      if (t === 1 && sp && cp && io) {
        breakdownRows.push([sizeLabel(f.nnz), fmt(io.seconds), fmt(io.seconds - io.idle), fmt(io.idle), fmt(cp.step), fmt(cp.endOfPass),
          fmt(stream), fmt(sp.step), fmt(sp.source), fmt(sp.idle), fmt(sp.endOfPass)]);
      }
    }
  }

  // ---- Peak RSS.
  const baselineMB = max(runs.filter((r) => r.ok && r.mode === 'baseline').map(rssMB));
  const cliBaselineMB = max(runs.filter((r) => r.ok && r.mode === 'cli-baseline').map(rssMB));
  const memoryRows: string[][] = [];
  const memory: Record<string, unknown>[] = [];
  const chunkNnz = max(runs.filter((r) => r.ok && r.mode === 'io').map((r) => ioPass(r).maxChunkNnz)) ?? chunkSize * PER_SAMPLE;
  const chunkMB = (chunkNnz * 12 + 4 * (chunkSize + 1)) / MB;
  const wMB = (8 * rank * M) / MB;
  for (const f of [...files, ...rssFiles].sort((a, b) => a.nnz - b.nnz)) {
    const hMB = (8 * rank * f.samples) / MB;
    const hCapacityMB = (8 * rank * Math.max(1024, 1024 * 2 ** Math.ceil(Math.log2(f.samples / 1024)))) / MB;
    const budget = wMB + hMB + 2 * chunkMB + 150;
    const rss = max(ok('stream', f.nnz, 1).map(rssMB));
    const cli = max(ok('cli', f.nnz).map(rssMB));
    const row = {
      nnz: f.nnz, samples: f.samples, hMB, hCapacityMB, wMB, chunkMB, budgetMB: budget, streamMaxRssMB: rss, cliMaxRssMB: cli,
      streamRssMinusH: rss === undefined ? undefined : rss - hMB, cliRssMinusH: cli === undefined ? undefined : cli - hMB,
      streamRssMinusHMinusBaseline: rss === undefined || baselineMB === undefined ? undefined : rss - hMB - baselineMB,
      cliRssMinusHMinusBaseline: cli === undefined || cliBaselineMB === undefined ? undefined : cli - hMB - cliBaselineMB,
      streamThreads2MaxRssMB: max(ok('stream', f.nnz, 2).map(rssMB)), ioMaxRssMB: max(ok('io', f.nnz).map(rssMB)),
      computeMaxRssMB: max(ok('compute', f.nnz, 1).map(rssMB)),
      streamWithinBudget: rss === undefined ? undefined : rss <= budget, cliWithinBudget: cli === undefined ? undefined : cli <= budget,
      allStreamRssMB: ok('stream', f.nnz, 1).map(rssMB), allCliRssMB: ok('cli', f.nnz).map(rssMB),
    };
    memory.push(row);
    memoryRows.push([sizeLabel(f.nnz), String(f.samples), mb(hMB), mb(rss), mb(row.streamRssMinusH), mb(row.streamRssMinusHMinusBaseline),
      mb(cli), mb(row.cliRssMinusH), mb(row.cliRssMinusHMinusBaseline), mb(budget), mb(row.streamThreads2MaxRssMB), mb(row.ioMaxRssMB), mb(row.computeMaxRssMB)]);
  }
  const spread = (key: 'streamRssMinusH' | 'cliRssMinusH'): { values: number[]; spreadMB?: number } => {
    const values = memory.map((r) => r[key] as number | undefined).filter((x): x is number => x !== undefined);
    return { values, ...(values.length ? { spreadMB: Math.max(...values) - Math.min(...values) } : {}) };
  };
  const flatStream = spread('streamRssMinusH');
  const flatCli = spread('cliRssMinusH');

  const right = (n: number): boolean[] => Array.from({ length: n }, (_, i) => i > 0);
  console.log('\nTime per pass, seconds (I/O-only: second pass; compute-only and streamed: per iteration after the first; minimum over rounds)\n');
  console.log(markdownTable(['nnz', 'm × n', 'threads', 'I/O-only', 'I/O M rows/s', 'compute-only', 'streamed',
    'streamed / max(I/O, compute)', 'streamed / (I/O + compute)', '≤ 1.2×?',
    ...(beforeSha ? ['before: I/O-only', 'before: streamed', 'before: streamed / max(I/O, compute)'] : [])], timeRows, right(beforeSha ? 13 : 10)));
  console.log('\nWhere a pass goes, one compute thread, seconds (mean over the passes after the first, of the fastest run). I/O-only: main thread busy '
    + '(IPC → Arrow, long → CSC) and idle (waiting for the decoder worker). Fit: inside the per-chunk step (checkChunk + H-update), '
    + 'main thread busy in the source, main thread idle, end of pass (W-update, snapshot)\n');
  console.log(markdownTable(['nnz', 'I/O pass', 'I/O main busy', 'I/O main idle', 'compute: chunk steps', 'compute: end of pass',
    'streamed iteration', 'streamed: chunk steps', 'streamed: source on main', 'streamed: main idle', 'streamed: end of pass'], breakdownRows, right(11)));
  const cpuRows = speed.map((r) => {
    const sp = r['streamPass'] as { mainCpu?: number; processCpu?: number } | undefined;
    const cp = r['computePass'] as { mainCpu?: number; processCpu?: number } | undefined;
    const bp = (r['before'] as { streamPass?: { mainCpu?: number; processCpu?: number } } | undefined)?.streamPass;
    return [sizeLabel(r['nnz'] as number), String(r['threads']), fmt(cp?.mainCpu), fmt(cp?.processCpu), fmt(sp?.mainCpu), fmt(sp?.processCpu), fmt(bp?.mainCpu), fmt(bp?.processCpu)];
  });
  console.log('\nCPU seconds per pass (passes after the first, mean; main thread from /proc, process = all threads): robust to the load, unlike wall time\n');
  console.log(markdownTable(['nnz', 'threads', 'compute: main', 'compute: process', 'streamed: main', 'streamed: process', 'before: main', 'before: process'], cpuRows, right(8)));
  console.log(`\nPeak RSS, MB (maximum over rounds). H term = 8·k·n (H is kept for warm starts; its array grows by doubling). `
    + `Baselines (nothing read): tsx child ${mb(baselineMB)}, CLI --help ${mb(cliBaselineMB)}. `
    + `Budget = W (8·m·k = ${wMB.toFixed(1)}) + H + two chunks (2 × ${chunkMB.toFixed(1)}) + 150.\n`);
  console.log(markdownTable(['nnz', 'n', 'H term', 'streamed fit', '− H', '− H − baseline', 'CLI fit', '− H', '− H − baseline',
    'budget', 'streamed T=2', 'I/O-only', 'compute-only'], memoryRows, right(13)));
  console.log(`\nRSS − H over n = ${memory.map((r) => r['samples']).join(', ')}: streamed fit ${flatStream.values.map(mb).join(', ')} MB `
    + `(spread ${mb(flatStream.spreadMB)}); CLI ${flatCli.values.map(mb).join(', ')} MB (spread ${mb(flatCli.spreadMB)})`);
  if (dirtyAtEnd.join('\n') !== dirtyAtStart.join('\n')) console.log('# the working tree of src/ changed during the run (not measured: the library is the HEAD snapshot)');

  mkdirSync(join('bench', 'results'), { recursive: true });
  writeFileSync(outPath, `${JSON.stringify({
    command, date: new Date().toISOString(), benchSeconds,
    git: { head: sha, library: build.dist, before: beforeSha, beforeLibrary: settings.beforeDist, uncommittedSrcAtStart: dirtyAtStart, uncommittedSrcAtEnd: dirtyAtEnd, buildWarnings: build.warnings },
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, totalMemoryGiB: totalmem() / 2 ** 30, node: process.version },
    uptime: uptimes,
    settings: { m: M, perSample: PER_SAMPLE, rowGroup: ROW_GROUP, rank, chunkSize, batchSize, rounds, threads: threadCounts, rssOnly,
      iterations: Object.fromEntries(all.map((f) => [f.nnz, settings.iterationsFor(f.nnz)])), loss: 'l2', tol: 0, seed: 42, timeV: hasTime },
    files: all, speed, memory: { baselineMB, cliBaselineMB, rows: memory, streamRssMinusH: flatStream, cliRssMinusH: flatCli },
    tables: { time: timeRows, breakdown: breakdownRows, memory: memoryRows }, runs,
  }, null, 1)}\n`);
  console.log(`\nwrote ${outPath}`);
}

if (argv[0] === '--child') {
  await child(argv[1]!, argv[2]!);
  process.exit(0);
} else {
  await main();
}
