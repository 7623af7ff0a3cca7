/**
 * Fuzz harness for every reader (issue #13): `npm run fuzz -- --seconds N [--seed S] [--format f[,g…]]`
 * with f ∈ mtx | arrow | parquet | csv | checkpoint | model (default: all, in turn).
 *
 * Inputs are the corpus (the project's fixtures — ../shared/fixtures, examples/data, ../shared/data/pbmc_small
 * — and small files this script writes with the project's own writers into bench/data/fuzz-corpus/) mutated
 * by a seeded byte mutator (bench/lib/fuzz-mutate.ts). Each input is read in a child process
 * (bench/lib/fuzz-target.ts) with a time bound, and counted in one class:
 *   typed   an NmfError whose message names the file and says what is wrong in the project's words
 *   unclear an NmfError without a location, or in a library's words
 *   same    accepted, the same result as the unmutated file        other  accepted, another result
 *   crash   any other error, an uncaught exception, a child that died
 *   hang    no reply within --timeout seconds (default 5), twice: the input is retried once, alone, with 3× the time
 *   oom     the child ran out of memory (heap limit, "Array buffer allocation failed", killed by the kernel)
 * Failing inputs (crash, hang, oom, unclear) are saved in bench/data/fuzz-failures/ with a .json saying
 * what happened. Prints one summary line (and a table per format); exits 1 when any input crashed, hung,
 * ran out of memory or was unclear. Options: --timeout s, --heap MB (child's V8 heap, default 1024),
 * --json (the summary as JSON), --quiet, --log FILE (one line per input: format, outcome, message).
 * `--replay bench/data/fuzz-failures/<name>` reads one saved input again, as the run did, and prints what happens.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBatches } from '../src/cli/convert-command.js';
import { writeModel } from '../src/io/model-file.js';
import { makeRandom } from '../src/kernel/random.js';
import { openTableWriter } from '../src/io/write-table.js';
import type { FitOptions } from '../src/options.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromCsc, splitColumns, type CscMatrix } from '../src/source/from-csc.js';
import type { SourceOptions } from '../src/source/layout.js';
import { readMtx } from '../src/source/read-mtx.js';
import { writeMtx } from '../src/format/write-mtx.js';
import { makeMutator } from './lib/fuzz-mutate.js';
import type { TargetKind, TargetReply, TargetRequest } from './lib/fuzz-target.js';

const ROOT = new URL('../', import.meta.url).pathname;
const SHARED = join(ROOT, '..', 'shared');
const CORPUS = join(ROOT, 'bench/data/fuzz-corpus');
const FAILURES = join(ROOT, 'bench/data/fuzz-failures');
const KINDS: readonly TargetKind[] = ['mtx', 'arrow', 'parquet', 'csv', 'checkpoint', 'model'];
const CORPUS_VERSION = '2'; // 2: checkpoints and models with checksums (issue #13)

type Outcome = 'typed' | 'unclear' | 'same' | 'other' | 'crash' | 'hang' | 'oom';
const OUTCOMES: readonly Outcome[] = ['typed', 'unclear', 'same', 'other', 'crash', 'hang', 'oom'];
const FAILING: ReadonlySet<Outcome> = new Set(['unclear', 'crash', 'hang', 'oom']);

interface Seed {
  readonly kind: TargetKind;
  readonly file: string;
  /** File name extension of the inputs made from it (checkpoints: the file inside the directory). */
  readonly ext: string;
  readonly text: boolean;
  readonly layout?: SourceOptions;
  readonly resume?: TargetRequest['resume'];
  digest?: string;
}

function parseArgs(argv: readonly string[]): {
  seconds: number; seed: number; kinds: TargetKind[]; timeout: number; heap: number; json: boolean; quiet: boolean; log: string | undefined; replay: string | undefined;
} {
  const get = (name: string): string | undefined => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
  const number = (name: string, fallback: number): number => {
    const v = get(name);
    if (v === undefined) return fallback;
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`--${name}: expected a positive number, got ${v}`);
    return x;
  };
  const kinds = (get('format') ?? KINDS.join(',')).split(',').map((k) => k.trim()) as TargetKind[];
  for (const k of kinds) if (!KINDS.includes(k)) throw new Error(`--format: expected ${KINDS.join(' | ')}, got ${k}`);
  return {
    seconds: number('seconds', 60), seed: Math.floor(number('seed', 1 + Math.floor(Math.random() * 2 ** 31))), kinds,
    timeout: number('timeout', 5), heap: number('heap', 1024), json: argv.includes('--json'), quiet: argv.includes('--quiet'), log: get('log'), replay: get('replay'),
  };
}

/** The first `n` samples of a matrix. */
function firstSamples(A: CscMatrix, n: number): CscMatrix {
  const nnz = A.colPtr[n]!;
  return { m: A.m, n, colPtr: A.colPtr.slice(0, n + 1), rowIdx: A.rowIdx.slice(0, nnz), values: A.values.slice(0, nnz) };
}

/** Small files written by the project's own writers (kept between runs; rewritten when CORPUS_VERSION changes). */
async function generatedSeeds(): Promise<Seed[]> {
  const stamp = join(CORPUS, `version-${CORPUS_VERSION}`);
  const pbmc = join(SHARED, 'data/pbmc_small.mtx');
  const fresh = !existsSync(stamp);
  if (fresh) { rmSync(CORPUS, { recursive: true, force: true }); mkdirSync(CORPUS, { recursive: true }); }
  const seeds: Seed[] = [];
  const A = await readMtx(pbmc);
  const small = firstSamples(A, 24);
  // Matrix Market: general real, integer with comments, pattern, symmetric.
  const mtx = (name: string, text: string): void => {
    if (fresh) writeFileSync(join(CORPUS, name), text);
    seeds.push({ kind: 'mtx', file: join(CORPUS, name), ext: '.mtx', text: true });
  };
  if (fresh) await writeMtx(join(CORPUS, 'small.mtx'), small);
  seeds.push({ kind: 'mtx', file: join(CORPUS, 'small.mtx'), ext: '.mtx', text: true });
  mtx('integer.mtx', '%%MatrixMarket matrix coordinate integer general\n% a comment\n%\n4 5 6\n1 1 3\n2 1 1\n4 2 7\n3 3 2\n1 5 9\n4 5 1\n');
  mtx('pattern.mtx', '%%MatrixMarket matrix coordinate pattern general\n3 4 5\n1 1\n3 1\n2 2\n3 3\n1 4\n');
  mtx('symmetric.mtx', '%%MatrixMarket matrix coordinate real symmetric\n4 4 5\n1 1 2.5\n2 1 1e-3\n3 2 7\n4 4 1.25\n4 3 0.5\n');
  // Tables: long, wide and list, as Arrow IPC files, streams and Parquet (several batches / row groups).
  for (const layout of ['long', 'wide', 'list'] as const) {
    for (const ext of ['.arrow', '.arrows', '.parquet']) {
      const file = join(CORPUS, `pbmc24-${layout}${ext}`);
      if (fresh) {
        const writer = await openTableWriter(file, ext === '.parquet' ? { rowGroupSize: layout === 'long' ? 300 : 8, compression: layout === 'wide' ? 'snappy' : 'zstd' } : {});
        for (const chunk of splitColumns(small, 8)) {
          for (const batch of toBatches(chunk, layout, small.m, small.n, undefined)) await writer.write(batch);
        }
        await writer.close();
      }
      seeds.push({ kind: ext === '.parquet' ? 'parquet' : 'arrow', file, ext, text: false, layout: { layout } as SourceOptions });
    }
  }
  // Starting matrices (CSV), models and checkpoints of small fits.
  const options: FitOptions = { rank: 3, seed: 7, tol: 0, solver: 'exact' };
  const csv = join(CORPUS, 'W0.csv');
  if (fresh) writeFileSync(csv, Array.from({ length: 40 }, (_, i) => [0.5 + (i % 3), 1 + (i % 5) / 4, 2.25].join(',')).join('\n') + '\n');
  seeds.push({ kind: 'csv', file: csv, ext: '.csv', text: true });
  const smallMtx = join(CORPUS, 'small.mtx');
  for (const loss of ['l2', 'l1'] as const) {
    const dir = join(CORPUS, `checkpoint-${loss}`);
    const fitOptions: FitOptions = { ...options, loss, ...(loss === 'l1' ? { warmupIterations: 1 } : {}) };
    if (fresh) {
      const model = await fitModel(fromCsc(small, { chunkSize: 8 }), { ...fitOptions, maxIterations: 2, checkpoint: { dir, every: 1 } });
      for (const ext of ['csv', 'arrow', 'parquet']) await writeModel(join(CORPUS, `model-${loss}.${ext}`), model);
    }
    seeds.push({ kind: 'checkpoint', file: join(dir, 'checkpoint.nmf'), ext: '.nmf', text: false, resume: { data: smallMtx, options: fitOptions, chunkSize: 8 } });
    for (const ext of ['csv', 'arrow', 'parquet']) seeds.push({ kind: 'model', file: join(CORPUS, `model-${loss}.${ext}`), ext: `.${ext}`, text: ext === 'csv' });
  }
  if (fresh) writeFileSync(stamp, new Date().toISOString());
  return seeds;
}

/** The project's fixtures, as they are. */
function fixtureSeeds(): Seed[] {
  const seeds: Seed[] = [];
  const manifest = JSON.parse(readFileSync(join(SHARED, 'fixtures/fixtures.json'), 'utf8')) as { file: string; layout: 'long' | 'wide' | 'list' }[];
  for (const { file, layout } of manifest) {
    const ext = file.slice(file.lastIndexOf('.'));
    seeds.push({ kind: ext === '.parquet' ? 'parquet' : 'arrow', file: join(SHARED, 'fixtures', file), ext, text: false, layout: { layout } as SourceOptions });
  }
  seeds.push({ kind: 'mtx', file: join(ROOT, 'examples/data/hawaiibirds.mtx.gz'), ext: '.mtx.gz', text: false });
  seeds.push({ kind: 'mtx', file: join(SHARED, 'data/pbmc_small.mtx'), ext: '.mtx', text: true });
  return seeds;
}

/** One child process running fuzz-target.ts; `ask` resolves with its reply, or with a hang / death. */
class Target {
  private child: ChildProcess | undefined;
  private stderr = '';
  private waiting: ((reply: TargetReply | { outcome: 'died'; oom: boolean; detail: string }) => void) | undefined;
  private ready: Promise<void> | undefined;
  constructor(private readonly heapMb: number) {}

  private start(): Promise<void> {
    this.stderr = '';
    const child = fork(join(ROOT, 'bench/lib/fuzz-target.ts'), [], {
      execArgv: ['--import', 'tsx', `--max-old-space-size=${this.heapMb}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    let started!: () => void;
    const ready = new Promise<void>((resolve) => { started = resolve; });
    child.on('message', (reply: TargetReply) => {
      if (reply.id === -1 && reply.outcome === 'ok') { started(); return; }
      const w = this.waiting;
      this.waiting = undefined;
      w?.(reply);
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) { this.child = undefined; this.ready = undefined; }
      started();
      const w = this.waiting;
      this.waiting = undefined;
      const oom = signal === 'SIGKILL' || signal === 'SIGABRT' || /heap out of memory|Allocation failed|Out of memory/i.test(this.stderr);
      w?.({ outcome: 'died', oom, detail: `exit code ${code}, signal ${signal}: ${this.stderr.slice(-1500)}` });
    });
    return ready;
  }

  async ask(request: TargetRequest, seconds: number): Promise<TargetReply | { outcome: 'hang' } | { outcome: 'died'; oom: boolean; detail: string }> {
    this.ready ??= this.start();
    await this.ready;
    const child = this.child;
    if (!child) return { outcome: 'died', oom: false, detail: 'the child did not start' };
    return await new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiting = undefined; this.kill(); resolve({ outcome: 'hang' }); }, seconds * 1000);
      this.waiting = (reply) => { clearTimeout(timer); resolve(reply); };
      child.send(request);
    });
  }

  kill(): void {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    child?.kill('SIGKILL');
  }
}

interface Counts { inputs: number; outcomes: Record<Outcome, number> }
const emptyCounts = (): Counts => ({ inputs: 0, outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number> });

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const all = [...fixtureSeeds(), ...await generatedSeeds()].filter((s) => args.kinds.includes(s.kind));
  const work = join(tmpdir(), `nmflow-fuzz-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const target = new Target(args.heap);
  const requestFor = (seed: Seed, id: number, file: string): TargetRequest => ({
    id, kind: seed.kind, path: seed.kind === 'checkpoint' ? join(file, '..') : file,
    ...(seed.layout ? { layout: seed.layout } : {}), ...(seed.resume ? { resume: seed.resume } : {}),
  });
  if (args.replay) {
    const saved = JSON.parse(readFileSync(`${args.replay}.json`, 'utf8')) as { kind: TargetKind; from: string };
    const seed = [...fixtureSeeds(), ...await generatedSeeds()].find((s) => s.file === saved.from && s.kind === saved.kind);
    if (!seed) throw new Error(`the seed ${saved.from} of ${args.replay} is not in the corpus`);
    const file = join(work, seed.kind === 'checkpoint' ? 'checkpoint.nmf' : `input${seed.ext}`);
    writeFileSync(file, readFileSync(args.replay));
    const reply = await target.ask(requestFor(seed, 1, file), args.timeout * 3);
    console.log(JSON.stringify(reply, null, 1));
    target.kill();
    rmSync(work, { recursive: true, force: true });
    return 0;
  }
  // The result of every unmutated seed: what "same" compares with (a seed that does not read is left out).
  const seeds: Seed[] = [];
  for (const seed of all) {
    const reply = await target.ask(requestFor(seed, 0, seed.file), 60);
    if (reply.outcome === 'ok') { seed.digest = reply.digest; seeds.push(seed); } else console.error(`fuzz: seed ${seed.file} does not read (${JSON.stringify(reply).slice(0, 300)}); left out`);
  }
  const kinds = args.kinds.filter((k) => seeds.some((s) => s.kind === k));
  const mutator = makeMutator(args.seed);
  const choose = makeRandom(args.seed ^ 0x5bd1e995); // a second stream: which seed, independent of the mutations
  const pick = <T>(list: readonly T[]): T => list[Math.floor(choose.uniform() * list.length)]!;
  const perKind = new Map<TargetKind, Counts>(kinds.map((k) => [k, emptyCounts()]));
  const total = emptyCounts();
  const saved: string[] = [];
  const bytesCache = new Map<string, Uint8Array>();
  const bytesOf = (file: string): Uint8Array => { let b = bytesCache.get(file); if (!b) { b = readFileSync(file); bytesCache.set(file, b); } return b; };
  let slow = 0;
  let id = 0;
  const deadline = started + args.seconds * 1000;
  while (performance.now() < deadline && kinds.length > 0) {
    id++;
    const kind = kinds[id % kinds.length]!;
    const ofKind = seeds.filter((s) => s.kind === kind);
    const seed = pick(ofKind);
    const other = pick(ofKind);
    const { bytes, steps } = mutator.mutate(bytesOf(seed.file), bytesOf(other.file), seed.text);
    const dir = join(work, String(id));
    mkdirSync(dir);
    const file = join(dir, seed.kind === 'checkpoint' ? 'checkpoint.nmf' : `input${seed.ext}`);
    writeFileSync(file, bytes);
    let reply = await target.ask(requestFor(seed, id, file), args.timeout);
    if (reply.outcome === 'hang') {
      // A loaded machine can be slow: once more, alone, with three times the time.
      reply = await target.ask(requestFor(seed, id, file), args.timeout * 3);
      if (reply.outcome !== 'hang') slow++;
    }
    let outcome: Outcome;
    let detail = '';
    if (reply.outcome === 'hang') outcome = 'hang';
    else if (reply.outcome === 'died') { outcome = reply.oom ? 'oom' : 'crash'; detail = reply.detail; }
    else if (reply.outcome === 'ok') outcome = reply.digest === seed.digest ? 'same' : 'other';
    else if (reply.outcome === 'typed') { outcome = reply.clear ? 'typed' : 'unclear'; detail = `${reply.code}: ${reply.message}`; }
    else {
      outcome = /Array buffer allocation failed|Out of memory/i.test(reply.message) ? 'oom' : 'crash';
      detail = reply.stack || reply.message;
    }
    for (const counts of [perKind.get(kind)!, total]) { counts.inputs++; counts.outcomes[outcome]++; }
    if (args.log) appendFileSync(args.log, `${kind}\t${outcome}\t${seed.file.slice(seed.file.lastIndexOf('/') + 1)}\t${steps.join('; ')}\t${detail.split('\n')[0]!.replace(/\(source [^)]*\)/, '')}\n`);
    if (FAILING.has(outcome)) {
      mkdirSync(FAILURES, { recursive: true });
      const name = `${outcome}-${kind}-seed${args.seed}-${id}${seed.ext}`;
      writeFileSync(join(FAILURES, name), bytes);
      writeFileSync(join(FAILURES, `${name}.json`), JSON.stringify({ outcome, kind, from: seed.file, layout: seed.layout, steps, detail }, null, 1) + '\n');
      saved.push(`${outcome} ${kind} bench/data/fuzz-failures/${name}: ${detail.split('\n')[0]!.slice(0, 200)}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  target.kill();
  rmSync(work, { recursive: true, force: true });
  const seconds = (performance.now() - started) / 1000;
  const line = (c: Counts): string => OUTCOMES.map((o) => `${o} ${c.outcomes[o]}`).join(', ');
  const failed = OUTCOMES.filter((o) => FAILING.has(o)).reduce((sum, o) => sum + total.outcomes[o], 0);
  if (args.json) {
    console.log(JSON.stringify({ seed: args.seed, seconds, inputs: total.inputs, ...total.outcomes, slow, perFormat: Object.fromEntries([...perKind].map(([k, c]) => [k, { inputs: c.inputs, ...c.outcomes }])) }));
  } else {
    if (!args.quiet) for (const [kind, c] of perKind) console.log(`  ${kind.padEnd(10)} ${String(c.inputs).padStart(6)} inputs: ${line(c)}`);
    for (const s of saved) console.log(`  ${s}`);
    console.log(`fuzz: ${total.inputs} inputs in ${seconds.toFixed(0)} s (seed ${args.seed}, ${kinds.join(' ')}): ${line(total)}${slow ? ` (${slow} slow but finished on the retry)` : ''}${failed ? ` — FAILED, inputs in bench/data/fuzz-failures/` : ' — ok'}`);
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
