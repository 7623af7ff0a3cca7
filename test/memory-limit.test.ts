/**
 * Issue #13, item 3: one bad number must not exhaust memory. A shape is checked against the memory
 * limit (src/memory-limit.ts) before anything of its size is allocated: a sample id near 2·10⁹ in a
 * long table, a feature id that makes m huge, a Matrix Market size line near 2³¹ — each ends in a
 * MEMORY_LIMIT error that says where and how much, and the CLI says so under a small address-space cap.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { lastValueFrom } from 'rxjs';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { NmfError, OptionError } from '../src/errors.js';
import { defaultMemoryLimit, fitBudget, parseBytes, resolveMemoryLimit } from '../src/memory-limit.js';
import { fit } from '../src/pipeline/fit.js';
import { fitOnline } from '../src/pipeline/fit-online.js';
import { fromArrow } from '../src/source/from-arrow.js';
import { fromMtx } from '../src/source/from-mtx.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import { CLI } from './helpers/cli.js';
import { SHARED_DATA } from './helpers/load-mtx-sync.js';

const dir = mkdtempSync(join(tmpdir(), 'nmflow-memory-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(new URL(`../node_modules/.cache/nmflow-memory-${process.pid}/`, import.meta.url).pathname, { recursive: true, force: true });
});

/** A long-layout Arrow file: three ordinary rows, then one row with the given ids. */
function longArrow(name: string, last: { feature: number; sample: number }): string {
  const path = join(dir, name);
  writeFileSync(path, tableToIPC(tableFromArrays({
    feature: Int32Array.from([0, 1, 2, last.feature]), sample: Int32Array.from([0, 0, 1, last.sample]), value: Float64Array.from([1, 2, 3, 4]),
  }), 'file'));
  return path;
}

async function fitError(source: MatrixSource, memoryLimit?: number): Promise<NmfError> {
  const error = await lastValueFrom(fit(source, { rank: 2, maxIterations: 2, ...(memoryLimit === undefined ? {} : { memoryLimit }) }))
    .then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(NmfError);
  return error as NmfError;
}

describe('memory limit', () => {
  it('reads sizes in binary units and refuses a limit that is not a size', () => {
    expect(parseBytes('8G')).toBe(8 * 2 ** 30);
    expect(parseBytes('512M')).toBe(512 * 2 ** 20);
    expect(parseBytes('1.5GB')).toBe(1.5 * 2 ** 30);
    expect(parseBytes('1048576')).toBe(2 ** 20);
    for (const bad of ['', 'G', '-1G', '8Q', '1e9']) expect(parseBytes(bad), bad).toBeUndefined();
    expect(() => resolveMemoryLimit(1000)).toThrow(OptionError);
    expect(() => resolveMemoryLimit('8G')).toThrow(OptionError);
    expect(resolveMemoryLimit(undefined)).toBe(defaultMemoryLimit());
    expect(defaultMemoryLimit()).toBeGreaterThan(2 ** 20);
  });

  it('a fit\'s budget grows with features, samples and rank, and says what would be needed', () => {
    const b = fitBudget(2 ** 30, { rank: 10, loss: 'l2' });
    expect(b.need(1000, 2000)).toBeLessThan(fitBudget(2 ** 30, { rank: 20, loss: 'l2' }).need(1000, 2000));
    expect(b.need(1000, 2000)).toBeLessThan(b.need(1000, 4000));
    expect(() => b.check(1000, 2000)).not.toThrow();
    expect(() => b.check(100, 10 ** 9, { source: 'x.arrow', row: 7 })).toThrow(/100 features × 1,000,000,000 samples: a fit at rank 10 would need .* GB, above the memory limit of 1\.0 GB .*--memory-limit.*source x\.arrow, row 7/);
  });

  it('a sample id near 2·10⁹ in a long table is MEMORY_LIMIT at its row, before any chunk up to it is made', async () => {
    const error = await fitError(fromArrow(longArrow('sample.arrow', { feature: 0, sample: 2_000_000_000 }), { layout: 'long', features: 3, chunkSize: 64 }));
    expect(error.code).toBe('MEMORY_LIMIT');
    expect(error.location).toMatchObject({ batch: 0, row: 3, column: 'sample', sample: 2_000_000_000 });
    expect(error.message).toContain('sample.arrow');
  });

  it('a feature id that makes m huge is MEMORY_LIMIT before W is allocated', async () => {
    const error = await fitError(fromArrow(longArrow('feature.arrow', { feature: 1_500_000_000, sample: 2 }), { layout: 'long', chunkSize: 64 }));
    expect(error.code).toBe('MEMORY_LIMIT');
    expect(error.message).toMatch(/^1,500,000,001 features: a fit at rank 2 would need/);
  });

  it('the option lowers the limit: an ordinary fit above it is refused, below it runs', async () => {
    const path = join(SHARED_DATA, 'hawaiibirds.mtx');
    const refused = await fitError(fromMtx(path), 32 * 2 ** 20);
    expect(refused.code).toBe('MEMORY_LIMIT');
    expect(refused.message).toContain('memory limit of 32.0 MB');
    const model = await lastValueFrom(fit(fromMtx(path), { rank: 2, maxIterations: 2, memoryLimit: 256 * 2 ** 20 }));
    expect(model.iteration).toBe(2);
  });

  it('fitOnline: a sample id near 2·10⁹ in a file is MEMORY_LIMIT at its row; the option bounds W', async () => {
    const online = (source: MatrixSource, memoryLimit?: number): Promise<unknown> => lastValueFrom(
      fitOnline(source, { rank: 2, ...(memoryLimit === undefined ? {} : { memoryLimit }) })).then(() => undefined, (e: unknown) => e);
    const far = await online(fromArrow(longArrow('online.arrow', { feature: 0, sample: 2_000_000_000 }), { layout: 'long', features: 3, chunkSize: 64 }));
    expect(far).toBeInstanceOf(NmfError);
    expect((far as NmfError).code).toBe('MEMORY_LIMIT');
    expect((far as NmfError).location).toMatchObject({ row: 3, column: 'sample' });
    const small = await online(fromMtx(join(SHARED_DATA, 'hawaiibirds.mtx'), { chunkSize: 256 }), 32 * 2 ** 20);
    expect((small as NmfError).code).toBe('MEMORY_LIMIT');
    expect((small as NmfError).message).toContain('an online fit at rank 2');
    expect(await online(fromMtx(join(SHARED_DATA, 'hawaiibirds.mtx'), { chunkSize: 256 }))).toBeUndefined();
  });

  it('a Matrix Market size line near 2³¹ is MEMORY_LIMIT at that line', async () => {
    const path = join(dir, 'huge.mtx');
    writeFileSync(path, '%%MatrixMarket matrix coordinate real general\n2000000000 2000000000 3\n1 1 1\n2 2 1\n3 3 1\n');
    const error = await fitError(fromMtx(path));
    expect(error.code).toBe('MEMORY_LIMIT');
    expect(error.location).toMatchObject({ source: path, line: 2 });
  });

  it('the CLI under a 16 GB address-space cap (prlimit --as) says MEMORY_LIMIT in one line for a huge declared shape, and --memory-limit works', () => {
    // One ES module (packages left as imports, so it lives inside the repository): tsx itself cannot start under the cap.
    const out = new URL(`../node_modules/.cache/nmflow-memory-${process.pid}/`, import.meta.url).pathname;
    mkdirSync(out, { recursive: true });
    const cli = join(out, 'cli.mjs');
    buildSync({ entryPoints: [new URL('../src/cli/run.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: cli, target: 'node20', logLevel: 'error', absWorkingDir: new URL('../', import.meta.url).pathname });
    const huge = join(dir, 'huge-cli.mtx');
    writeFileSync(huge, '%%MatrixMarket matrix coordinate real general\n2147483000 1000 2\n1 1 1\n2 2 1\n');
    const run = spawnSync('prlimit', [`--as=${16 * 2 ** 30}`, 'node', cli, 'fit', huge, '--rank', '2'], { encoding: 'utf8', cwd: new URL('../', import.meta.url).pathname });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/MEMORY_LIMIT|memory limit/);
    expect(run.stderr).toContain('huge-cli.mtx');
    const limited = spawnSync('node', [...CLI, 'fit', join(SHARED_DATA, 'hawaiibirds.mtx'), '--rank', '2', '--memory-limit', '32M'], { encoding: 'utf8' });
    expect(limited.status).toBe(1);
    expect(limited.stderr).toContain('memory limit of 32.0 MB');
    const bad = spawnSync('node', [...CLI, 'fit', join(SHARED_DATA, 'hawaiibirds.mtx'), '--rank', '2', '--memory-limit', 'lots'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
  });
});
