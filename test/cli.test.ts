import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel } from '../src/io/model-file.js';
import { lastValueFrom } from 'rxjs';
import { fitOnline } from '../src/pipeline/fit-online.js';
import { fromCsc } from '../src/source/from-csc.js';
import { SHARED_DATA, loadSharedMtx } from './helpers/load-mtx-sync.js';
import { nmflow } from './helpers/cli.js';

const PBMC = `${SHARED_DATA}pbmc_small.mtx`;


function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('nmflow fit (CLI)', () => {
  it('--json prints one line per iteration and a final summary; --tol 0 runs exactly --max-iterations', async () => {
    const { code, stdout } = await nmflow('fit', PBMC, '--rank', '4', '--max-iterations', '7', '--tol', '0', '--json');
    expect(code).toBe(0);
    const lines = jsonLines(stdout);
    expect(lines).toHaveLength(8);
    lines.slice(0, 7).forEach((line, t) => {
      expect(Object.keys(line)).toEqual(['iteration', 'relativeLoss', 'objective', 'tol', 'seconds']);
      expect(line.iteration).toBe(t + 1);
    });
    const done = lines[7]!;
    expect(done).toMatchObject({ done: true, iterations: 7, features: 230, samples: 80, nnz: 4456, rank: 4 });
    expect(typeof done.loadSeconds).toBe('number');
    expect(typeof done.fitSeconds).toBe('number');
  });

  it('--online: one pass, a JSON line per snapshot, the model of fitOnline with the same options; online-only flags need --online', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-cli-'));
    const out = join(dir, 'online.arrow');
    const { code, stdout } = await nmflow('fit', PBMC, '--rank', '3', '--online', '--chunk-size', '16', '--window', '2', '--sweeps', '2',
      '--forgetting', '0.95', '--emit-every', '2', '--seed', '5', '--json', '--out', out);
    expect(code).toBe(0);
    const lines = jsonLines(stdout);
    expect(lines.map((l) => l.iteration)).toEqual([2, 4, undefined]); // 5 chunks: snapshots after 2 and 4, then the summary
    expect(lines.at(-1)).toMatchObject({ done: true, iterations: 5, online: true, samples: 80, nnz: 4456 });
    const expected = await lastValueFrom(fitOnline(fromCsc(loadSharedMtx('pbmc_small'), { chunkSize: 16 }),
      { rank: 3, window: 2, sweeps: 2, forgetting: 0.95, seed: 5 }));
    const model = await readModel(out);
    expect(Array.from(model.W)).toEqual(Array.from(expected.W));
    for (const args of [['--online', '--max-iterations', '3'], ['--window', '3'], ['--online', '--forgetting', '2'], ['--online', '--out-h', join(dir, 'h.csv')]]) {
      const bad = await nmflow('fit', PBMC, '--rank', '3', ...args);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('starts from --init-w and writes a model file that reads back, leaving no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-cli-'));
    const w0 = Array.from({ length: 230 }, (_, i) => [1 + (i % 3), 1 + (i % 5), 1 + (i % 7)].join(',')).join('\n');
    writeFileSync(join(dir, 'W0.csv'), w0 + '\n');
    const args = ['fit', PBMC, '--rank', '3', '--init-w', join(dir, 'W0.csv'), '--max-iterations', '5', '--tol', '0', '--json'];
    const a = jsonLines((await nmflow(...args, '--out', join(dir, 'model.csv'))).stdout);
    const b = jsonLines((await nmflow(...args, '--out', join(dir, 'model.arrow'))).stdout);
    expect(a.at(-1)!.relativeLoss).toBe(b.at(-1)!.relativeLoss);
    const csv = await readModel(join(dir, 'model.csv'));
    const arrow = await readModel(join(dir, 'model.arrow'));
    expect(csv.rank).toBe(3);
    expect(csv.features).toBe(230);
    expect(Array.from(csv.W)).toEqual(Array.from(arrow.W));
    expect(Array.from(csv.d)).toEqual(Array.from(arrow.d));
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('with --loss l1 and an explicit start, the first JSON line is iteration 0 and every line carries objective', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-cli-'));
    writeFileSync(join(dir, 'W0.csv'), Array.from({ length: 230 }, (_, i) => `${1 + (i % 3)},${1 + (i % 4)}`).join('\n'));
    writeFileSync(join(dir, 'H0.csv'), [0, 1].map((a) => Array.from({ length: 80 }, (_, j) => ((j + a) % 5) / 4).join(',')).join('\n'));
    const { code, stdout } = await nmflow('fit', PBMC, '--rank', '2', '--loss', 'l1', '--init-w', join(dir, 'W0.csv'),
      '--init-h', join(dir, 'H0.csv'), '--max-iterations', '4', '--tol', '0', '--json');
    expect(code).toBe(0);
    const lines = jsonLines(stdout);
    expect(lines.map((l) => l.iteration ?? 'done')).toEqual([0, 1, 2, 3, 4, 'done']);
    const objectives = lines.slice(0, 5).map((l) => l.objective as number);
    for (let t = 1; t < 5; t++) expect(objectives[t]!).toBeLessThanOrEqual(objectives[t - 1]!);
  });

  it('exits 2 with a one-line usage message for bad flags, before reading any file', async () => {
    for (const args of [['fit', 'missing.mtx', '--rank', '0'], ['fit', PBMC, '--rank', '3', '--l1', '1.5'], ['fit', PBMC], ['fit', PBMC, '--rank', 'x']]) {
      const { code, stderr } = await nmflow(...args);
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    }
    const { stderr } = await nmflow('fit', PBMC, '--rank', '500');
    expect(stderr).toMatch(/rank.*≤ min\(features, samples\) = 80/);
  });

  it('exits 1 naming the file and line for bad data, with no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-cli-'));
    const bad = join(dir, 'bad.mtx');
    writeFileSync(bad, '%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1.5\n2 2 -4\n');
    const { code, stderr } = await nmflow('fit', bad, '--rank', '1');
    expect(code).toBe(1);
    expect(stderr).toContain('bad.mtx');
    expect(stderr).toContain('line 4');
    expect(stderr).not.toContain('    at ');
  });
});

describe('nmflow fit on Parquet and Arrow inputs (CLI)', () => {
  const FIXTURES = new URL('../../shared/fixtures/', import.meta.url).pathname;
  it('every layout and format of hawaiibirds gives the model of the .mtx, and reports what was read', async () => {
    const expected = jsonLines((await nmflow('fit', `${SHARED_DATA}hawaiibirds.mtx`, '--rank', '3', '--max-iterations', '4', '--tol', '0', '--json', '--threads', '1')).stdout).at(-1)!;
    for (const args of [
      ['hawaiibirds-long-snappy.parquet'], ['hawaiibirds-long-zstd-v2.parquet'], ['hawaiibirds-long.arrow'], ['hawaiibirds-long.arrows'],
      ['hawaiibirds-wide.parquet', '--layout', 'wide'], ['hawaiibirds-list.parquet', '--layout', 'list'],
    ]) {
      const { code, stdout, stderr } = await nmflow('fit', `${FIXTURES}${args[0]}`, ...args.slice(1), '--rank', '3', '--max-iterations', '4', '--tol', '0', '--json', '--threads', '1');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const done = jsonLines(stdout).at(-1)!;
      expect(done).toMatchObject({ features: 183, samples: 1183, nnz: 30815 });
      expect(done.relativeLoss).toBe(expected.relativeLoss);
    }
  }, 240_000); // nine CLI processes in a row: on a loaded 2-core machine each takes 5–10 s

  it('a missing column is a one-line data error naming the file and the column', async () => {
    const { code, stderr } = await nmflow('fit', `${FIXTURES}hawaiibirds-long.arrow`, '--sample', 'cell', '--rank', '3');
    expect(code).toBe(1);
    expect(stderr).toContain('hawaiibirds-long.arrow');
    expect(stderr).toContain('cell');
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
