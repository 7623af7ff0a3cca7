/**
 * Bad input to the fit on NATS (issue #14): each a typed error naming what and where, after bounded retries —
 * an unreachable server, the work stream deleted mid-fit, a unit's file that disappeared, a worker of another
 * nmflow version, weighted L1 and a long layout (usage errors); a worker stops cleanly on SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { lastValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectCluster } from '../src/cluster/connect.js';
import { fitOnNats, type ClusterFitOptions } from '../src/cluster/coordinator.js';
import { FITS_BUCKET, WORK_STREAM } from '../src/cluster/protocol.js';
import { Kvm } from '@nats-io/kv';
import { ClusterError, OptionError } from '../src/errors.js';
import { failure } from './helpers/failure.js';
import { nmflow } from './helpers/cli.js';
import { makeWorkers, stopChild, writeListParts } from './helpers/cluster-data.js';
import { freePort, natsServerBinary, startNatsServer, type NatsServer } from './helpers/nats-server.js';

const haveNats = natsServerBinary() !== undefined;

describe.skipIf(!haveNats)('fit on NATS: bad input is a typed error, nothing hangs', () => {
  let dir: string;
  let server: NatsServer;
  const workers = makeWorkers();
  const base = { rank: 3, seed: 1, maxIterations: 3, tol: 0, layout: { layout: 'list' } } as const;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nmflow-errors-'));
    await writeListParts(join(dir, 'data'), 9000, 3);
    server = await startNatsServer();
  }, 60_000);
  afterEach(async () => { await workers.stopAll(); });
  afterAll(async () => {
    await workers.stopAll();
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const run = (data: string, options: Partial<ClusterFitOptions> = {}, cluster: Partial<ClusterFitOptions['cluster']> = {}) =>
    lastValueFrom(fitOnNats(data, { ...base, ...options, cluster: { servers: server.url, ackWaitSeconds: 2, idleTimeoutSeconds: 60, ...cluster } }));

  it('an unreachable server: a ClusterError naming it, after bounded attempts', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await failure(() => run(join(dir, 'data'), {}, { servers: `nats://127.0.0.1:${port}`, retryAttempts: 2 }));
    expect(error).toBeInstanceOf(ClusterError);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('weighted L1, an SVD start and the long layout are usage errors (typed, before anything is reached)', async () => {
    expect(() => fitOnNats(join(dir, 'data'), { ...base, loss: 'l1', cluster: { servers: server.url } })).toThrow(OptionError);
    expect(() => fitOnNats(join(dir, 'data'), { ...base, init: 'nndsvd', cluster: { servers: server.url } })).toThrow(/'random' or explicit arrays/);
    expect(() => fitOnNats(join(dir, 'data'), { ...base, mask: 'zeros', cluster: { servers: server.url } })).toThrow(/no mask with a cluster/);
    expect(() => fitOnNats(join(dir, 'data'), { ...base, testFraction: 0.05, cluster: { servers: server.url } })).toThrow(/no test set with a cluster/);
    expect(() => fitOnNats(join(dir, 'data'), { ...base, missing: 'nan', cluster: { servers: server.url } })).toThrow(/'error' with a cluster/);
    const long = await failure(() => run(join(dir, 'data'), { layout: { layout: 'long' } }));
    expect(long).toBeInstanceOf(OptionError);
    expect(long.message).toMatch(/'list' or 'wide'/);
    const cli = await nmflow('fit', join(dir, 'data'), '--rank', '3', '--loss', 'l1', '--nats', server.url);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/usage: .*loss.*'l2' with a cluster.*docs\/scale-out\.md/);
    for (const every of [0, 2.5, -1]) {
      expect(() => fitOnNats(join(dir, 'data'), { ...base, cluster: { servers: server.url, codesEvery: every } })).toThrow(/cluster\.codesEvery.*a whole number of passes, 1 or more/);
    }
    const alone = await nmflow('fit', join(dir, 'data'), '--rank', '3', '--codes-every', '2');
    expect({ code: alone.code, stderr: alone.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/--codes-every.*--nats as well/) as unknown as string });
    const zero = await nmflow('fit', join(dir, 'data'), '--rank', '3', '--codes-every', '0', '--nats', server.url);
    expect({ code: zero.code, stderr: zero.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(/--codes-every.*1 or more/) as unknown as string });
  }, 60_000);

  it("a worker of another nmflow version refuses the work; the coordinator says which worker and both versions", async () => {
    workers.start(server.url, { NMFLOW_CLUSTER_VERSION: '0.0.0-other' });
    const error = await failure(() => run(join(dir, 'data')));
    expect(error).toBeInstanceOf(ClusterError);
    expect(error.message).toMatch(/worker .* runs nmflow 0\.0\.0-other, the coordinator \d+\.\d+\.\d+/);
  }, 300_000);

  it('a unit file that disappeared: the worker reports it, the coordinator fails naming the file', async () => {
    const data = await writeListParts(join(dir, 'vanishing'), 9000, 3, 11);
    const fit = run(data);
    // once the coordinator has planned the files (the fit's meta is stored; it waits for a worker), part-002 goes; then a worker starts
    const nc = await connectCluster({ servers: server.url });
    const kv = await new Kvm(nc).open(FITS_BUCKET);
    const metas = async (): Promise<number> => { let n = 0; for await (const key of await kv.keys('*.meta')) n += key.length > 0 ? 1 : 0; return n; };
    const before = await metas();
    for (let i = 0; i < 600 && await metas() === before; i++) await new Promise((r) => setTimeout(r, 100));
    await nc.close();
    rmSync(join(data, 'part-002.parquet'));
    workers.start(server.url);
    const error = await failure(() => fit);
    expect(error).toBeInstanceOf(ClusterError);
    expect(error.message).toContain('part-002.parquet');
  }, 300_000);

  it('the work stream deleted mid-fit: a ClusterError naming the stream after bounded retries', async () => {
    workers.start(server.url, { NMFLOW_WORKER_HOLD_MS: '1500' });
    let deleted = false;
    const error = await failure(() => run(join(dir, 'data'), {
      onIteration: () => {
        if (deleted) return;
        deleted = true;
        void connectCluster({ servers: server.url }).then(async (nc) => {
          await (await jetstreamManager(nc)).streams.delete(WORK_STREAM);
          await nc.close();
        });
      },
    }, { retryAttempts: 6, idleTimeoutSeconds: 20 }));
    expect(error).toBeInstanceOf(ClusterError);
    expect(error.message).toMatch(/NMFLOW_WORK|no unit of pass/);
  }, 300_000);

  it('a worker stops cleanly on SIGTERM (exit 0)', async () => {
    const worker = workers.start(server.url);
    for (let i = 0; i < 600 && !/connected to/.test(workers.logs()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(workers.logs()).toMatch(/connected to/);
    expect(await stopChild(worker, 'SIGTERM')).toBe(0);
  }, 60_000);
});
