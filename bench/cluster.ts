/**
 * `npm run bench:cluster` (issue #14 part 5): the fit on NATS JetStream with 1 and 2 worker processes (1 thread
 * each) against the in-process fit with 2 threads, on the synthetic 10 M-nonzero matrix (20000 × 200000, 0.25 %,
 * rank-10 model; ../shared/peers/make_synthetic.py) split into Parquet part files of 16384 samples ('list' layout,
 * written by DuckDB) in bench/data/ (git-ignored; made when missing). Rank 10, solver 'fast', tol 0, a fixed number
 * of passes; every run is a fresh `nmflow` process (the CLI from the sources, via tsx) on a private nats-server
 * (loopback, temporary storage, monitoring port for the bytes through the broker).
 * Reports: time per pass (median of passes 2…), speed-up of 2 workers over 1, the distributed fit against the
 * in-process fit, bytes through the broker per pass (server in + out), the coordinator's idle share (time waiting
 * for units / pass time), the CPU bound of a pass (every process's CPU seconds over the cores: no pass can be
 * shorter), the in-process fit of the same matrix held in memory (.mtx, 1 and 2 threads: the Parquet fit decodes its
 * files again every pass, the workers keep their units) and the load averages. Also checks that the three models
 * are the same bytes.
 * Writes bench/results/cluster-<date>.json.
 *
 *   npm run bench:cluster [-- --passes 6] [--rank 10] [--rounds 1]   (another rank: cluster-<date>-k<rank>.json; --rounds R:
 *   1 and 2 workers alternately R times, the speed-up the median of the rounds' ratios, each round in `rounds`)
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readModel } from '../src/io/model-file.js';
import { freePort } from '../test/helpers/nats-server.js';

const flag = (name: string, fallback: number): number => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) || fallback : fallback);
const passes = flag('--passes', 6);
const rank = flag('--rank', 10);
const ROUNDS = flag('--rounds', 1);
const MTX = 'bench/data/synthetic-20000x200000-0.25pct.mtx';
const PARTS = 'bench/data/cluster-synthetic-20000x200000';
const PART_SAMPLES = 16384;
const CLI = ['--import', 'tsx', 'src/cli/run.ts'];
const log = (line: string): void => { process.stderr.write(`${line}\n`); };

async function prepare(): Promise<void> {
  if (!existsSync(MTX)) {
    log(`making ${MTX} (make_synthetic.py, 10 M nonzeros)`);
    execFileSync('/usr/bin/python3', ['../shared/peers/make_synthetic.py', MTX, '20000', '200000', '0.0025', '10', '42'], { stdio: 'inherit' });
  }
  if (existsSync(join(PARTS, 'part-012.parquet'))) return;
  log(`writing ${PARTS}/part-*.parquet with DuckDB`);
  mkdirSync(PARTS, { recursive: true });
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const sql = await db.connect();
  await sql.run(`CREATE TABLE a AS SELECT "row" - 1 AS feature, col - 1 AS sample, val AS value FROM read_csv('${MTX}', skip = 3, delim = ' ', header = false,
    columns = {'row': 'INTEGER', 'col': 'INTEGER', 'val': 'DOUBLE'})`);
  for (let p = 0; p * PART_SAMPLES < 200_000; p++) {
    await sql.run(`COPY (SELECT sample, list(feature ORDER BY feature) AS indices, list(value ORDER BY feature) AS "values" FROM a
      WHERE sample >= ${p * PART_SAMPLES} AND sample < ${(p + 1) * PART_SAMPLES} GROUP BY sample ORDER BY sample)
      TO '${join(PARTS, `part-${String(p).padStart(3, '0')}.parquet`)}' (FORMAT parquet)`);
  }
  sql.closeSync();
  db.closeSync();
}

interface Server { url: string; monitor: number; pid: number | undefined; stop(): Promise<void> }

async function startServer(): Promise<Server> {
  const port = await freePort(), monitor = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'nmflow-bench-nats-'));
  const child = spawn('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitor), '-js', '-sd', store], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${monitor}/healthz`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `nats://127.0.0.1:${port}`, monitor, pid: child.pid,
    stop: async () => {
      await new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); });
      rmSync(store, { recursive: true, force: true });
    },
  };
}

const brokerBytes = async (s: Server): Promise<number> => {
  const v = await (await fetch(`http://127.0.0.1:${s.monitor}/varz`)).json() as { in_bytes: number; out_bytes: number };
  return v.in_bytes + v.out_bytes;
};

interface FitRun {
  perPass: number[]; fitSeconds: number; stderr: string;
  /** CPU seconds (user + system, /proc/<pid>/stat) of each process during each pass (from the end of the pass before). */
  cpuPerPass: Record<string, number[]>;
  /** Bytes through the broker (server in + out) during each pass, when a server is watched. */
  brokerBytesPerPass: number[];
}

const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
/** utime + stime of a process in seconds (0 when it is gone). */
const cpuOf = (pid: number | undefined): number => {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICKS;
  } catch { return 0; }
};

/** One `nmflow fit` process: its per-pass times (from the JSON trace), its stderr, the CPU of it and of `watch` per pass. */
async function runFit(args: string[], watch: Record<string, number | undefined> = {}, server?: Server, input = [PARTS, '--layout', 'list']): Promise<FitRun> {
  const child = spawn('node', [...CLI, 'fit', ...input, '--rank', String(rank), '--seed', '1', '--tol', '0', '--max-iterations', String(passes), '--json', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const pids: Record<string, number | undefined> = { fit: child.pid, ...watch };
  const sample = (): Record<string, number> => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuOf(pid)]));
  const samples = [sample()];
  const bytes: Promise<number>[] = server === undefined ? [] : [brokerBytes(server)];
  let out = '', err = '';
  child.stdout.on('data', (b: Buffer) => {
    const text = b.toString();
    // one JSON line per pass (then the final record): a sample at each line's arrival
    for (let i = 0; i < (text.match(/\n/g) ?? []).length; i++) { samples.push(sample()); if (server !== undefined) bytes.push(brokerBytes(server)); }
    out += text;
  });
  child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`nmflow fit ${args.join(' ')} exited with ${code}: ${err}`);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { seconds?: number; fitSeconds?: number });
  const seconds = lines.filter((l) => l.seconds !== undefined).map((l) => l.seconds!);
  const cpuPerPass = Object.fromEntries(Object.keys(pids).map((name) => [name, samples.slice(1, seconds.length + 1).map((s, i) => +(s[name]! - samples[i]![name]!).toFixed(2))]));
  const b = await Promise.all(bytes);
  return {
    perPass: seconds.map((s, i) => s - (i === 0 ? 0 : seconds[i - 1]!)), fitSeconds: lines.at(-1)!.fitSeconds!, stderr: err,
    cpuPerPass, brokerBytesPerPass: b.slice(1, seconds.length + 1).map((x, i) => x - b[i]!),
  };
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
/** Per process: the median CPU seconds of passes 2… */
const medianCpu = (cpu: Record<string, number[]>): Record<string, number> => Object.fromEntries(Object.entries(cpu).map(([name, xs]) => [name, median(xs.slice(1))]));
/**
 * The least a pass can take on this machine's cores given the CPU it used: the median over passes 2… of the CPU seconds
 * of every process (coordinator, nats-server, workers) divided by the cores. A pass shorter than this needs less CPU.
 */
const cpuBound = (cpu: Record<string, number[]>): number => {
  const names = Object.keys(cpu);
  const perPass = cpu[names[0]!]!.map((_, i) => names.reduce((s, n) => s + (cpu[n]![i] ?? 0), 0));
  return median(perPass.slice(1)) / availableParallelism();
};

async function clusterRun(workers: number, out: string): Promise<Record<string, unknown>> {
  const server = await startServer();
  const procs = Array.from({ length: workers }, () => spawn('node', [...CLI, 'worker', '--nats', server.url, '--quiet'], { stdio: 'ignore' }));
  try {
    const before = await brokerBytes(server);
    const load = loadavg();
    const watch: Record<string, number | undefined> = { 'nats-server': server.pid };
    procs.forEach((p, i) => { watch[`worker ${i + 1}`] = p.pid; });
    await new Promise((r) => setTimeout(r, 3000)); // the workers' start (tsx) out of the first pass's CPU
    const run = await runFit(['--nats', server.url, '--out', out], watch, server);
    const bytes = await brokerBytes(server) - before;
    const timings = [...run.stderr.matchAll(/pass (\d+): \d+ units; publish ([\d.]+) s, wait ([\d.]+) s, merge ([\d.]+) s, end of pass ([\d.]+) s/g)]
      .map((m) => ({ pass: Number(m[1]), publish: Number(m[2]), wait: Number(m[3]), merge: Number(m[4]), end: Number(m[5]) }));
    const later = timings.slice(1);
    const total = later.reduce((s, t) => s + t.publish + t.wait + t.merge + t.end, 0);
    return {
      workers, secondsPerPass: median(run.perPass.slice(1)), perPass: run.perPass, fitSeconds: run.fitSeconds,
      brokerBytesPerPass: bytes / passes, brokerBytesEachPass: run.brokerBytesPerPass, cpuSecondsPerPass: run.cpuPerPass, cpuMedianOfLaterPasses: medianCpu(run.cpuPerPass), cpuBoundSecondsPerPass: cpuBound(run.cpuPerPass), coordinatorIdleShare: later.reduce((s, t) => s + t.wait, 0) / total, timings, loadBefore: load, loadAfter: loadavg(),
    };
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.exitCode !== null ? undefined : new Promise((r) => p.once('exit', r)))));
    await server.stop();
  }
}

await prepare();
if (process.argv.includes('--prepare-only')) process.exit(0);
const scratch = process.argv.indexOf('--scratch-workers');
if (scratch > 0) {
  // one fit on NATS only, printed, no result file (measuring while changing the code)
  const t = mkdtempSync(join(tmpdir(), 'nmflow-bench-cluster-'));
  const workers = Number(process.argv[scratch + 1]);
  // 0: the in-process fit with 2 threads
  const r = workers > 0 ? await clusterRun(workers, join(t, 'nats.arrow'))
    : await runFit(['--threads', '2', '--out', join(t, 'local.arrow')]).then((l) => ({ ...l, stderr: undefined, cpuMedianOfLaterPasses: medianCpu(l.cpuPerPass) }));
  log(JSON.stringify({ ...r, timings: undefined }, null, 1));
  rmSync(t, { recursive: true, force: true });
  process.exit(0);
}
mkdirSync('bench/results', { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'nmflow-bench-cluster-'));
try {
  log('in-process fit, 2 threads');
  const loadBefore = loadavg();
  const local = await runFit(['--threads', '2', '--out', join(tmp, 'local.arrow')]);
  const inProcess = { threads: 2, secondsPerPass: median(local.perPass.slice(1)), perPass: local.perPass, fitSeconds: local.fitSeconds, cpuSecondsPerPass: local.cpuPerPass, cpuMedianOfLaterPasses: medianCpu(local.cpuPerPass), loadBefore, loadAfter: loadavg() };
  log(`  ${inProcess.secondsPerPass.toFixed(3)} s per pass; CPU s per pass ${JSON.stringify(inProcess.cpuMedianOfLaterPasses)}`);
  // the same matrix held in memory (.mtx): no Parquet decoded again each pass (the in-process Parquet fit is out of core)
  const inMemory: Record<string, unknown>[] = [];
  for (const threads of [1, 2]) {
    log(`in-process fit of ${MTX} (in memory), ${threads} thread(s)`);
    const run = await runFit(['--threads', String(threads), '--out', join(tmp, `mem-${threads}.arrow`)], {}, undefined, [MTX]);
    inMemory.push({ threads, secondsPerPass: median(run.perPass.slice(1)), perPass: run.perPass, cpuMedianOfLaterPasses: medianCpu(run.cpuPerPass) });
    log(`  ${(inMemory.at(-1)!.secondsPerPass as number).toFixed(3)} s per pass`);
  }
  // --rounds R: 1 and 2 workers alternately R times (the machine is shared: the ratio of each round, and their median)
  const rounds: Record<string, unknown>[][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const runs: Record<string, unknown>[] = [];
    for (const workers of [1, 2]) {
      log(`fit on NATS, ${workers} worker process(es)${ROUNDS > 1 ? `, round ${r + 1} of ${ROUNDS}` : ''}`);
      runs.push(await clusterRun(workers, join(tmp, `nats-${workers}.arrow`)));
      log(`  ${(runs.at(-1)!.secondsPerPass as number).toFixed(3)} s per pass; CPU s per pass ${JSON.stringify(runs.at(-1)!.cpuMedianOfLaterPasses)}; `
        + `${((runs.at(-1)!.brokerBytesPerPass as number) / 1e6).toFixed(0)} MB through the broker per pass; CPU bound ${(runs.at(-1)!.cpuBoundSecondsPerPass as number).toFixed(3)} s per pass`);
    }
    rounds.push(runs);
  }
  const ratios = rounds.map(([a, b]) => (a!.secondsPerPass as number) / (b!.secondsPerPass as number));
  const runs = rounds[0]!;
  // W and d as read back (the files also hold the trace, whose seconds differ)
  const bytesOf = async (f: string): Promise<Buffer> => { const s = await readModel(join(tmp, f)); return Buffer.concat([Buffer.from(s.W.buffer, s.W.byteOffset, s.W.byteLength), Buffer.from(s.d.buffer, s.d.byteOffset, s.d.byteLength)]); };
  const sameBytes = async (a: string, b: string): Promise<boolean> => (await bytesOf(a)).equals(await bytesOf(b));
  const one = runs[0]!.secondsPerPass as number, two = runs[1]!.secondsPerPass as number;
  const result = {
    date: new Date().toISOString(), data: `${PARTS} (20000 × 200000, 10 M nonzeros, ${Math.ceil(200_000 / PART_SAMPLES)} parts, 49 units)`,
    rank, solver: 'fast', passes, inProcess, inProcessInMemory: inMemory, nats: runs,
    speedupTwoWorkersOverOne: ROUNDS > 1 ? median(ratios) : one / two, natsTwoWorkersOverInProcessTwoThreads: two / inProcess.secondsPerPass,
    ...(ROUNDS > 1 ? { rounds: rounds.map(([a, b], i) => ({ oneWorker: a, twoWorkers: b, speedup: ratios[i] })), speedupEachRound: ratios } : {}),
    sameModelBytes: { oneWorkerVsInProcess: await sameBytes('nats-1.arrow', 'local.arrow'), twoWorkersVsInProcess: await sameBytes('nats-2.arrow', 'local.arrow') },
  };
  // (a run on a day that already has one: -2, -3, … — earlier results are not overwritten)
  const stem = `bench/results/cluster-${result.date.slice(0, 10)}${rank === 10 ? '' : `-k${rank}`}`;
  let file = `${stem}.json`;
  for (let i = 2; existsSync(file); i++) file = `${stem}-${i}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`speed-up 2 workers / 1: ${result.speedupTwoWorkersOverOne.toFixed(2)}×; 2 workers / in-process 2 threads: ${result.natsTwoWorkersOverInProcessTwoThreads.toFixed(2)}; wrote ${file}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
