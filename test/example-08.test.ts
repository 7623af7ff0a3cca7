/**
 * examples/08-live-stream-jetstream.ts runs as documented against a private nats-server (loopback, temporary
 * storage): a learner publishes model revisions, two projection worker processes share the input, one is SIGKILLed
 * mid-stream, and the output holds one output per input message.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerBinary, startNatsServer, type NatsServer } from './helpers/nats-server.js';

const haveNats = natsServerBinary() !== undefined;

describe.skipIf(!haveNats)('example 08: a live stream and an ETL stage on JetStream', () => {
  let server: NatsServer;
  beforeAll(async () => { server = await startNatsServer(); });
  afterAll(async () => { await server?.dispose(); });

  it('one output per input message, a worker killed mid-stream, the models published as revisions', { timeout: 240_000 }, async () => {
    const child = spawn('node', ['--import', 'tsx', 'examples/08-live-stream-jetstream.ts'], {
      cwd: new URL('..', import.meta.url).pathname, env: { ...process.env, NMFLOW_NATS: server.url }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 220_000);
    const code = await new Promise((r) => child.once('close', r));
    clearTimeout(timer);
    expect(stderr).toBe('');
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/model revision 1: after 6 messages/);
    expect(stdout).toContain('learner: 30 messages, 1183 cells');
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^30 input messages → 30 outputs, 30 distinct input sequences \(worker \d+ was killed mid-stream\)$/);
  });
});
