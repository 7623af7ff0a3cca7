/**
 * Checkpoints of masked fits (issue #15): mask zeros, held-out test sets and missing NaN entries checkpoint at
 * iteration boundaries and within a pass, and resume to the bytes of an uninterrupted fit (W, d, H, train and test
 * losses), in process and after SIGKILL (CLI); a checkpoint is resumed only with the mask settings it was made with.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { OptionError } from '../src/errors.js';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { readModel } from '../src/io/model-file.js';
import type { FitOptions } from '../src/options.js';
import { fitModel } from '../src/pipeline/fit.js';
import type { Model } from '../src/snapshot/snapshot.js';
import { fromCsc, type CscMatrix } from '../src/source/from-csc.js';
import { CLI } from './helpers/cli.js';
import { SHARED_DATA, loadSharedMtx } from './helpers/load-mtx-sync.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const dirs: string[] = [];
const tmp = (): string => { const d = mkdtempSync(join(tmpdir(), 'nmflow-ckpt-mask-')); dirs.push(d); return d; };
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const losses = (m: Model): unknown => m.trace.map((t) => [t.iteration, t.relativeLoss, t.tol, t.trainLoss, t.testLoss]);
function expectSameModel(a: Model, b: Model): void {
  expect(same(a.W, b.W)).toBe(true);
  expect(same(a.d, b.d)).toBe(true);
  expect(same(a.H!, b.H!)).toBe(true);
  expect(losses(a)).toEqual(losses(b));
}

/** hawaiibirds with every 13th stored value NaN (missing). */
function withNaN(A: CscMatrix): CscMatrix {
  const values = A.values.slice();
  for (let p = 5; p < values.length; p += 13) values[p] = Number.NaN;
  return { ...A, values };
}

const A = loadSharedMtx('hawaiibirds');
const CASES: readonly [string, Partial<FitOptions>, CscMatrix][] = [
  ['mask zeros with a test set', { mask: 'zeros', testFraction: 0.1 }, A],
  ['a test set with sampled zeros', { testFraction: 0.1, testSeed: 3 }, A],
  ['a test set with all zeros', { testFraction: 0.05, testZeros: 'all' }, A],
  ["missing: 'nan'", { missing: 'nan' }, withNaN(A)],
];
const source = (M: CscMatrix) => fromCsc(M, { chunkSize: 100, missing: 'nan' });

describe('checkpoints of masked fits (issue #15)', () => {
  for (const [name, mask, M] of CASES) {
    it(`${name}: resumed at an iteration boundary and within a pass (first pass too), the bytes of the uninterrupted fit`, async () => {
      const base = { rank: 4, seed: 6, tol: 0, keepH: true, ...mask } as FitOptions;
      const whole = await fitModel(source(M), { ...base, maxIterations: 5 });
      // at iteration boundaries
      const dir = tmp();
      await fitModel(source(M), { ...base, maxIterations: 3, checkpoint: { dir, every: 2 } });
      expect(readCheckpoint(dir).trace.map((t) => t.iteration)).toEqual([1, 2]);
      expectSameModel(await fitModel(source(M), { ...base, maxIterations: 5, resumeFrom: dir }), whole);
      // within a pass: crash once `stopAt` samples of iteration `stopIn` are read; checkpoints every 3 chunks
      for (const [stopIn, stopAt] of [[3, 650], [1, 420]] as const) {
        const mid = tmp();
        const crashed = await fitModel(source(M), {
          ...base, maxIterations: 5, checkpoint: { dir: mid, every: 100, chunks: 3 },
          onChunk: ({ iteration, samples }) => { if (iteration === stopIn && samples >= stopAt) throw new Error('crash'); },
        }).catch((error: unknown) => error);
        expect(String(crashed)).toMatch(/crash/);
        const saved = readCheckpoint(mid);
        expect(saved.state.numbers.passChunks).toBe(3 * Math.floor(Math.ceil(stopAt / 100) / 3));
        expect(saved.trace.length).toBe(stopIn - 1);
        expectSameModel(await fitModel(source(M), { ...base, maxIterations: 5, resumeFrom: mid }), whole);
      }
    });
  }

  it('refuses to resume with other mask settings, without the mask, or with a mask from an unmasked checkpoint: OptionError naming resumeFrom', async () => {
    const base = { rank: 3, seed: 1, tol: 0 } as const;
    const masked = tmp();
    await fitModel(source(A), { ...base, maxIterations: 2, testFraction: 0.1, checkpoint: { dir: masked } });
    const plain = tmp();
    await fitModel(source(A), { ...base, maxIterations: 2, checkpoint: { dir: plain } });
    const refused = async (options: FitOptions): Promise<unknown> => fitModel(source(A), { ...options, maxIterations: 4 }).catch((e: unknown) => e);
    for (const other of [{ testFraction: 0.2 }, { testFraction: 0.1, testSeed: 2 }, { testFraction: 0.1, mask: 'zeros' as const }, { testFraction: 0.1, testZeros: 'none' as const }, {}]) {
      const error = await refused({ ...base, ...other, resumeFrom: masked });
      expect(error).toBeInstanceOf(OptionError);
      expect((error as OptionError).option).toBe('resumeFrom');
    }
    expect(String(await refused({ ...base, resumeFrom: masked }))).toMatch(/without mask/);
    const error = await refused({ ...base, testFraction: 0.1, resumeFrom: plain });
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe('resumeFrom');
    // the same settings resume
    expect((await fitModel(source(A), { ...base, testFraction: 0.1, maxIterations: 4, resumeFrom: masked })).trace.length).toBe(4);
  });

  it('a masked fit killed with SIGKILL mid-pass resumes from its mid-pass checkpoint to the same model (CLI, child process)', async () => {
    const dir = tmp();
    const args = ['fit', `${SHARED_DATA}movielens.mtx`, '--rank', '4', '--seed', '3', '--max-iterations', '12', '--tol', '0', '--chunk-size', '10',
      '--mask', 'zeros', '--test-fraction', '0.1'];
    const run = (extra: string[]): Promise<number> => new Promise((resolve) => {
      spawn('node', [...CLI, ...args, ...extra], { stdio: 'ignore' }).on('exit', (code) => resolve(code ?? -1));
    });
    expect(await run(['--out', join(dir, 'whole.arrow')])).toBe(0);
    const checkpointing = ['--json', '--checkpoint', join(dir, 'ckpt'), '--checkpoint-every', '1000', '--checkpoint-chunks', '7'];
    const child = spawn('node', [...CLI, ...args, ...checkpointing], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const seen = (JSON.parse(line) as { iteration?: number }).iteration ?? 0;
        if (seen >= 4 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    expect(child.signalCode).toBe('SIGKILL');
    const saved = readCheckpoint(join(dir, 'ckpt'));
    expect(saved.state.numbers.passChunks).toBeGreaterThan(0);
    expect(saved.trace.length).toBeLessThan(12);
    expect(await run(['--resume', join(dir, 'ckpt'), '--out', join(dir, 'resumed.arrow')])).toBe(0);
    const whole = await readModel(join(dir, 'whole.arrow'));
    const resumed = await readModel(join(dir, 'resumed.arrow'));
    expect(same(resumed.W, whole.W)).toBe(true);
    expect(same(resumed.d, whole.d)).toBe(true);
  });
});
