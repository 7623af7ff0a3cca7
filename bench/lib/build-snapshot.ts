/**
 * Compiles the committed sources of `sha` (`git archive`: src/ and the tsconfig files) into
 * `<dataDir>/build-<sha>/dist`, once per commit. A benchmark imports the library from there (and
 * runs the CLI from there), so that all its figures describe one commit, whatever other engineers
 * are editing in the working tree meanwhile. Plain JavaScript: no tsx in a CLI process.
 * Run from the repository root (paths are relative to it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface SnapshotBuild {
  dist: string;
  /** Compile time, when this call compiled (absent for an existing build). */
  seconds?: number;
  /** tsc's report when it found type errors (it emits anyway). */
  warnings?: string;
}

export function buildSnapshot(sha: string, dataDir: string): SnapshotBuild {
  const root = join(dataDir, `build-${sha}`);
  const dist = join(root, 'dist');
  const done = join(root, 'complete');
  if (existsSync(done)) return { dist };
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const t0 = performance.now();
  execFileSync('sh', ['-c', `git archive ${sha} src tsconfig.json tsconfig.build.json | tar -x -C '${root}'`]);
  let warnings: string | undefined;
  try {
    execFileSync(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'pipe' });
  } catch (err) {
    // tsc emits despite type errors; a missing entry point means it did not.
    warnings = String((err as { stdout?: Buffer }).stdout ?? err).slice(0, 2000);
    if (!existsSync(join(dist, 'cli', 'run.js')) || !existsSync(join(dist, 'pipeline', 'fit.js'))) throw new Error(`cannot build ${sha}: ${warnings}`, { cause: err });
  }
  writeFileSync(done, `${new Date().toISOString()}\n`);
  return { dist, seconds: (performance.now() - t0) / 1000, ...(warnings ? { warnings } : {}) };
}

/**
 * A module of the library under test, by its path below src/ with a .js extension: from a compiled
 * snapshot (`root` = its dist directory) or from the working tree's sources (`root` = 'src', through tsx).
 * T is the module's type, e.g. `typeof import('../../src/pipeline/fit.js')`.
 */
export async function importLibrary<T>(root: string, path: string): Promise<T> {
  const base = root === 'src' ? new URL('../../src/', import.meta.url) : pathToFileURL(`${resolve(root)}/`);
  return await import(new URL(path, base).href) as T;
}
