/**
 * What missing values cost (issue #15), in process CPU seconds (process.cpuUsage: every thread of the process,
 * meaningful on a loaded machine), side by side in one run:
 * 1. with `--baseline DIR` (another checkout, e.g. /work/main): one pass over a 5 M-row long Parquet file (DuckDB,
 *    bench/data/long-5m.parquet, made on first use) through DIR's fromParquet and this one's, on the main thread
 *    (readAhead 0) and in the decoder's worker — the cost of the NaN / NULL checks in the layout converters;
 * 2. a masked fit with a mask source against the same data with NaN in memory (movielens, 5 % of the entries
 *    missing, rank 10, 10 iterations, test fraction 5 %): the cost of merging the mask into the chunks.
 * Usage: npx tsx bench/missing-cost.ts [--baseline /work/main]
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { count, lastValueFrom } from 'rxjs';
import { fitModel } from '../src/pipeline/fit.js';
import { fromCsc } from '../src/source/from-csc.js';
import { fromParquet } from '../src/source/from-parquet.js';
import { loadSharedMtx } from '../test/helpers/load-mtx-sync.js';

const cpu = async (run: () => Promise<unknown>): Promise<number> => {
  const t = process.cpuUsage();
  await run();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1e6;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function readers(baseline: string): Promise<void> {
  const path = 'bench/data/long-5m.parquet';
  if (!existsSync(path)) {
    mkdirSync('bench/data', { recursive: true });
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const sql = await db.connect();
    await sql.run(`COPY (SELECT (hash(i) % 2000)::INTEGER AS feature, (i // 100)::INTEGER AS sample, 1 + (hash(i * 7) % 1000)::DOUBLE / 100 AS value
      FROM range(5000000) t(i) ORDER BY sample, feature) TO '${path}' (FORMAT parquet)`);
  }
  const old = (await import(resolve(baseline, 'src/source/from-parquet.ts'))) as { fromParquet: typeof fromParquet };
  for (const readAhead of [0, undefined]) {
    const o: number[] = [], n: number[] = [];
    const opts = { layout: 'long' as const, features: 2000, ...(readAhead === undefined ? {} : { readAhead }) };
    for (let r = 0; r < 5; r++) {
      o.push(await cpu(() => lastValueFrom(old.fromParquet(path, opts).chunks().pipe(count()))));
      n.push(await cpu(() => lastValueFrom(fromParquet(path, opts).chunks().pipe(count()))));
    }
    console.log(`one pass, 5M-row long Parquet, readAhead ${readAhead ?? 'default'}: ${baseline} ${median(o).toFixed(3)} s, this checkout ${median(n).toFixed(3)} s`
      + ` (median of 5), ratio ${(median(n) / median(o)).toFixed(3)}`);
  }
}

async function maskSource(): Promise<void> {
  const A = loadSharedMtx('movielens');
  const rows: number[] = [], colPtr = new Int32Array(A.n + 1), values = A.values.slice();
  for (let j = 0; j < A.n; j++) {
    for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) if (p % 20 === 7) { rows.push(A.rowIdx[p]!); values[p] = Number.NaN; }
    colPtr[j + 1] = rows.length;
  }
  const mask = { m: A.m, n: A.n, colPtr, rowIdx: Int32Array.from(rows), values: new Float64Array(rows.length).fill(1) };
  const opts = { rank: 10, seed: 1, tol: 0, maxIterations: 10, testFraction: 0.05 };
  const nan = async (): Promise<number> => cpu(() => fitModel(fromCsc({ ...A, values }, { missing: 'nan' }), { ...opts, missing: 'nan' }));
  const masked = async (): Promise<number> => cpu(() => fitModel(fromCsc(A), { ...opts, maskSource: fromCsc(mask, { chunkSize: 1000 }) }));
  await nan(); await masked(); // JIT warm-up, not counted
  const a: number[] = [], b: number[] = [];
  for (let r = 0; r < 5; r++) {
    if (r % 2 === 0) { a.push(await nan()); b.push(await masked()); } else { b.push(await masked()); a.push(await nan()); }
  }
  console.log(`movielens ${A.m}×${A.n}, 5% missing, rank 10, 10 iterations: NaN data ${median(a).toFixed(3)} s, mask source ${median(b).toFixed(3)} s`
    + ` (median of 5, alternating), ratio ${(median(b) / median(a)).toFixed(3)}`);
}

const at = process.argv.indexOf('--baseline');
if (at >= 0) await readers(process.argv[at + 1]!);
await maskSource();
