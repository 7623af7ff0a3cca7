import { EMPTY } from 'rxjs';
import { defaultMemoryLimit } from '../src/memory-limit.js';
import { describe, expect, it } from 'vitest';
import { OptionError } from '../src/errors.js';
import { openTableWriter } from '../src/io/write-table.js';
import { resolveOptions } from '../src/options.js';
import { OPTION_TABLE, type OptionRow } from '../src/options/table.js';
import { rowsOf, validate, type EntryPoint } from '../src/options/validate.js';
import { fit, fitModel } from '../src/pipeline/fit.js';
import { fitOnline } from '../src/pipeline/fit-online.js';
import { nndsvdStart, randomizedSvd } from '../src/pipeline/nndsvd-start.js';
import { DEFAULT_OVERSAMPLE, DEFAULT_POWER_ITERATIONS } from '../src/model/svd/sketch.js';
import { project } from '../src/pipeline/project.js';
import { fromArrow } from '../src/source/from-arrow.js';
import { fromCsc, fromDense } from '../src/source/from-csc.js';
import { fromMtx, loadMtx } from '../src/source/from-mtx.js';
import { fromParquet } from '../src/source/from-parquet.js';
import { nmflow } from './helpers/cli.js';

const A = fromDense([1, 2, 0, 3, 4, 0, 5, 6, 7, 0, 8, 9], 3, 4).matrix;
const model = { loss: 'l2' as const, rank: 1, features: 3, W: Float64Array.from([1, 1, 1]), d: Float64Array.from([1]) };

/** The OptionError an unknown key gives: it names the key and suggests `meant`. */
function expectUnknown(call: () => unknown, key: string, meant: string): void {
  let error: unknown;
  try { call(); } catch (e) { error = e; }
  expect(error).toBeInstanceOf(OptionError);
  expect((error as OptionError).option).toBe(key);
  expect((error as Error).message).toContain(`Unknown option \`${key}\``);
  expect((error as Error).message).toContain(`did you mean \`${meant}\`?`);
}

describe('unknown option keys are refused at every entry point, naming the nearest known key', () => {
  it('fit, fitOnline and project refuse a misspelt key synchronously, before anything is subscribed', () => {
    let subscribed = false;
    const source = { ...fromCsc(A), chunks: () => { subscribed = true; return fromCsc(A).chunks(); } };
    expectUnknown(() => fit(source, { rank: 1, maxIteration: 5 } as never), 'maxIteration', 'maxIterations');
    expectUnknown(() => fitOnline(EMPTY, { rank: 1, forgeting: 0.9 } as never), 'forgeting', 'forgetting');
    expectUnknown(() => project(model, { layout: 'long', pasThrough: ['x'] } as never), 'pasThrough', 'passThrough');
    expect(subscribed).toBe(false);
  });

  it('fitModel rejects with the same error', async () => {
    await expect(fitModel(fromCsc(A), { rank: 1, lamda: 0.5 } as never)).rejects.toThrow(/Unknown option `lamda`.*did you mean `lambda`\?/);
  });

  it('every source, the table writer and the SVD start refuse a misspelt key', async () => {
    await expect(openTableWriter('x.parquet', { rowGroupsize: 5 } as never)).rejects.toThrow(/Unknown option `rowGroupsize` of openTableWriter: did you mean `rowGroupSize`\?/);
    expectUnknown(() => fromArrow('x.arrow', { layout: 'long', chunksize: 10 } as never), 'chunksize', 'chunkSize');
    expectUnknown(() => fromParquet('x.parquet', { layout: 'wide', featurs: ['a'] } as never), 'featurs', 'features');
    expectUnknown(() => fromMtx('x.mtx', { chunkSze: 3 } as never), 'chunkSze', 'chunkSize');
    await expect(loadMtx('x.mtx', { nmae: 'x' } as never)).rejects.toThrow(/did you mean `name`\?/);
    expectUnknown(() => fromCsc(A, { chunkSizes: 2 } as never), 'chunkSizes', 'chunkSize');
    expectUnknown(() => fromDense([1, 2], 1, 2, { layuot: 'row' } as never), 'layuot', 'layout');
    expectUnknown(() => nndsvdStart(fromCsc(A), { rank: 1, seed: 1, fill: false, oversamples: 3 } as never), 'oversamples', 'oversample');
    expectUnknown(() => randomizedSvd(fromCsc(A), { rank: 1, seed: 1, powerIteration: 2 } as never), 'powerIteration', 'powerIterations');
  });

  it('a sub-option is checked too, and a key of another layout is said to be one', () => {
    expectUnknown(() => resolveOptions({ rank: 1, checkpoint: { dir: 'd', evry: 2 } } as never), 'checkpoint.evry', 'checkpoint.every');
    expect(() => fromArrow('x.arrow', { layout: 'long', entries: 'e' } as never)).toThrow(/`entries`.*an option of the list layout, not of "long"/);
    expect(() => fit(fromCsc(A), { rank: 1, zzz: 1 } as never)).toThrow(/Unknown option `zzz` of fit: the options are `rank`, `loss`/);
  });

  it('the online options are the table\'s: fit refuses them, fitOnline checks their kinds', () => {
    expect(() => fit(fromCsc(A), { rank: 1, window: 4 } as never)).toThrow(/Unknown option `window`/);
    expect(() => fitOnline(EMPTY, { rank: 1, emitEveryMs: -1 })).toThrow(/Invalid option `emitEveryMs`: expected a number ≥ 0, got -1/);
    expect(() => fitOnline(EMPTY, { rank: 1, window: 1.5 })).toThrow(/Invalid option `window`: expected an integer ≥ 1 \(chunks\)/);
  });
});

/** The defaults of the options before the table (src/options.ts, layout.ts, fit-online.ts, project.ts, from-csc.ts, from-mtx.ts). */
const OLD_DEFAULTS: Record<string, unknown> = {
  'fit:rank': undefined, 'fit:loss': 'l2', 'fit:l1': 0, 'fit:l2': 0, 'fit:lambda': 1, 'fit:maxIterations': 100, 'fit:solver': 'fast',
  'fit:tol': 1e-5, 'fit:seed': 42, 'fit:init': 'random', 'fit:init.W': undefined, 'fit:init.H': undefined, 'fit:warmupIterations': 10,
  'fit:keepH': false, 'fit:checkpoint': undefined, 'fit:checkpoint.dir': undefined, 'fit:checkpoint.every': 1, 'fit:checkpoint.chunks': undefined,
  'fit:resumeFrom': undefined, 'fit:diag': true, 'fit:threads': undefined, 'fit:tempDir': undefined, 'fit:onChunk': undefined, 'fit:emit': 'every',
  'fit:onIteration': undefined, 'fit:nnlsMethod': 'active-set', 'fit:nnlsMaxSweeps': 100, 'fit:nnlsTol': 1e-8, 'fit:wasm': true,
  'fit:memoryLimit': undefined,
  // issue #15: masks and held-out test sets (options/resolve-mask.ts)
  'fit:mask': undefined, 'fit:maskSource': undefined, 'fit:missing': 'error', 'fit:testFraction': undefined, 'fit:testSeed': 1, 'fit:testZeros': 'sampled', 'fit:earlyStop': false,
  'online:forgetting': 1, 'online:emitEvery': 1, 'online:emitEveryMs': undefined, 'online:name': 'live stream', 'online:window': 4, 'online:sweeps': 1,
  'layout:layout': 'long', 'layout:feature': 'feature', 'layout:sample': 'sample', 'layout:value': 'value', 'layout:features@long': undefined,
  'layout:features@wide': undefined, 'layout:indices': 'indices', 'layout:values': 'values', 'layout:entries': undefined,
  'read:chunkSize': 4096, 'read:batchSize': 65536, 'read:readAhead': undefined, 'read:memoryBudget': undefined, 'read:samples': undefined, 'read:featureNames': undefined, 'read:indexBase': 0,
  'read:unknownFeatures@long': 'error', 'read:unknownFeatures@wide': 'error', 'read:name': undefined,
  'project:passThrough': undefined, 'project:replaceFeatures': false, 'project:featureNames': undefined, 'project:unknownFeatures': 'error',
  'project:indexBase': 0, 'project:name': 'record batches', 'project:threads': undefined, 'project:l1': 0, 'project:l2': 0, 'project:lambda': 1,
  'project:maxSweeps': 100, 'project:wasm': true,
  'writer:format': undefined, 'writer:rowGroupSize': 65536, 'writer:rowGroupBytes': 64 * 2 ** 20, 'writer:compression': 'zstd',
  'svd:rank': undefined, 'svd:seed': undefined, 'svd:oversample': DEFAULT_OVERSAMPLE, 'svd:powerIterations': DEFAULT_POWER_ITERATIONS,
  'svd:wasm': true, 'nndsvd:fill': undefined, 'nndsvd:withH': true,
  'mtx:chunkSize': undefined, 'mtx:name': undefined, 'csc:name': 'in-memory CSC', 'csc:featureNames': undefined, 'dense:layout': 'col',
  // issue #16: names and orientation (new options; their defaults keep the behaviour of before)
  'csc:sampleNames': undefined, 'online:buffer': 4, 'mtx:featureNames': undefined, 'mtx:sampleNames': undefined, 'mtx:transpose': false,
};

const ENTRY_OF: Record<string, EntryPoint> = {
  fit: 'fit', online: 'fitOnline', layout: 'source', read: 'source', project: 'project', writer: 'tableWriter', mtx: 'mtx', csc: 'csc', dense: 'dense',
  svd: 'randomizedSvd', nndsvd: 'nndsvdStart',
};

/** The least options of an entry point (with the parents of sub-options given, so that their defaults show). */
function least(entry: EntryPoint, layout: string): Record<string, unknown> {
  if (entry === 'fit' || entry === 'fitOnline') return { rank: 1, init: {}, checkpoint: { dir: 'd' } };
  if (entry === 'randomizedSvd' || entry === 'nndsvdStart') return { rank: 1, seed: 1, ...(entry === 'nndsvdStart' ? { fill: false } : {}) };
  return entry === 'source' || entry === 'project' ? { layout } : {};
}

function resolvedDefault(row: OptionRow): unknown {
  const entry = ENTRY_OF[row.scopes[0]!]!;
  const layout = row.layouts?.[0] ?? 'long';
  const values = validate(entry, least(entry, layout)) as Record<string, Record<string, unknown>>;
  const [parent, child] = row.name.split('.') as [string, string | undefined];
  if (parent === 'init' && child === undefined) return 'random'; // given as {} above, to show init.W / init.H
  if (parent === 'checkpoint' && child === undefined) return undefined; // given above, to show its sub-options
  if (row.required) return undefined; // given above
  return child === undefined ? values[parent] : values[parent]![child];
}

describe('the options table', () => {
  it('every row resolves to the default the option had before the table', () => {
    for (const row of OPTION_TABLE) {
      const plain = `${row.scopes[0]}:${row.name}`;
      const key = `${plain}@${row.layouts?.[0]}` in OLD_DEFAULTS ? `${plain}@${row.layouts?.[0]}` : plain; // rows of one name for other layouts
      expect(OLD_DEFAULTS, `row ${key}`).toHaveProperty([key]);
      expect(resolvedDefault(row), `row ${key}`).toEqual(OLD_DEFAULTS[key]);
    }
  });

  it('the computed defaults: tol and window follow loss and solver as before', () => {
    expect(resolveOptions({ rank: 1, solver: 'exact' }).tol).toBe(1e-4);
    expect(resolveOptions({ rank: 1, loss: 'l1' }).tol).toBe(1e-6);
    expect(validate('fitOnline', { rank: 1, loss: 'l1' }).window).toBe(8);
    expect(validate('fitOnline', { rank: 1, solver: 'exact' }).window).toBe(1);
    expect(validate('fitOnline', { rank: 1, nnlsMethod: 'cd' }).window).toBe(1);
  });

  it('resolves the least fit options to the resolved options of before', () => {
    expect(resolveOptions({ rank: 2 })).toEqual({
      rank: 2, loss: 'l2', l1W: 0, l1H: 0, l2W: 0, l2H: 0, lambda: 1, maxIterations: 100, tol: 1e-5, seed: 42, initW: undefined, initH: undefined,
      initMethod: 'random', warmupIterations: 10, keepH: false, nnlsMaxSweeps: 100, nnlsTol: 1e-8, nnlsMethod: 0, checkpoint: undefined,
      resumeFrom: undefined, onChunk: undefined, emit: 'every', onIteration: undefined, threads: undefined, tempDir: undefined, diag: true,
      solver: 'fast', wasm: true, memoryLimit: defaultMemoryLimit(),
    });
  });

  it('no entry point has two rows of one name for one layout', () => {
    for (const entry of Object.values(ENTRY_OF)) {
      for (const layout of ['long', 'wide', 'list'] as const) {
        const names = rowsOf(entry, layout).map((r) => r.name);
        expect(new Set(names).size, `${entry} ${layout}`).toBe(names.length);
      }
    }
  });
});

describe('the CLI flags come from the table', () => {
  it('`nmflow fit --help` shows each option flag with its doc and default; a misspelt flag is a usage error (exit 2)', async () => {
    const [help, typo] = await Promise.all([nmflow('fit', '--help'), nmflow('fit', 'x.mtx', '--rank', '2', '--max-iteration', '3')]);
    expect(help.code).toBe(0);
    const text = help.stdout.replace(/\s+/g, ' ');
    const shown = rowsOf('fitOnline').filter((r) => r.flag !== undefined && text.includes(r.flag));
    expect(shown.length).toBeGreaterThanOrEqual(20);
    for (const row of shown) expect(text).toContain(row.doc.replace(/\s+/g, ' '));
    expect(text).toContain('--max-iterations <N> maximum iterations (passes) (default: 100)');
    expect(typo.code).toBe(2);
  });
});
