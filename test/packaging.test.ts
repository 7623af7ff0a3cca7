/**
 * Issue #16, packaging: the packed tarball (`npm pack`, which builds through `prepare`) installed in a temporary
 * project works from ESM, from CommonJS (`require`), from TypeScript with `skipLibCheck: false`, and bundled by
 * esbuild for Node (run from a directory without node_modules); `nmflow/report` is its own entry; every source map
 * and declaration map points at a file the tarball ships. The project's dependencies are links to this
 * repository's node_modules (no network).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../', import.meta.url).pathname;
const TMP = mkdtempSync(join(tmpdir(), 'nmflow-pack-'));
const PROJECT = join(TMP, 'project');
const PACKAGE = join(PROJECT, 'node_modules', 'nmflow');
const node = (args: string[], cwd = PROJECT): { status: number | null; stdout: string; stderr: string } =>
  spawnSync('node', args, { cwd, encoding: 'utf8', timeout: 60_000 });

beforeAll(() => {
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', TMP], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').at(-1)!;
  mkdirSync(PACKAGE, { recursive: true });
  execFileSync('tar', ['xzf', join(TMP, tarball), '-C', PACKAGE, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of [...Object.keys(manifest.dependencies), '@types/node']) {
    mkdirSync(dirname(join(PROJECT, 'node_modules', dep)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), join(PROJECT, 'node_modules', dep));
  }
  writeFileSync(join(PROJECT, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
}, 240_000);
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const FIT = 'fromDense([1, 2, 0, 4, 5, 6, 7, 0, 9, 10, 11, 12, 3, 1, 2, 5], 4, 4), { rank: 2, seed: 1, maxIterations: 5 }';

describe('packaging (from the packed tarball)', () => {
  it('ESM: import nmflow, fit, write and read a Parquet model (decoder loaded on use); nmflow/report builds a report', () => {
    writeFileSync(join(PROJECT, 'esm.mjs'), `import { fitModel, fromDense, writeModel, readModel } from 'nmflow';
const model = await fitModel(${FIT});
await writeModel('esm.parquet', model);
const back = await readModel('esm.parquet');
const { buildReport } = await import('nmflow/report');
const html = await buildReport([{ label: 'm', model }]);
console.log(JSON.stringify({ rank: back.rank, version: back.version, report: html.includes('<svg') }));`);
    const run = node(['esm.mjs']);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ rank: 2, version: '0.1.0', report: true });
  });

  it('CommonJS: require(\'nmflow\') and require(\'nmflow/report\'), worker threads included', () => {
    writeFileSync(join(PROJECT, 'cjs.cjs'), `const { fitModel, fromDense, writeModel, readModel, NmfError } = require('nmflow');
(async () => {
  const model = await fitModel(${FIT.replace('maxIterations: 5', 'maxIterations: 5, threads: 2')});
  await writeModel('cjs.parquet', model);
  const back = await readModel('cjs.parquet');
  const { buildReport } = require('nmflow/report');
  const html = await buildReport([{ label: 'm', model }]);
  let code;
  try { fromDense([1, -1], 1, 2); } catch (e) { code = e instanceof NmfError && e.code; }
  console.log(JSON.stringify({ rank: back.rank, report: html.includes('<svg'), code }));
})().catch((e) => { console.error(e); process.exit(1); });`);
    const run = node(['cjs.cjs']);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ rank: 2, report: true, code: 'INVALID_VALUE' });
  });

  it('TypeScript: strict, NodeNext, skipLibCheck false type-checks a program using nmflow and nmflow/report', () => {
    writeFileSync(join(PROJECT, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true, types: ['node'] },
      files: ['app.ts'],
    }));
    writeFileSync(join(PROJECT, 'app.ts'), `import { fitModel, fromDense, readModel, type Model, type StoredModel } from 'nmflow';
import { writeReport, type ReportModel } from 'nmflow/report';
const model: Model = await fitModel(${FIT});
const stored: StoredModel = await readModel('esm.parquet');
const models: ReportModel[] = [{ label: 'a', model }, { label: 'b', model: stored }];
await writeReport('r.html', models);
`);
    const tsc = spawnSync('node', [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', PROJECT], { encoding: 'utf8', timeout: 120_000 });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('esbuild: a bundle for Node (ESM and CommonJS) runs from a directory without node_modules', async () => {
    const { build } = await import('esbuild');
    writeFileSync(join(PROJECT, 'bundled.mjs'), `import { fitModel, fromDense, writeModel, readModel } from 'nmflow';
const model = await fitModel(${FIT});
await writeModel(process.argv[2] + '/bundled.csv', model);
console.log(JSON.stringify({ rank: (await readModel(process.argv[2] + '/bundled.csv')).rank }));`);
    const away = mkdtempSync(join(tmpdir(), 'nmflow-bundle-'));
    try {
      for (const format of ['esm', 'cjs'] as const) {
        const outfile = join(away, `app.${format === 'esm' ? 'mjs' : 'cjs'}`);
        const entry = format === 'esm' ? join(PROJECT, 'bundled.mjs') : join(PROJECT, 'bundled.cjs');
        if (format === 'cjs') {
          writeFileSync(entry, `const { fitModel, fromDense, writeModel, readModel } = require('nmflow');
(async () => { const model = await fitModel(${FIT}); await writeModel(process.argv[2] + '/b.csv', model);
console.log(JSON.stringify({ rank: (await readModel(process.argv[2] + '/b.csv')).rank })); })();`);
        }
        await build({ entryPoints: [entry], bundle: true, platform: 'node', format, target: 'node20', outfile, logLevel: 'error', absWorkingDir: PROJECT });
        const run = node([outfile, away], away);
        expect(run.stderr, format).toBe('');
        expect(JSON.parse(run.stdout), format).toEqual({ rank: 2 });
      }
    } finally {
      rmSync(away, { recursive: true, force: true });
    }
  }, 120_000);

  it('every source map and declaration map points at a file the tarball ships; doc comments on the public functions', () => {
    const maps: string[] = [];
    (function walk(dir: string): void {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.map')) maps.push(path);
      }
    })(join(PACKAGE, 'dist'));
    expect(maps.length).toBeGreaterThan(100);
    const missing = maps.flatMap((map) => (JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }).sources
      .map((source) => resolve(dirname(map), source)).filter((path) => !existsSync(path)));
    expect(missing).toEqual([]);
    // every function the two entries export carries a doc comment in its declaration
    const undocumented: string[] = [];
    const visit = (file: string, names: ReadonlySet<string> | undefined): void => {
      const text = readFileSync(join(PACKAGE, 'dist', file), 'utf8');
      for (const [, list, from] of text.matchAll(/^export \{([^}]*)\} from '\.\/([^']+)\.js';/gm)) {
        const exported = list!.split(',').map((n) => n.trim()).filter((n) => n !== '' && !n.startsWith('type '));
        visit(join(dirname(file), `${from!}.d.ts`), new Set(exported.filter((n) => names === undefined || names.has(n))));
      }
      for (const [, from] of text.matchAll(/^export \* from '\.\/([^']+)\.js';/gm)) visit(join(dirname(file), `${from!}.d.ts`), names);
      for (const match of text.matchAll(/(\*\/\s*)?export declare function (\w+)/g)) {
        if (!match[1] && (names === undefined || names.has(match[2]!))) undocumented.push(`${file}: ${match[2]}`);
      }
    };
    visit('index.d.ts', undefined);
    visit('report/index.d.ts', undefined);
    visit('cluster/index.d.ts', undefined);
    expect(undocumented).toEqual([]);
  });
});
