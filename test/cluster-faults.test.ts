/**
 * Faults of the fit on NATS with real servers and worker processes (issue #14 part 2): a worker SIGKILLed while it
 * holds a unit (redelivered after ack_wait to a worker that joined mid-fit, which fetches the unit's codes), the
 * coordinator SIGKILLed and started again (it resumes from its state in NATS), the server SIGKILLed and restarted
 * (file storage), and a 3-server cluster (R3) with one server SIGKILLed. Every time the model is the in-process
 * fit's bytes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fitOnNats, type ClusterSettings } from '../src/cluster/coordinator.js';
import { readModel } from '../src/io/model-file.js';
import { fitModel } from '../src/pipeline/fit.js';
import type { Model, Snapshot } from '../src/snapshot/snapshot.js';
import { fromParquet } from '../src/source/from-parquet.js';
import { CLI } from './helpers/cli.js';
import { makeWorkers, modelBytes, stopChild, writeListParts } from './helpers/cluster-data.js';
import { natsServerBinary, startNatsCluster, startNatsServer, type NatsServer } from './helpers/nats-server.js';

const haveNats = natsServerBinary() !== undefined;
const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe.skipIf(!haveNats)('fit on NATS under faults: the same bytes', () => {
  let dir: string;
  let data: string;
  let plain: Model;
  const servers: NatsServer[] = [];
  const workers = makeWorkers();
  const base = { rank: 4, seed: 5, maxIterations: 5, tol: 0, keepH: true } as const;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nmflow-faults-'));
    data = await writeListParts(join(dir, 'data'));
    plain = await fitModel(fromParquet(data, { layout: 'list' }), base);
  }, 60_000);
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') console.error(`worker logs:\n${workers.logs()}`);
    await workers.stopAll();
    await Promise.all(servers.splice(0).map((s) => s.dispose()));
  });
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  const onNats = async (cluster: ClusterSettings, onIteration?: (iteration: number) => void): Promise<Snapshot> =>
    await lastValueFrom(fitOnNats(data, {
      ...base, layout: { layout: 'list' }, cluster: { ackWaitSeconds: 2, idleTimeoutSeconds: 90, ...cluster },
      ...(onIteration ? { onIteration: (p) => onIteration(p.iteration) } : {}),
    }));

  it('a worker SIGKILLed holding a unit: redelivered after ack_wait to a worker that joined mid-fit', async () => {
    const server = await startNatsServer();
    servers.push(server);
    // a slow worker: each unit held 2.5 s (> ack_wait 2 s: its heartbeats keep it), killed in pass 2
    const slow = workers.start(server.url, { NMFLOW_WORKER_HOLD_MS: '2500' });
    let killed = false;
    const model = await onNats({ servers: server.url }, (iteration) => {
      if (iteration !== 1 || killed) return;
      killed = true;
      setTimeout(() => {
        void stopChild(slow, 'SIGKILL').then(() => { workers.start(server.url); });
      }, 1200);
    });
    expect(killed).toBe(true);
    expect(slow.signalCode).toBe('SIGKILL');
    expect(modelBytes(model).equals(modelBytes(plain))).toBe(true);
  }, 300_000);

  it('the NATS server SIGKILLed and restarted mid-fit (file storage): the fit goes on', async () => {
    const server = await startNatsServer();
    servers.push(server);
    workers.start(server.url);
    workers.start(server.url);
    let restarted = false;
    const model = await onNats({ servers: server.url }, (iteration) => {
      if (iteration !== 2 || restarted) return;
      restarted = true;
      void server.stop('SIGKILL').then(() => new Promise((r) => setTimeout(r, 1000))).then(() => server.restart());
    });
    expect(restarted).toBe(true);
    expect(modelBytes(model).equals(modelBytes(plain))).toBe(true);
  }, 300_000);

  it('a 3-server cluster (R3) with one server SIGKILLed mid-fit', async () => {
    const cluster = await startNatsCluster(3);
    servers.push(...cluster);
    const urls = cluster.map((s) => s.url).join(',');
    workers.start(urls);
    workers.start(urls);
    let killed = false;
    const model = await onNats({ servers: urls, replicas: 3 }, (iteration) => {
      if (iteration !== 2 || killed) return;
      killed = true;
      void cluster[1]!.stop('SIGKILL');
    });
    expect(killed).toBe(true);
    expect(modelBytes(model).equals(modelBytes(plain))).toBe(true);
  }, 360_000);

  it('the coordinator (nmflow fit --nats) SIGKILLed after pass 3 and started again: it resumes after pass 2, the last stored (codes every 2)', async () => {
    const server = await startNatsServer();
    servers.push(server);
    workers.start(server.url);
    workers.start(server.url);
    const out = join(dir, 'resumed.arrow');
    const args = [...CLI, 'fit', data, '--nats', server.url, '--rank', '4', '--seed', '5', '--max-iterations', '5', '--tol', '0', '--ack-wait', '2', '--codes-every', '2', '--json', '--out', out];
    const first = spawn('node', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = '';
    await new Promise<void>((resolve, reject) => {
      first.stdout.on('data', (b: Buffer) => {
        lines += b.toString();
        if (/"iteration":3/.test(lines)) { void stopChild(first, 'SIGKILL').then(() => resolve()); }
      });
      first.once('exit', () => resolve());
      setTimeout(() => reject(new Error(`no third iteration: ${lines}`)), 120_000);
    });
    expect(first.signalCode).toBe('SIGKILL');
    const second = spawn('node', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '', err = '';
    second.stdout.on('data', (b: Buffer) => { text += b.toString(); });
    second.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
    expect({ code, err }).toEqual({ code: 0, err: expect.stringContaining('resumes after pass 2') as unknown as string });
    const iterations = text.trim().split('\n').map((l) => JSON.parse(l) as { iteration?: number }).filter((l) => l.iteration !== undefined);
    // passes 1 and 2 (stored with their codes) are not done again; pass 3 (not stored) is
    expect(iterations.map((l) => l.iteration)).toEqual([3, 4, 5]);
    const saved = await readModel(out);
    const model = await fitModel(fromParquet(data, { layout: 'list' }), { ...base, keepH: false });
    expect(same(saved.W, model.W) && same(saved.d, model.d)).toBe(true);
  }, 360_000);
});
