/**
 * The distributed least-squares fit on real NATS servers (issue #14): worker processes of the CLI, a coordinator
 * in this process; the model is the same bytes as the in-process fit of the same Parquet files, for 1, 2 and 3
 * workers and for both solvers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import { fitOnNats, type ClusterFitOptions } from '../src/cluster/coordinator.js';
import { loadParquetWasm } from '../src/io/parquet-wasm.js';
import { UNIT_SAMPLES } from '../src/model/l2/units.js';
import { fitModel } from '../src/pipeline/fit.js';
import type { Snapshot } from '../src/snapshot/snapshot.js';
import { fromParquet } from '../src/source/from-parquet.js';
import { makeWorkers, modelBytes, writeListParts } from './helpers/cluster-data.js';
import { nmflow } from './helpers/cli.js';
import { natsServerBinary, startNatsServer, type NatsServer } from './helpers/nats-server.js';

const haveNats = natsServerBinary() !== undefined;

describe.skipIf(!haveNats)('fit on NATS: the same bytes as in process', () => {
  let server: NatsServer;
  let dir: string;
  let data: string;
  const workers = makeWorkers();
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nmflow-cluster-'));
    data = await writeListParts(join(dir, 'data'));
    server = await startNatsServer();
  }, 60_000);
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') console.error(`worker logs:\n${workers.logs()}`);
    await workers.stopAll();
  });
  afterAll(async () => {
    await workers.stopAll();
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const base = { rank: 4, seed: 3, maxIterations: 4, tol: 0, keepH: true } as const;
  const onNats = async (options: Omit<ClusterFitOptions, 'cluster'>): Promise<Snapshot> =>
    await lastValueFrom(fitOnNats(data, { ...options, layout: { layout: 'list' }, cluster: { servers: server.url, ackWaitSeconds: 3, idleTimeoutSeconds: 60 } }));

  for (const solver of ['fast', 'exact'] as const) {
    it(`${solver}: 1, 2 and 3 worker processes give the in-process fit's bytes (W, d, H; 3 units over 3 files)`, async () => {
      const plain = await fitModel(fromParquet(data, { layout: 'list' }), { ...base, solver });
      expect(plain.samples).toBeGreaterThan(8192);
      for (const count of solver === 'fast' ? [1, 2, 3] : [2]) {
        while (workers.all.length < count) workers.start(server.url);
        const model = await onNats({ ...base, solver });
        expect({ count, trace: model.trace!.map((t) => t.relativeLoss) }).toEqual({ count, trace: plain.trace!.map((t) => t.relativeLoss) });
        expect(modelBytes(model).equals(modelBytes(plain))).toBe(true);
      }
    }, 300_000);
  }

  /** The fit on NATS with these cluster settings; a worker started after pass `join` (the units move: replayed from the stored codes). */
  const joined = async (options: Omit<ClusterFitOptions, 'cluster' | 'layout'>, cluster: Partial<ClusterFitOptions['cluster']>, join: number): Promise<Snapshot> => {
    let started = false;
    return await lastValueFrom(fitOnNats(data, {
      ...options, layout: { layout: 'list' }, cluster: { servers: server.url, ackWaitSeconds: 3, idleTimeoutSeconds: 60, ...cluster },
      onIteration: (p) => { if (p.iteration === join && !started) { started = true; workers.start(server.url); } },
    }));
  };

  it('codes stored every 2 passes, blocks of one unit (prefixes handed on in memory): a worker joining after pass 3 replays the moved units; W, d, H the same bytes', async () => {
    while (workers.all.length < 1) workers.start(server.url);
    const options = { ...base, maxIterations: 6, solver: 'fast' } as const;
    const plain = await fitModel(fromParquet(data, { layout: 'list' }), options);
    const model = await joined(options, { codesEvery: 2, maxBlockBytes: 1 }, 3);
    expect(workers.all.length).toBe(2);
    expect(model.trace!.map((t) => t.relativeLoss)).toEqual(plain.trace!.map((t) => t.relativeLoss));
    expect(modelBytes(model).equals(modelBytes(plain))).toBe(true);
  }, 300_000);

  it('a fit that converges at a pass whose codes were not stored: the workers store them for H (a worker that joined replays from the start)', async () => {
    while (workers.all.length < 1) workers.start(server.url);
    const options = { ...base, maxIterations: 40, tol: 1e-3, solver: 'fast' } as const;
    const plain = await fitModel(fromParquet(data, { layout: 'list' }), options);
    expect(plain.trace!.length).toBeLessThan(40); // converged: its last pass is not one whose codes are stored
    const model = await joined(options, { codesEvery: 1000 }, 1);
    expect(workers.all.length).toBe(2);
    expect(model.trace!.map((t) => t.relativeLoss)).toEqual(plain.trace!.map((t) => t.relativeLoss));
    expect(model.H).toBeDefined();
    expect(modelBytes(model).equals(modelBytes(plain))).toBe(true);
  }, 300_000);

  it('the workers write H as one Parquet part per unit (sample ids included); the parts in unit order are the in-process H', async () => {
    while (workers.all.length < 2) workers.start(server.url);
    const plain = await fitModel(fromParquet(data, { layout: 'list' }), { ...base, solver: 'fast' });
    const parts = join(dir, 'h-parts');
    const model = await lastValueFrom(fitOnNats(data, {
      ...base, solver: 'fast', keepH: false, layout: { layout: 'list' }, cluster: { servers: server.url, ackWaitSeconds: 3, idleTimeoutSeconds: 60, hPartsDir: parts },
    })) as Snapshot & { hParts?: readonly string[] };
    expect(model.H).toBeUndefined();
    const units = Math.ceil(plain.samples / UNIT_SAMPLES);
    expect(model.hParts).toEqual(Array.from({ length: units }, (_, u) => join(parts, `h-${String(u).padStart(6, '0')}.parquet`)));
    const pw = await loadParquetWasm();
    const k = plain.rank, n = plain.samples;
    const H = new Float64Array(k * n);
    const samples: string[] = [];
    for (const path of model.hParts!) {
      const table = tableFromIPC(pw.readParquet(readFileSync(path)).intoIPCStream());
      const at = samples.length;
      samples.push(...(table.getChild('sample')!.toArray() as string[]));
      for (let a = 0; a < k; a++) H.set(table.getChild(`factor_${a}`)!.toArray() as Float64Array, a * n + at);
    }
    expect(samples).toEqual(Array.from({ length: n }, (_, j) => String(j)));
    expect(Buffer.from(H.buffer).equals(Buffer.from(plain.H!.buffer, plain.H!.byteOffset, plain.H!.byteLength))).toBe(true);
  }, 300_000);

  it('a worker that serves fit after fit lets go of the data of each fit that ended (and both give the in-process bytes)', async () => {
    while (workers.all.length < 1) workers.start(server.url);
    const first = { ...base, solver: 'fast' as const, maxIterations: 2, seed: 11 }, second = { ...first, seed: 12 };
    const a = await onNats(first);
    expect(workers.logs()).not.toMatch(/has ended: its data and codes are released/);
    const b = await onNats(second);
    // the first fit's context went when the worker took the second fit's first item (the second's goes on its idle sweep)
    expect(workers.logs().match(/fit \S+ has ended: its data and codes are released/g)?.length).toBeGreaterThanOrEqual(1);
    expect(modelBytes(a).equals(modelBytes(await fitModel(fromParquet(data, { layout: 'list' }), first)))).toBe(true);
    expect(modelBytes(b).equals(modelBytes(await fitModel(fromParquet(data, { layout: 'list' }), second)))).toBe(true);
  }, 300_000);

  it('CLI: --init-w is the start of the fit on NATS too (the in-process CLI fit of the same files and start)', async () => {
    while (workers.all.length < 1) workers.start(server.url);
    const m = (await fitModel(fromParquet(data, { layout: 'list' }), { ...base, maxIterations: 1 })).features;
    const w0 = join(dir, 'W0.csv');
    writeFileSync(w0, Array.from({ length: m }, (_, i) => [0, 1, 2, 3].map((c) => ((i * 7 + c * 13) % 11) / 10 + 0.05).join(',')).join('\n'));
    const args = ['fit', data, '--layout', 'list', '--rank', '4', '--max-iterations', '3', '--tol', '0', '--json', '--threads', '1'];
    const last = (out: string): { relativeLoss: number } => JSON.parse(out.trim().split('\n').filter((l) => l.startsWith('{')).at(-1)!) as { relativeLoss: number };
    const [local, random] = [await nmflow(...args, '--init-w', w0), await nmflow(...args, '--seed', '3')];
    const distributed = await nmflow(...args, '--init-w', w0, '--nats', server.url);
    expect({ code: distributed.code, local: local.code, random: random.code }, distributed.stderr + local.stderr + random.stderr).toEqual({ code: 0, local: 0, random: 0 });
    expect(last(distributed.stdout).relativeLoss).toBe(last(local.stdout).relativeLoss);
    expect(last(distributed.stdout).relativeLoss).not.toBe(last(random.stdout).relativeLoss);
  }, 300_000);
});
