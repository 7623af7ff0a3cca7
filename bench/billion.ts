/**
 * Out of core at scale (issue #17): `nmflow fit` on a long-layout Parquet data set of 10 M, 100 M or 1 B nonzeros
 * shaped like count data, with the I/O-only and compute-only pass times beside it. Not run in CI.
 *
 *   npm run bench:billion -- --nnz 10M|100M|1B [--keep] [--temp-dir DIR] [--rank 20] [--passes 20] [--threads 2]
 *                            [--loss l2|l1] [--features 30000] [--per-sample 667] [--compute-max 200M] [--skip-io]
 *                            [--skip-compute] [--out FILE]
 *
 * Data (DuckDB, into DIR/billion-<nnz>/ — DIR defaults to bench/data, git-ignored — deleted at the end unless --keep;
 * an existing complete data set is reused): m = 30 000 features, n = nnz / 667 samples (1 B → 1.5 M), part files of
 * ≤ 50 M rows, row groups of 1 M rows, columns feature INT32, sample INT32, value INT32 (small counts), rows ordered
 * by (sample, feature). Sample s has k_s = 667·(0.25 + 1.5·u_s) nonzeros: the k_s/2 most frequent features (feature
 * frequencies fall off from ~1 to 0 over the first ~580 ranks) and k_s/2 features of its type's window (20 types:
 * rank k_s/2 + (1400·type + jitter + 7t) mod (30 000 − k_s/2)), ranks mapped to ids by r·7919 mod 30 000; values
 * 1 + ⌊8u⁴⌋, plus ⌊10u'⌋ on the 50 most frequent features. The checks: DuckDB's row count, samples and largest ids.
 *
 * Measurements, each in its own process under `/usr/bin/time -v` (peak RSS), library = the compiled snapshot of HEAD:
 * - fit: `node dist/cli/run.js fit DIR --rank 20 --max-iterations 20 --tol 0 --threads 2 --seed 42 --json`
 *   (l1: `--loss l1`); secondsPerPass = (t_N − t_1)/(N − 1) from its JSON lines, the fit's seconds, peak RSS,
 *   final relative loss.
 * - io-only: passes over `fromParquet(DIR).chunks()` doing nothing (the last of 2; of 1 above 50 M nonzeros).
 * - compute-only: the chunks gathered in memory (up to --compute-max nonzeros: the first samples up to that many),
 *   then `fit(fromCsc(…))`, 4 passes: (t_4 − t_1)/3, scaled by nnz / gathered nnz when only a part was gathered
 *   (`computeOnlyScaled` in the JSON).
 * Output: a table on stdout and bench/results/billion-<date>.json (one entry per nnz and loss; a later run of the same
 * size on the same day replaces its entry), with load averages before and after each measurement.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { lastValueFrom, tap } from 'rxjs';
import { makeCscBuilder } from '../src/chunk/csc-builder.js';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import { buildSnapshot } from './lib/build-snapshot.js';
import { markdownTable } from './lib/markdown.js';
import { jsonLines, runCommand, tail } from './lib/run-command.js';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? argv[at + 1] : undefined;
};
const has = (name: string): boolean => argv.includes(`--${name}`);
const count = (text: string): number => {
  const m = /^(\d+(?:\.\d+)?)([kMB]?)$/.exec(text);
  if (!m) throw new Error(`not a count: ${text} (say 10M, 100M, 1B)`);
  return Math.round(Number(m[1]) * ({ '': 1, k: 1e3, M: 1e6, B: 1e9 }[m[2]!] ?? 1));
};
const MB = 2 ** 20;
const ROWS_PER_PART = 50_000_000;

// ---------------------------------------------------------------------------------------------
// Child side: io-only or compute-only over the snapshot library; one JSON line.

async function child(mode: string, dir: string): Promise<void> {
  const lib = pathToFileURL(`${resolve(flag('lib')!)}/`);
  const { fromParquet } = await import(new URL('source/from-parquet.js', lib).href) as typeof import('../src/source/from-parquet.js');
  const source = fromParquet(dir, { layout: 'long' });
  const out: Record<string, unknown> = { mode };
  if (mode === 'io') {
    const passes: { seconds: number; cpu: number; nnz: number; chunks: number; decoderThreadCpu?: number; mainThreadCpu?: number }[] = [];
    for (let p = 0; p < Number(flag('io-passes') ?? 2); p++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const th0 = threadCpu();
      let nnz = 0;
      let chunks = 0;
      await new Promise<void>((done, fail) => source.chunks().subscribe({ next: (c) => { nnz += c.colPtr[c.n]!; chunks++; }, error: fail, complete: done }));
      const cpu = process.cpuUsage(c0);
      const th = threadCpu();
      // The decoder is the busiest thread besides the main one (Linux /proc; the others are V8's GC helpers and libuv).
      const others = [...th].filter(([t]) => t !== String(process.pid)).map(([t, s]) => s - (th0.get(t) ?? 0));
      const split = th.size > 0 ? { mainThreadCpu: (th.get(String(process.pid)) ?? 0) - (th0.get(String(process.pid)) ?? 0), decoderThreadCpu: Math.max(0, ...others) } : {};
      passes.push({ seconds: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6, nnz, chunks, ...split });
    }
    out['passes'] = passes;
  } else {
    const { fit } = await import(new URL('pipeline/fit.js', lib).href) as typeof import('../src/pipeline/fit.js');
    const { fromCsc } = await import(new URL('source/from-csc.js', lib).href) as typeof import('../src/source/from-csc.js');
    const max = Number(flag('compute-max'));
    const builder = makeCscBuilder(Number(flag('features')));
    let gathered = 0;
    await new Promise<void>((done, fail) => {
      const sub = source.chunks().subscribe({
        next: (c: CscChunk) => {
          const z = c.colPtr[c.n]!;
          if (gathered + z > max) { sub?.unsubscribe(); done(); return; }
          builder.append(c, 'bench');
          gathered += z;
        },
        error: fail, complete: done,
      });
    });
    const total = Number(flag('nnz'));
    const matrix = builder.finish();
    const passes = 4;
    const stamps: number[] = [];
    const t0 = performance.now();
    await lastValueFrom(fit(fromCsc(matrix, { chunkSize: 4096 }), {
      rank: Number(flag('rank')), maxIterations: passes, tol: 0, seed: 42, threads: Number(flag('threads')), keepH: false,
      ...(flag('loss') === 'l1' ? { loss: 'l1' as const } : {}),
    }).pipe(tap((s) => { if (!s.final) stamps.push((performance.now() - t0) / 1000); })));
    const perPass = (stamps.at(-1)! - stamps[0]!) / (stamps.length - 1);
    Object.assign(out, { gatheredNnz: gathered, samples: matrix.n, stamps, perPass, scaled: gathered < total * 0.999, perPassScaled: perPass * total / gathered });
  }
  out['maxRssKB'] = process.resourceUsage().maxRSS;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** CPU seconds of each thread of this process (Linux: /proc/self/task/<tid>/stat utime + stime; empty elsewhere). */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync('/proc/self/task')) return out;
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(t, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch { /* the thread has ended */ }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Driver.

interface DataSet { dir: string; rows: number; samples: number; features: number; parts: number; bytes: number; generateSeconds?: number }

async function makeData(root: string, nnz: number, features: number, perSample: number): Promise<DataSet> {
  const label = nnz >= 1e9 ? `${nnz / 1e9}B` : `${nnz / 1e6}M`;
  const dir = join(root, `billion-${label}-f${features}`);
  const n = Math.round(nnz / perSample);
  const parts = Math.max(1, Math.ceil(nnz / ROWS_PER_PART));
  const db = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '3GB', preserve_insertion_order: 'false' });
  const sql = await db.connect();
  let generateSeconds: number | undefined;
  if (!existsSync(join(dir, '_complete'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const t0 = performance.now();
    for (let p = 0; p < parts; p++) {
      const s0 = Math.floor((p * n) / parts);
      const s1 = Math.floor(((p + 1) * n) / parts);
      const path = join(dir, `part-${String(p).padStart(4, '0')}.parquet`);
      await sql.run(`COPY (
        WITH s AS (
          SELECT s, greatest(8, (${perSample} * (0.25 + 1.5 * ((hash(s) % 1000000) / 1000000.0)))::INTEGER) AS k,
                 s % 20 AS type, (hash(s + 7777777) % 200)::INTEGER AS jitter
          FROM range(${s0}, ${s1}) t(s)
        ), e AS (SELECT s, k, type, jitter, unnest(range(k)) AS j FROM s)
        SELECT ((CASE WHEN j < k // 2 THEN j
                      ELSE k // 2 + (type * 1400 + jitter + 7 * (j - k // 2)) % (${features} - k // 2) END) * 7919 % ${features})::INTEGER AS feature,
               s::INTEGER AS sample,
               (1 + floor(8 * pow((hash(s * 4096 + j) % 1000000) / 1000000.0, 4))
                  + CASE WHEN j < 50 THEN floor(10 * ((hash(s * 8192 + j + 1) % 1000) / 1000.0)) ELSE 0 END)::INTEGER AS value
        FROM e ORDER BY sample, feature
      ) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 1048576)`);
      console.log(`#   part ${p + 1}/${parts}: samples ${s0}…${s1 - 1}, ${(statSync(path).size / MB).toFixed(0)} MB, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    generateSeconds = (performance.now() - t0) / 1000;
  }
  const check = await sql.runAndReadAll(`SELECT count(*)::DOUBLE, count(DISTINCT sample)::DOUBLE, max(sample)::DOUBLE, max(feature)::DOUBLE,
    count(DISTINCT feature)::DOUBLE FROM read_parquet('${dir}/*.parquet')`);
  const [rows, distinct, maxSample, maxFeature] = check.getRows()[0]!.map(Number) as [number, number, number, number];
  sql.closeSync();
  if (distinct !== n || maxSample !== n - 1 || maxFeature >= features) throw new Error(`${dir}: ${distinct} samples up to ${maxSample}, features up to ${maxFeature}`);
  writeFileSync(join(dir, '_complete'), `${new Date().toISOString()}\n`);
  const bytes = readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  return { dir, rows, samples: n, features, parts, bytes, ...(generateSeconds === undefined ? {} : { generateSeconds }) };
}

const hasTime = existsSync('/usr/bin/time');

/** The largest size of DIR seen every 2 s (du -sb in a shell loop, since the fit runs synchronously): l1's feature-major copy. */
function watchDisk(dir: string): { stop: () => number } {
  mkdirSync(dir, { recursive: true });
  const log = `${dir}.du`;
  const fd = openSync(log, 'w');
  const loop = spawn('sh', ['-c', `while :; do du -sb '${dir}' | cut -f1; sleep 2; done`], { stdio: ['ignore', fd, 'ignore'], detached: true });
  closeSync(fd);
  return {
    stop: () => {
      try { process.kill(-loop.pid!, 'SIGKILL'); } catch { /* already gone */ }
      const sizes = readFileSync(log, 'utf8').split('\n').filter(Boolean).map(Number);
      rmSync(log, { force: true });
      rmSync(dir, { recursive: true, force: true });
      return Math.max(0, ...sizes);
    },
  };
}

function timed(args: readonly string[], timeoutSeconds: number): { ok: boolean; seconds: number; rssBytes?: number; cpuSeconds?: number; lines: Record<string, unknown>[]; error?: string; load: number[][] } {
  const load = [loadavg()];
  const r = hasTime ? runCommand('/usr/bin/time', ['-v', process.execPath, ...args], { timeoutSeconds }) : runCommand(process.execPath, args, { timeoutSeconds });
  load.push(loadavg());
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const cpu = [/User time \(seconds\): ([\d.]+)/.exec(r.stderr), /System time \(seconds\): ([\d.]+)/.exec(r.stderr)];
  const lines = jsonLines(r.stdout);
  return { ok: r.ok && lines.length > 0, seconds: r.seconds, lines, load, ...(rss ? { rssBytes: Number(rss[1]) * 1024 } : {}),
    ...(cpu[0] && cpu[1] ? { cpuSeconds: Number(cpu[0][1]) + Number(cpu[1][1]) } : {}),
    ...(r.ok ? {} : { error: `${r.error ?? ''}\n${tail(r.stderr, 15)}` }) };
}

async function main(): Promise<void> {
  const nnz = count(flag('nnz') ?? '10M');
  const rank = Number(flag('rank') ?? 20);
  const passes = Number(flag('passes') ?? 20);
  const threads = Number(flag('threads') ?? 2);
  const loss = flag('loss') ?? 'l2';
  const features = Number(flag('features') ?? 30_000);
  const perSample = Number(flag('per-sample') ?? 667);
  const computeMax = count(flag('compute-max') ?? '200M');
  const root = flag('temp-dir') ?? join('bench', 'data');
  const command = `npm run bench:billion -- ${argv.join(' ')}`;
  const loads: Record<string, number[]> = { start: loadavg() };
  console.log(`# ${command}`);
  console.log(`# ${new Date().toISOString()}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`);
  const sha = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const build = buildSnapshot(sha, join('bench', 'data', 'streaming'));
  console.log(`# library: HEAD ${sha.slice(0, 10)} in ${build.dist}`);
  const t0 = performance.now();
  const data = await makeData(root, nnz, features, perSample);
  console.log(`# data: ${data.dir}: ${data.rows} rows, ${data.samples} samples × ${features} features, ${data.parts} part(s), ${(data.bytes / MB).toFixed(0)} MB`
    + (data.generateSeconds === undefined ? ' (reused)' : `, generated in ${data.generateSeconds.toFixed(0)} s`));
  const hours = Math.max(1, nnz / 1e9) * 3600 * 4;
  const base = ['bench/billion.ts', '--lib', build.dist, '--rank', String(rank), '--threads', String(threads), '--loss', loss, '--nnz', String(data.rows),
    '--features', String(features)];

  let io: ReturnType<typeof timed> | undefined;
  if (!has('skip-io')) {
    io = timed(['--import', 'tsx', ...base, '--child', 'io', data.dir, '--io-passes', nnz > 5e7 ? '1' : '2'], hours);
    console.log(`  io-only: ${io.ok ? `${(io.lines.at(-1)!['passes'] as { seconds: number }[]).map((p) => p.seconds.toFixed(2)).join(', ')} s per pass` : io.error}`);
  }
  let compute: ReturnType<typeof timed> | undefined;
  if (!has('skip-compute')) {
    compute = timed(['--import', 'tsx', ...base, '--child', 'compute', data.dir, '--compute-max', String(computeMax)], hours);
    const c = compute.lines.at(-1);
    console.log(`  compute-only: ${compute.ok ? `${(c!['perPass'] as number).toFixed(2)} s per pass on ${c!['gatheredNnz']} nonzeros` : compute.error}`);
  }
  const cli = join(build.dist, 'cli', 'run.js');
  const copyDir = join(root, `l1-copy-${process.pid}`);
  const fitArgs = [cli, 'fit', data.dir, '--rank', String(rank), '--max-iterations', String(passes), '--tol', '0', '--threads', String(threads),
    '--seed', '42', '--json', ...(loss === 'l1' ? ['--loss', 'l1', '--temp-dir', copyDir] : [])];
  const disk = loss === 'l1' ? watchDisk(copyDir) : undefined;
  const fitRun = timed(fitArgs, hours);
  const copyDiskBytes = disk?.stop();
  const its = fitRun.lines.filter((l) => typeof l['iteration'] === 'number');
  const done = fitRun.lines.find((l) => l['done'] === true);
  if (!fitRun.ok || !done) console.log(`  fit FAILED: ${fitRun.error}`);
  const secondsPerPass = its.length > 1 ? ((its.at(-1)!['seconds'] as number) - (its[0]!['seconds'] as number)) / (its.length - 1) : undefined;
  const ioPass = io?.ok ? (io.lines.at(-1)!['passes'] as { seconds: number; cpu: number; decoderThreadCpu?: number }[]).at(-1) : undefined;
  const c = compute?.ok ? compute.lines.at(-1) : undefined;
  const computePass = c ? (c['perPassScaled'] as number) : undefined;
  const bound = ioPass && computePass !== undefined ? Math.max(ioPass.seconds, computePass) : undefined;
  loads['end'] = loadavg();
  const entry = {
    nnz: done?.['nnz'] ?? data.rows, features, samples: data.samples, rank, passes, threads, loss,
    seconds: done?.['fitSeconds'], secondsPerPass, firstPassSeconds: its[0]?.['seconds'],
    ioOnlySecondsPerPass: ioPass?.seconds, ioOnlyCpuSecondsPerPass: ioPass?.cpu, ioOnlyDecoderThreadCpuSecondsPerPass: ioPass?.decoderThreadCpu, computeOnlySecondsPerPass: computePass,
    computeOnlyScaled: c?.['scaled'], computeOnlyGatheredNnz: c?.['gatheredNnz'],
    streamedOverMax: secondsPerPass !== undefined && bound !== undefined ? secondsPerPass / bound : undefined,
    boundBy: ioPass && computePass !== undefined ? (ioPass.seconds > computePass ? 'io' : 'compute') : undefined,
    ...(copyDiskBytes === undefined ? {} : { featureMajorCopyPeakDiskBytes: copyDiskBytes, featureMajorCopyAndFirstPassSeconds: its[0]?.['seconds'] }),
    fitProcessCpuSeconds: fitRun.cpuSeconds, fitProcessWallSeconds: fitRun.seconds,
    peakRssBytes: fitRun.rssBytes, ioOnlyPeakRssBytes: io?.rssBytes, computeOnlyPeakRssBytes: compute?.rssBytes,
    relativeLoss: done?.['relativeLoss'], iterations: done?.['iterations'],
    loadAverages: { ...loads, io: io?.load, compute: compute?.load, fit: fitRun.load },
    commandLine: command, fitCommand: `node ${fitArgs.join(' ')}`,
    data: { dir: data.dir, parts: data.parts, bytes: data.bytes, rows: data.rows, generateSeconds: data.generateSeconds, kept: has('keep') },
    git: sha, date: new Date().toISOString(), benchSeconds: (performance.now() - t0) / 1000,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, totalMemoryGiB: totalmem() / 2 ** 30, node: process.version },
    ...(fitRun.ok ? {} : { error: fitRun.error }),
  };
  const fmt = (x: unknown, d = 2): string => (typeof x === 'number' ? x.toFixed(d) : '—');
  console.log(markdownTable(['nnz', 'm × n', 'loss', 'k', 'threads', 'passes', 'fit s', 's / pass', 'I/O-only s / pass (CPU s: process, decoder thread)', 'compute-only s / pass',
    'streamed / max', 'peak RSS MB', 'relative loss', 'load (1 min) start → end'], [[
    String(entry.nnz), `${features} × ${data.samples}`, loss, String(rank), String(threads), String(passes), fmt(entry.seconds, 0), fmt(secondsPerPass),
    `${fmt(ioPass?.seconds)} (${fmt(ioPass?.cpu)}, ${fmt(ioPass?.decoderThreadCpu)})`, fmt(computePass), fmt(entry.streamedOverMax), fmt(fitRun.rssBytes === undefined ? undefined : fitRun.rssBytes / MB, 0),
    fmt(entry.relativeLoss, 4), `${fmt(loads['start']![0])} → ${fmt(loads['end']![0])}`]], [false, false, false, true, true, true, true, true, true, true, true, true, true, false]));

  const out = flag('out') ?? join('bench', 'results', `billion-${new Date().toISOString().slice(0, 10)}.json`);
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as { runs: typeof entry[] }).runs : [];
  const runs = [...previous.filter((r) => !(r.nnz === entry.nnz && r.loss === entry.loss && r.threads === entry.threads)), entry].sort((a, b) => Number(a.nnz) - Number(b.nnz));
  mkdirSync(join('bench', 'results'), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ runs }, null, 1)}\n`);
  console.log(`wrote ${out}`);
  if (!has('keep')) {
    rmSync(data.dir, { recursive: true, force: true });
    console.log(`# deleted ${data.dir} (--keep keeps it)`);
  }
}

if (argv.includes('--child')) await child(argv[argv.indexOf('--child') + 1]!, argv[argv.indexOf('--child') + 2]!);
else await main();
