/**
 * Data and processes for the NATS tests: a seeded sparse matrix of ~10 000 samples (3 units of 4096) written by
 * DuckDB as Parquet part files in the 'list' layout (one row per sample), cut across unit boundaries; worker
 * processes of the CLI (killed by the test that started them, by pid); the model's bytes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Snapshot } from '../../src/snapshot/snapshot.js';
import { CLI } from './cli.js';

/** Writes `parts` Parquet files of `samples` samples × 60 features into dir (created) and returns dir. */
export async function writeListParts(dir: string, samples = 10_000, parts = 3, seed = 7): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const sql = await db.connect();
  await sql.run(`CREATE TABLE a AS SELECT s AS sample, f AS feature, 1 + (hash(s * 131 + f * 7 + ${seed}) % 1000) / 250.0 AS value
    FROM range(0, ${samples}) t(s), range(0, 60) u(f) WHERE hash(s * 7919 + f * 31 + ${seed}) % 100 < 8 OR f = s % 60`);
  const per = Math.ceil(samples / parts);
  for (let p = 0; p < parts; p++) {
    await sql.run(`COPY (SELECT sample, list(feature ORDER BY feature) AS indices, list(value ORDER BY feature) AS "values"
      FROM a WHERE sample >= ${p * per} AND sample < ${(p + 1) * per} GROUP BY sample ORDER BY sample)
      TO '${join(dir, `part-${String(p).padStart(3, '0')}.parquet`)}' (FORMAT parquet)`);
  }
  sql.closeSync();
  db.closeSync();
  return dir;
}

/** W, d and H (when kept) as one Buffer: equal bytes ⇔ the same model. */
export function modelBytes(s: Snapshot): Buffer {
  const parts = [s.W, s.d, ...(s.H ? [s.H] : [])].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  return Buffer.concat(parts);
}

/** Worker processes of the CLI, stopped by `stopAll` (SIGKILL unless said otherwise). */
export function makeWorkers(): { start(url: string, extra?: NodeJS.ProcessEnv): ChildProcess; stopAll(): Promise<void>; readonly all: ChildProcess[]; logs(): string } {
  const all: ChildProcess[] = [];
  return {
    all,
    logs: () => all.map((c) => (c as ChildProcess & { log?: () => string }).log?.() ?? '').join('\n'),
    start(url, extra = {}) {
      const child = spawn('node', [...CLI, 'worker', '--nats', url], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...extra } });
      let text = '';
      child.stderr?.on('data', (b: Buffer) => {
        text = (text + b.toString()).slice(-4000);
        if (process.env.NMFLOW_TEST_VERBOSE) process.stderr.write(b);
      });
      child.once('exit', (code, signal) => { text += `\n[exit ${code ?? signal}]`; });
      (child as ChildProcess & { log: () => string }).log = () => text;
      all.push(child);
      return child;
    },
    async stopAll() {
      await Promise.all(all.map((c) => stopChild(c, 'SIGKILL')));
      all.length = 0;
    },
  };
}

/** Sends `signal` and resolves when the process has exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return await new Promise((resolve) => { child.once('exit', (code) => resolve(code)); child.kill(signal); });
}
