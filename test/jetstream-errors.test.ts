/**
 * Issue #14 part 3 (d): bad input on the JetStream stages is a typed error naming what and where, and nothing hangs:
 * an unreachable server (ClusterError naming it, after bounded attempts), a missing stream, bucket or key (named), a
 * message that is not Arrow IPC (DataError naming stream, subject and sequence; a worker terminates it and goes on),
 * a durable consumer used by another nmflow version (both versions named). Private nats-server on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterError, DataError, fitModel, fitOnline, fromMtx, writeModel } from '../src/index.js';
import { fromJetStream, openPublisher, runProjectWorker } from '../src/cluster/index.js';
import { connectCluster } from '../src/cluster/connect.js';
import { nmflowVersion } from '../src/cluster/jetstream-common.js';
import { failure } from './helpers/failure.js';
import { nmflow } from './helpers/cli.js';
import { freePort, natsServerBinary, startNatsServer, type NatsServer } from './helpers/nats-server.js';

const haveNats = natsServerBinary() !== undefined;
const DATA = new URL('../../shared/data/pbmc_small.mtx', import.meta.url).pathname;

describe.skipIf(!haveNats)('JetStream stages: bad input', { timeout: 120_000 }, () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await startNatsServer();
    const publisher = await openPublisher({ servers: server.url, subject: 'bad.in', stream: 'BAD' });
    await publisher.publish(new TextEncoder().encode('this is not Arrow IPC'), 'garbage');
    await publisher.close();
  });
  afterAll(async () => { await server?.dispose(); });

  it('an unreachable server: a ClusterError naming it, from the source, the CLI publisher and a worker', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const error = await failure(() => lastValueFrom(fitOnline(fromJetStream({ servers: url, stream: 'S', subject: 's', durable: 'd', attempts: 2, timeoutMs: 300 }), { rank: 2 })));
    expect(error).toBeInstanceOf(ClusterError);
    expect(error.message).toContain(url.slice('nats://'.length));
    const cli = await nmflow('stream', 'publish', DATA, '--nats', url, '--subject', 's');
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^nmflow: Cannot reach the NATS server nats:\/\/127\.0\.0\.1:\d+ after 5 attempts/);
    const worker = await nmflow('project', '--from-jetstream', '--nats', url, '--stream', 'S', '--subject', 's', '--durable', 'd', '--model-bucket', 'b', '--to-subject', 'o');
    expect(worker.code).toBe(1);
    expect(worker.stderr).toContain('Cannot reach the NATS server');
  });

  it('a missing stream, bucket or key is named', async () => {
    const stream = await failure(() => lastValueFrom(fitOnline(fromJetStream({ servers: server.url, stream: 'NOPE', subject: 'nope.in', durable: 'd' }), { rank: 2 })));
    expect(stream).toBeInstanceOf(ClusterError);
    expect((stream as ClusterError).target).toBe('stream NOPE');
    expect(stream.message).toContain(`There is no JetStream stream "NOPE" on 127.0.0.1:${server.port}`);
    const base = { servers: server.url, stream: 'BAD', subject: 'bad.in', durable: 'w', toSubject: 'bad.out', project: { layout: 'list' as const } };
    const bucket = await failure(() => runProjectWorker({ ...base, modelBucket: 'no-such-bucket' }, () => false, () => undefined));
    expect(bucket).toBeInstanceOf(ClusterError);
    expect((bucket as ClusterError).target).toBe('bucket no-such-bucket');
    expect(bucket.message).toContain('no KV bucket "no-such-bucket"');
    const publishModel = await nmflow('model', 'publish', DATA, '--nats', server.url, '--bucket', 'empty');
    expect(publishModel.code).toBe(1); // an .mtx is not a model file: refused before anything is put
    const nc = await connectCluster({ servers: server.url });
    await new Kvm(nc).create('empty');
    await nc.close();
    const key = await failure(() => runProjectWorker({ ...base, modelBucket: 'empty', modelKey: 'm', modelWaitMs: 500 }, () => false, () => undefined));
    expect(key).toBeInstanceOf(ClusterError);
    expect(key.message).toContain('No model under key "m" in the KV bucket "empty"');
  });

  it('a message that is not Arrow IPC: a DataError naming stream, subject and sequence', async () => {
    const error = await failure(() => lastValueFrom(fitOnline(fromJetStream({ servers: server.url, stream: 'BAD', subject: 'bad.in', durable: 'learner', toEnd: true }), { rank: 2 })));
    expect(error).toBeInstanceOf(DataError);
    expect(error.code).toBe('MALFORMED_FILE');
    expect(error.message).toContain('stream BAD, subject bad.in, sequence 1');
  });

  it('a worker terminates a message that is not Arrow IPC, says where it was, and goes on', async () => {
    const lines: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-bad-'));
    try {
      await writeModel(join(dir, 'm.arrow'), await fitModel(fromMtx(DATA), { rank: 2, seed: 1, maxIterations: 5 }));
      expect((await nmflow('model', 'publish', join(dir, 'm.arrow'), '--nats', server.url, '--bucket', 'bad-models')).code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const report = await runProjectWorker({ servers: server.url, stream: 'BAD', subject: 'bad.in', durable: 'terminates', modelBucket: 'bad-models',
      toSubject: 'bad.out', project: { layout: 'list' }, maxMessages: 1 }, () => false, (line) => lines.push(line));
    expect(report).toEqual({ projected: 0, duplicates: 0, rejected: 1 });
    expect(lines.join('\n')).toContain('stream BAD, subject bad.in, sequence 1');
    expect(lines.join('\n')).toContain('message terminated, not projected');
  });

  it('a durable consumer used by another nmflow version: both versions named', async () => {
    const nc = await connectCluster({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add('BAD', { durable_name: 'old', description: 'nmflow 0.0.1 project', ack_policy: 'explicit', filter_subject: 'bad.in' });
    await nc.close();
    const cli = await nmflow('project', '--from-jetstream', '--nats', server.url, '--stream', 'BAD', '--subject', 'bad.in', '--durable', 'old', '--model-bucket', 'bad-models', '--to-subject', 'bad.out');
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`The durable old of stream BAD is used by nmflow 0.0.1 (nmflow 0.0.1 project), this is nmflow ${nmflowVersion()}`);
    const learner = await failure(() => lastValueFrom(fitOnline(fromJetStream({ servers: server.url, stream: 'BAD', subject: 'bad.in', durable: 'old' }), { rank: 2 })));
    expect(learner).toBeInstanceOf(ClusterError);
    expect(learner.message).toContain('nmflow 0.0.1');
  });
});
