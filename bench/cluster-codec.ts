/**
 * The CPU a distributed-fit worker spends on the pass statistics outside the solve, this tree against a base
 * commit in one run: on the 49 units of the synthetic 20000 × 200000 matrix (bench/data/cluster-synthetic-…,
 * made by `npm run bench:cluster -- --prepare-only`), rank 10, solver 'fast', one worker's prefix chain
 * (cluster/dispatch.ts equalBlocks(49, 4): the blocks of one worker's pass). Per pass:
 *   solve    stepL2 of each unit (the WebAssembly solve, shared by both sides: run once)
 *   rows     a unit's touched rows of Bu (unitPassStats's extraction: base rowsOf, this tree gatherRows)
 *   decode   decodeStats of each block's seed prefix
 *   sum      makeStatsSum with that seed + add of the block's units
 *   result   result() of each block
 *   encode   encodeStats of each block's prefix
 *   use      usePassStats of the whole pass (the coordinator's side)
 * The base's pass-stats.ts and stats-codec.ts are `git show <base>:…` copies in a temporary directory bench/.codec-base-*
 * (removed once loaded; their imports pointed at this tree's src/). Both sides run on the same unit statistics, alternating which goes
 * first; the figures are median wall ms per pass (sync code, one thread) with the load averages. Checks that
 * both sides give the same bytes (rows, every block's prefix). Prints one JSON object.
 *
 *   npx tsx bench/cluster-codec.ts [--passes 4] [--base ab6c228] [--data DIR]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { equalBlocks } from '../src/cluster/dispatch.js';
import * as codec from '../src/cluster/stats-codec.js';
import { makeUnitReader } from '../src/cluster/unit-data.js';
import { gatherRows } from '../src/kernel/row-runs.js';
import { makeL2Engine } from '../src/model/l2/engine.js';
import * as stats from '../src/model/l2/pass-stats.js';
import type { PassStats, UnitRange } from '../src/model/l2/pass-stats.js';
import { ensureHCapacity } from '../src/model/l2/state.js';
import { stepL2 } from '../src/model/l2/step.js';
import { resetUnits, unitOf } from '../src/model/l2/units.js';
import { resolveOptions, withSolver } from '../src/options.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1]! : fallback;
};
const passes = Number(flag('passes', '4'));
const base = flag('base', 'ab6c228');
const data = flag('data', existsSync('bench/data/cluster-synthetic-20000x200000') ? 'bench/data/cluster-synthetic-20000x200000' : '/work/main/bench/data/cluster-synthetic-20000x200000');
const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const log = (line: string): void => { process.stderr.write(`${line}\n`); };

/** The base commit's file, imports pointed at this tree's src/ (`exports`: functions made exported). */
function baseCopy(dir: string, path: string, exports: string[] = []): string {
  let text = execFileSync('git', ['show', `${base}:${path}`], { cwd: root, encoding: 'utf8' });
  text = text.replace(/from '(\.[^']+)'/g, (_, rel: string) => `from '${pathToFileURL(resolve(root, dirname(path), rel.replace(/\.js$/, '.ts'))).href}'`);
  for (const name of exports) text = text.replace(`\nfunction ${name}(`, `\nexport function ${name}(`);
  const out = join(dir, path.replaceAll('/', '_'));
  writeFileSync(out, text);
  return out;
}

// inside the tree, so that the copies resolve its node_modules and package type
const temp = mkdtempSync(join(root, 'bench', '.codec-base-'));
type Stats = typeof stats & { rowsOf(dense: Float64Array, touched: Int32Array, k: number, value: number): { rows: Int32Array; B: Float64Array } };
const old = {
  stats: await import(pathToFileURL(baseCopy(temp, 'src/model/l2/pass-stats.ts', ['rowsOf'])).href) as Stats,
  codec: await import(pathToFileURL(baseCopy(temp, 'src/cluster/stats-codec.ts')).href) as typeof codec,
};
rmSync(temp, { recursive: true, force: true });

const files = readdirSync(data).filter((f) => /^part-.*\.parquet$/.test(f)).sort().map((f) => join(data, f));
const meta = {
  files: await Promise.all(files.map(async (path) => ({ path, rows: Number((await parquetMetadataAsync(await asyncBufferFromFile(path))).num_rows) }))),
  layout: { layout: 'list', features: 20000, chunkSize: 4096 }, m: 20000, n: 0, exponent: 0,
};
meta.n = meta.files.reduce((s, f) => s + f.rows, 0);
const units = Math.ceil(meta.n / 4096);
const reader = makeUnitReader(meta);
let t = performance.now();
const chunks = [];
for (let u = 0; u < units; u++) chunks.push(await reader.read(u));
log(`read ${units} units in ${Math.round(performance.now() - t)} ms`);

const given = { rank: 10, seed: 1, tol: 0, solver: 'fast' } as const;
const options = withSolver(resolveOptions(given), given);
const engine = makeL2Engine(meta.m, options, { sourceName: data, featureNames: undefined, threads: 1 });
const state = engine.state, k = state.k;
ensureHCapacity(state, meta.n);
const blocks = equalBlocks(units, 4);
const same = (a: Float64Array | Int32Array | Uint8Array, b: Float64Array | Int32Array | Uint8Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const parts = ['rows', 'decode', 'sum', 'result', 'encode', 'use'] as const;
type Times = Record<(typeof parts)[number], number>;
const perPass: { solve: number; base: Times; head: Times }[] = [];
const zero = (): Times => ({ rows: 0, decode: 0, sum: 0, result: 0, encode: 0, use: 0 });
const time = <T>(times: Times, part: keyof Times, f: () => T): T => {
  const t0 = performance.now();
  const out = f();
  times[part] += performance.now() - t0;
  return out;
};

for (let pass = 1; pass <= passes; pass++) {
  engine.beginPass();
  const times = { solve: 0, base: zero(), head: zero() };
  const sides = pass % 2 === 1 ? (['base', 'head'] as const) : (['head', 'base'] as const);
  const unitStats: PassStats[] = [];
  for (const chunk of chunks) {
    const unit = unitOf(chunk.colStart), { passNnz, passSamples, units: sums } = state;
    resetUnits(sums);
    t = performance.now();
    stepL2(state, chunk, options, data);
    state.wasmPass?.flush(state);
    times.solve += performance.now() - t;
    const got = sides.map((side) => (side === 'base'
      ? time(times.base, 'rows', () => old.stats.rowsOf(sums.Bu, sums.last, k, unit))
      : time(times.head, 'rows', () => gatherRows(sums.Bu, sums.last, unit, k))));
    if (!same(got[0]!.rows, got[1]!.rows) || !same(got[0]!.B, got[1]!.B)) throw new Error(`unit ${unit}: the rows differ`);
    const range: UnitRange = {
      first: unit, end: unit + 1, samples: chunk.colStart + chunk.n, nnz: state.passNnz - passNnz, normA2: sums.normA2,
      S: sums.S.slice(), hSum: sums.hSum.slice(), ...got[0]!,
    };
    state.passNnz = passNnz; state.passSamples = passSamples;
    resetUnits(sums);
    unitStats.push({ m: meta.m, k, ranges: [range] });
  }
  const finals: Uint8Array[] = [];
  for (const side of sides) {
    const impl = side === 'base' ? old : { stats, codec }, tt = times[side];
    let bytes: Uint8Array | undefined;
    for (const [a, b] of blocks) {
      const seed = bytes === undefined ? undefined : time(tt, 'decode', () => impl.codec.decodeStats(bytes!, `prefix ${a}`));
      const sum = time(tt, 'sum', () => {
        const s = impl.codec.makeStatsSum(meta.m, k, units, seed);
        for (let u = a; u < b; u++) s.add(unitStats[u]!);
        return s;
      });
      const result = time(tt, 'result', () => sum.result(b >= units));
      bytes = time(tt, 'encode', () => impl.codec.encodeStats(result));
    }
    finals.push(bytes!);
    const whole = impl.codec.decodeStats(bytes!, 'pass');
    time(tt, 'use', () => impl.stats.usePassStats(state, whole));
  }
  if (!same(finals[0]!, finals[1]!)) throw new Error(`pass ${pass}: the prefixes differ`);
  perPass.push(times);
  log(`pass ${pass}: solve ${Math.round(times.solve)} ms; base ${JSON.stringify(times.base, (_, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}; head ${JSON.stringify(times.head, (_, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`);
}
engine.close();

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const round = (x: number): number => Math.round(x * 10) / 10;
const column = (side: 'base' | 'head', part: keyof Times): number => round(median(perPass.map((p) => p[side][part])));
const total = (side: 'base' | 'head'): number => round(median(perPass.map((p) => parts.reduce((s, q) => s + p[side][q], 0))));
console.log(JSON.stringify({
  data, units, blocks: blocks.length, rank: k, passes, base, msPerPassMedian: {
    solve: round(median(perPass.map((p) => p.solve))),
    ...Object.fromEntries(parts.map((q) => [q, { base: column('base', q), head: column('head', q) }])),
    total: { base: total('base'), head: total('head') },
  }, sameBytes: true, loadavg: loadavg().map(round),
}, null, 1));
