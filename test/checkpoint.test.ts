import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { readModel } from '../src/io/model-file.js';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromCsc } from '../src/source/from-csc.js';
import { OptionError } from '../src/errors.js';
import { SHARED_DATA, loadSharedMtx } from './helpers/load-mtx-sync.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const tmp = (): string => mkdtempSync(join(tmpdir(), 'nmflow-ckpt-'));

describe('checkpoint and resume', () => {
  for (const loss of ['l2', 'l1'] as const) {
    it(`an interrupted ${loss} fit resumed from its checkpoint gives the bytes of an uninterrupted one`, async () => {
      const A = loadSharedMtx('hawaiibirds');
      const base = { rank: 4, loss, seed: 5, tol: 0, keepH: true, ...(loss === 'l1' ? { warmupIterations: 3 } : {}) };
      const whole = await fitModel(fromCsc(A, { chunkSize: 300 }), { ...base, maxIterations: 9 });
      const dir = tmp();
      await fitModel(fromCsc(A, { chunkSize: 300 }), { ...base, maxIterations: 5, checkpoint: { dir, every: 2 } });
      expect(readCheckpoint(dir).trace.map((t) => t.iteration)).toEqual([1, 2, 3, 4]);
      const resumed = await fitModel(fromCsc(A, { chunkSize: 300 }), { ...base, maxIterations: 9, resumeFrom: dir });
      expect(same(resumed.W, whole.W)).toBe(true);
      expect(same(resumed.d, whole.d)).toBe(true);
      expect(same(resumed.H!, whole.H!)).toBe(true);
      expect(resumed.trace.map((t) => t.iteration)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(resumed.trace.map((t) => [t.relativeLoss, t.objective, t.tol])).toEqual(whole.trace.map((t) => [t.relativeLoss, t.objective, t.tol]));
      expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    });
  }

  it('a threaded fit resumes from a checkpoint to the bytes of an uninterrupted single-thread fit', async () => {
    const A = loadSharedMtx('hawaiibirds'); // more than 1024 samples: the restored H outgrows the first shared one
    const base = { rank: 4, seed: 7, tol: 0, keepH: true } as const;
    const whole = await fitModel(fromCsc(A, { chunkSize: 150 }), { ...base, maxIterations: 6, threads: 1 });
    const dir = tmp();
    await fitModel(fromCsc(A, { chunkSize: 150 }), { ...base, maxIterations: 3, threads: 2, checkpoint: { dir } });
    const resumed = await fitModel(fromCsc(A, { chunkSize: 150 }), { ...base, maxIterations: 6, threads: 2, resumeFrom: dir });
    expect(same(resumed.W, whole.W)).toBe(true);
    expect(same(resumed.H!, whole.H!)).toBe(true);
  });

  it('refuses a checkpoint made with different options', async () => {
    const A = loadSharedMtx('pbmc_small');
    const dir = tmp();
    await fitModel(fromCsc(A), { rank: 3, seed: 1, maxIterations: 3, tol: 0, checkpoint: { dir } });
    await expect(fitModel(fromCsc(A), { rank: 3, seed: 2, maxIterations: 5, resumeFrom: dir })).rejects.toThrow(OptionError);
    await expect(fitModel(fromCsc(A), { rank: 3, seed: 1, maxIterations: 5, resumeFrom: join(dir, 'nope') })).rejects.toThrow(/could not read checkpoint/);
  });

  it('a fit killed with SIGKILL mid-run resumes from its last checkpoint to the same model (CLI, child process)', async () => {
    const dir = tmp();
    const cli = ['--import', 'tsx', new URL('../src/cli/run.ts', import.meta.url).pathname, 'fit', `${SHARED_DATA}movielens.mtx`, '--rank', '6', '--seed', '3', '--max-iterations', '30', '--tol', '0'];
    const runToEnd = (extra: string[]): Promise<number> => new Promise((resolve) => {
      spawn('node', [...cli, ...extra], { stdio: 'ignore' }).on('exit', (code) => resolve(code ?? -1));
    });
    expect(await runToEnd(['--out', join(dir, 'whole.arrow')])).toBe(0);
    // Start a checkpointing run and kill it hard after iteration 12 has been reported.
    const child = spawn('node', [...cli, '--json', '--checkpoint', join(dir, 'ckpt')], { stdio: ['ignore', 'pipe', 'ignore'] });
    let lastSeen = 0;
    await new Promise<void>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lastSeen = (JSON.parse(line) as { iteration?: number }).iteration ?? lastSeen;
        if (lastSeen >= 12 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    expect(child.signalCode).toBe('SIGKILL');
    const saved = readCheckpoint(join(dir, 'ckpt')).trace.length;
    expect(saved).toBeGreaterThanOrEqual(11);
    expect(saved).toBeLessThan(30);
    expect(await runToEnd(['--resume', join(dir, 'ckpt'), '--out', join(dir, 'resumed.arrow')])).toBe(0);
    const whole = await readModel(join(dir, 'whole.arrow'));
    const resumed = await readModel(join(dir, 'resumed.arrow'));
    expect(same(resumed.W, whole.W)).toBe(true);
    expect(same(resumed.d, whole.d)).toBe(true);
    expect(existsSync(join(dir, 'ckpt', 'checkpoint.nmf'))).toBe(true);
  });
});
