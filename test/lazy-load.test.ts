/**
 * Issue #13: heavy dependencies load when first needed. parquet-wasm and hyparquet-compressors instantiate
 * WebAssembly when imported (about 10 GB of address space each on a 64-bit Node), and Vega / Vega-Lite take
 * ~0.3 s to load; none of them may be a static import of the library or of the CLI.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { SHARED_DATA } from './helpers/load-mtx-sync.js';

const ROOT = new URL('../', import.meta.url).pathname;
// Inside the repository, so that the bundle's bare imports resolve to node_modules.
const OUT = `${ROOT}node_modules/.cache/nmflow-test-${process.pid}/`;
const LAZY = ['parquet-wasm', 'hyparquet-compressors', 'vega', 'vega-lite'];

/** One ES module of `entry` and everything it imports from src/, packages left as imports. */
function bundle(entry: string, name: string): string {
  mkdirSync(OUT, { recursive: true });
  const outfile = `${OUT}${name}.mjs`;
  buildSync({ entryPoints: [`${ROOT}${entry}`], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, target: 'node20', logLevel: 'error' });
  return outfile;
}
afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe('lazy loading', () => {
  it('the library and the CLI import parquet-wasm, hyparquet-compressors, vega and vega-lite only dynamically', () => {
    for (const [entry, name] of [['src/index.ts', 'index'], ['src/cli/run.ts', 'cli']] as const) {
      const text = readFileSync(bundle(entry, name), 'utf8');
      const staticImports = [...text.matchAll(/^import\s[^;]*?from\s*"([^"]+)"/gm)].map((m) => m[1]!);
      expect(staticImports.length).toBeGreaterThan(3); // apache-arrow, rxjs, …: the pattern sees imports
      for (const name of LAZY) expect(staticImports.filter((s) => s === name || s.startsWith(`${name}/`)), `${entry}: ${name}`).toEqual([]);
      expect(text).toContain('import("parquet-wasm")');
    }
  });

  it('the CLI fits an .mtx under a 16 GB address-space limit (prlimit --as)', () => {
    const cli = bundle('src/cli/run.ts', 'cli-limited');
    const run = spawnSync('prlimit', [`--as=${16 * 2 ** 30}`, 'node', cli, 'fit', `${SHARED_DATA}hawaiibirds.mtx`, '--rank', '3', '--max-iterations', '2', '--threads', '1', '--json'],
      { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toMatchObject({ done: true, iterations: 2, features: 183 });
  });
});
