import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { readModel } from '../src/io/model-file.js';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { fit, fitModel } from '../src/pipeline/fit.js';
import { fitOnline } from '../src/pipeline/fit-online.js';
import { fromCsc, type CscMatrix } from '../src/source/from-csc.js';
import { fromMtx } from '../src/source/from-mtx.js';
import type { Model } from '../src/snapshot/snapshot.js';
import { OptionError } from '../src/errors.js';
import { makeRandom } from '../src/kernel/random.js';
import { SHARED_DATA, loadSharedMtx } from './helpers/load-mtx-sync.js';
import { CLI } from './helpers/cli.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const tmp = (): string => mkdtempSync(join(tmpdir(), 'nmflow-ckpt-'));
const FIXTURES = new URL('../../shared/fixtures/', import.meta.url).pathname;
/** Runs the CLI to its end; resolves with the exit code. */
const runCli = (args: string[]): Promise<number> => new Promise((resolve) => {
  spawn('node', [...CLI, ...args], { stdio: 'ignore' }).on('exit', (code) => resolve(code ?? -1));
});
/** A file source: not in memory, so l1 fits it out of core with a feature-major copy in tempDir. */
const outOfCore = (name: string, chunkSize: number) => fromMtx(`${SHARED_DATA}${name}.mtx`, { chunkSize });
const expectSameModel = (a: Model, b: Model): void => {
  expect(same(a.W, b.W)).toBe(true);
  expect(same(a.d, b.d)).toBe(true);
  expect(same(a.H!, b.H!)).toBe(true);
  expect(a.trace.map((t) => [t.iteration, t.relativeLoss, t.objective, t.tol])).toEqual(b.trace.map((t) => [t.iteration, t.relativeLoss, t.objective, t.tol]));
};

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

  for (const start of ['warm-up', 'no warm-up', 'explicit'] as const) {
    it(`out-of-core l1 (${start} start) resumed from its checkpoint rebuilds the copy and gives the uninterrupted bytes`, async () => {
      const k = 4;
      const rnd = makeRandom(8);
      const init = start === 'explicit'
        ? { init: { W: Float64Array.from({ length: 183 * k }, () => rnd.uniform()), H: Float64Array.from({ length: k * 1183 }, () => rnd.uniform() * 0.05) } } : {};
      const tempDir = tmp();
      const base = { rank: k, loss: 'l1', lambda: 0.2, seed: 5, tol: 0, keepH: true, tempDir, warmupIterations: start === 'warm-up' ? 3 : 0, ...init } as const;
      const whole = await fitModel(outOfCore('hawaiibirds', 100), { ...base, maxIterations: 8 });
      expect(whole.W.some((w) => w > 0)).toBe(true);
      const dir = tmp();
      await fitModel(outOfCore('hawaiibirds', 100), { ...base, maxIterations: 5, checkpoint: { dir, every: 2 } });
      expect(readCheckpoint(dir).trace.map((t) => t.iteration)).toEqual(start === 'explicit' ? [0, 1, 2, 3, 4] : [1, 2, 3, 4]);
      const copies: number[] = [];
      const resumed = await fitModel(outOfCore('hawaiibirds', 100), { ...base, maxIterations: 8, resumeFrom: dir, onChunk: () => { copies.push(readdirSync(tempDir).length); } });
      expectSameModel(resumed, whole);
      expect(copies.every((c) => c === 1)).toBe(true); // the resumed fit rebuilt its copy (1 pass) and read it (4 passes)
      expect(copies.length).toBe(5 * 12);
      expect(readdirSync(tempDir)).toEqual([]);
    });
  }

  it('out-of-core l1 writes no checkpoint during the copy and warm-up passes, then one per iteration', async () => {
    const dir = tmp();
    const seen: [number, boolean][] = [];
    await fitModel(outOfCore('pbmc_small', 20), {
      rank: 3, loss: 'l1', seed: 2, tol: 0, maxIterations: 3, warmupIterations: 2, checkpoint: { dir },
      onChunk: ({ iteration }) => { seen.push([iteration, existsSync(join(dir, 'checkpoint.nmf'))]); },
    });
    // 4 chunks a pass: the copy, 2 warm-up passes and sCD iteration 1 (all report iteration 1), then iterations 2 and 3
    expect(seen.map(([t]) => t)).toEqual([...Array<number>(16).fill(1), 2, 2, 2, 2, 3, 3, 3, 3]);
    expect(seen.map(([, saved]) => saved)).toEqual([...Array<boolean>(16).fill(false), ...Array<boolean>(8).fill(true)]);
    expect(readCheckpoint(dir).trace.map((t) => t.iteration)).toEqual([1, 2]);
  });

  it('an l1 checkpoint resumes across in-memory and out-of-core fits to the same bytes', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const base = { rank: 3, loss: 'l1', lambda: 0.5, seed: 9, tol: 0, keepH: true, warmupIterations: 2 } as const;
    const whole = await fitModel(fromCsc(A), { ...base, maxIterations: 6 });
    const fromMemory = tmp(), fromFile = tmp();
    await fitModel(fromCsc(A, { chunkSize: 500 }), { ...base, maxIterations: 3, checkpoint: { dir: fromMemory } });
    await fitModel(outOfCore('hawaiibirds', 500), { ...base, maxIterations: 3, checkpoint: { dir: fromFile } });
    expectSameModel(await fitModel(outOfCore('hawaiibirds', 300), { ...base, maxIterations: 6, resumeFrom: fromMemory }), whole);
    expectSameModel(await fitModel(fromCsc(A), { ...base, maxIterations: 6, resumeFrom: fromFile }), whole);
  });

  it('out-of-core l1 refuses a checkpoint of another matrix with DATA_CHANGED and removes its copy', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const half: CscMatrix = { m: A.m, n: 600, colPtr: A.colPtr.slice(0, 601), rowIdx: A.rowIdx, values: A.values };
    const inner = fromCsc(half, { chunkSize: 200 });
    const tempDir = tmp(), dir = tmp();
    const options = { rank: 3, loss: 'l1', seed: 1, tol: 0, warmupIterations: 1, tempDir } as const;
    await fitModel(outOfCore('hawaiibirds', 400), { ...options, maxIterations: 2, checkpoint: { dir } });
    const streamedHalf = { name: 'half', rereadable: true, features: A.m, chunks: () => inner.chunks() };
    await expect(fitModel(streamedHalf, { ...options, maxIterations: 4, resumeFrom: dir })).rejects.toMatchObject({ code: 'DATA_CHANGED' });
    await expect(fitModel(streamedHalf, { ...options, maxIterations: 4, resumeFrom: dir })).rejects.toThrow(/ended after 600 samples where the run that wrote the checkpoint in .* read 1183/);
    expect(readdirSync(tempDir)).toEqual([]);
  });

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

  it('mid-pass checkpoints (every few chunks): a fit stopped inside a pass resumes to the uninterrupted bytes (1 and 2 threads, first pass too)', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const base = { rank: 4, seed: 6, tol: 0, keepH: true } as const;
    const whole = await fitModel(fromCsc(A, { chunkSize: 50 }), { ...base, maxIterations: 5, threads: 1 });
    for (const [threads, stopIn, stopAt] of [[1, 3, 630], [2, 3, 1000], [1, 1, 330]] as const) {
      const dir = tmp();
      // Crash (an error from the progress callback) in iteration `stopIn` once `stopAt` samples of its pass have been read.
      const crashed = await fitModel(fromCsc(A, { chunkSize: 50 }), {
        ...base, maxIterations: 5, threads, checkpoint: { dir, every: 100, chunks: 4 },
        onChunk: ({ iteration, samples }) => { if (iteration === stopIn && samples >= stopAt) throw new Error('crash'); },
      }).catch((error: unknown) => error);
      expect(String(crashed)).toMatch(/crash/);
      const saved = readCheckpoint(dir);
      expect(saved.state.numbers.passChunks).toBe(4 * Math.floor(Math.ceil(stopAt / 50) / 4));
      expect(saved.trace.length).toBe(stopIn - 1);
      const resumed = await fitModel(fromCsc(A, { chunkSize: 50 }), { ...base, maxIterations: 5, threads, resumeFrom: dir });
      expectSameModel(resumed, whole);
      expect(resumed.trace.map((t) => t.relativeLoss)).toEqual(whole.trace.map((t) => t.relativeLoss));
    }
  });

  it('refuses a checkpoint made with different options', async () => {
    const A = loadSharedMtx('pbmc_small');
    const dir = tmp();
    await fitModel(fromCsc(A), { rank: 3, seed: 1, maxIterations: 3, tol: 0, checkpoint: { dir } });
    await expect(fitModel(fromCsc(A), { rank: 3, seed: 2, maxIterations: 5, resumeFrom: dir })).rejects.toThrow(OptionError);
    expect(() => fit(fromCsc(A), { rank: 3, loss: 'l1', checkpoint: { dir, chunks: 2 } })).toThrow(/checkpoint.chunks/);
    expect(() => fitOnline(fromCsc(A), { rank: 3, checkpoint: { dir, chunks: 2 } })).toThrow(/checkpoint.chunks/);
    await expect(fitModel(fromCsc(A), { rank: 3, seed: 1, maxIterations: 2, tol: 0, resumeFrom: dir })).rejects.toThrow(/maxIterations.*more than the 2 iterations/); // its last checkpoint: iteration 2
    await expect(fitModel(fromCsc(A), { rank: 3, seed: 1, maxIterations: 5, resumeFrom: join(dir, 'nope') })).rejects.toThrow(/could not read checkpoint/);
  });

  it('a fit killed with SIGKILL mid-pass resumes from its mid-pass checkpoint to the same model (CLI, child process)', async () => {
    const dir = tmp();
    const args = ['fit', `${SHARED_DATA}movielens.mtx`, '--rank', '6', '--seed', '3', '--max-iterations', '30', '--tol', '0', '--chunk-size', '10'];
    const runToEnd = (extra: string[]): Promise<number> => runCli([...args, ...extra]);
    expect(await runToEnd(['--out', join(dir, 'whole.arrow')])).toBe(0);
    // Start a run that checkpoints every 7 chunks only (61 chunks a pass: never at a pass end), and kill
    // it hard after iteration 12 has been reported: its last checkpoint is in the middle of a pass.
    const checkpointing = ['--json', '--checkpoint', join(dir, 'ckpt'), '--checkpoint-every', '1000', '--checkpoint-chunks', '7'];
    const child = spawn('node', [...CLI, ...args, ...checkpointing], { stdio: ['ignore', 'pipe', 'ignore'] });
    let lastSeen = 0;
    await new Promise<void>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lastSeen = (JSON.parse(line) as { iteration?: number }).iteration ?? lastSeen;
        if (lastSeen >= 12 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    expect(child.signalCode).toBe('SIGKILL');
    expect(readCheckpoint(join(dir, 'ckpt')).state.numbers.passChunks! % 7).toBe(0);
    expect(readCheckpoint(join(dir, 'ckpt')).state.numbers.passChunks).toBeGreaterThan(0);
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

  it('the CLI resumes an out-of-core l1 fit of a Parquet file (--checkpoint, then --resume) to the uninterrupted model', async () => {
    const dir = tmp();
    const cli = ['fit', `${FIXTURES}hawaiibirds-long-snappy.parquet`, '--loss', 'l1', '--rank', '3', '--seed', '4', '--warmup', '2', '--tol', '0', '--temp-dir', dir];
    expect(await runCli([...cli, '--max-iterations', '6', '--out', join(dir, 'whole.arrow')])).toBe(0);
    expect(await runCli([...cli, '--max-iterations', '3', '--checkpoint', join(dir, 'ckpt')])).toBe(0);
    expect(readCheckpoint(join(dir, 'ckpt')).trace.map((t) => t.iteration)).toEqual([1, 2]);
    expect(await runCli([...cli, '--max-iterations', '6', '--resume', join(dir, 'ckpt'), '--out', join(dir, 'resumed.arrow')])).toBe(0);
    const whole = await readModel(join(dir, 'whole.arrow'));
    const resumed = await readModel(join(dir, 'resumed.arrow'));
    expect(same(resumed.W, whole.W)).toBe(true);
    expect(same(resumed.d, whole.d)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['ckpt', 'resumed.arrow', 'whole.arrow']); // no feature-major copy left
  });
});
