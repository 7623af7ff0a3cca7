/** The test servers are real: JetStream on loopback, a message survives a server restart (file storage), and an
 * unreachable server is a typed ClusterError, not a hang. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connectCluster } from '../src/cluster/connect.js';
import { ClusterError } from '../src/errors.js';
import { failure } from './helpers/failure.js';
import { freePort, natsServerBinary, startNatsServer, type NatsServer } from './helpers/nats-server.js';

const haveNats = natsServerBinary() !== undefined;
if (!haveNats) console.warn('nats-server is not installed: the NATS tests are skipped (apt-get install -y nats-server)');

describe.skipIf(!haveNats)('NATS test servers', () => {
  let server: NatsServer;
  beforeAll(async () => { server = await startNatsServer(); });
  afterAll(async () => { await server?.dispose(); });

  it('listens on loopback only and keeps JetStream data across a restart', async () => {
    expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    const nc = await connectCluster({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'HARNESS', subjects: ['harness.>'] });
    const ack = await jetstream(nc).publish('harness.a', new TextEncoder().encode('one'), { msgID: 'a/1' });
    const again = await jetstream(nc).publish('harness.a', new TextEncoder().encode('one'), { msgID: 'a/1' });
    expect(again.duplicate).toBe(true);
    expect(again.seq).toBe(ack.seq);
    await nc.close();
    await server.stop('SIGKILL');
    await server.restart();
    const nc2 = await connectCluster({ servers: server.url });
    const info = await (await jetstreamManager(nc2)).streams.info('HARNESS');
    expect(info.state.messages).toBe(1);
    await nc2.close();
  });

  it('an unreachable server is a ClusterError after bounded attempts', async () => {
    const port = await freePort();
    const error = await failure(() => connectCluster({ servers: `nats://127.0.0.1:${port}`, attempts: 2, timeoutMs: 300 }));
    expect(error).toBeInstanceOf(ClusterError);
    expect(error.code).toBe('CLUSTER');
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.cause).toBeDefined();
  });
});
