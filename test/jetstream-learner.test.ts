/**
 * Issue #14 part 3 (a): `nmflow stream publish` loads a file into a subject (a stream created and said so; a
 * re-run publishes nothing twice), fromJetStream feeds fitOnline the same chunks as the file (same bytes), and a
 * learner process (`nmflow stream learn`) SIGKILLed mid-stream resumes from its checkpoint at the last sequence + 1 to the bytes of an
 * uninterrupted run. Private nats-server on a free loopback port, temporary storage; every process is stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fitOnline, fromMtx, readModel } from '../src/index.js';
import { fromJetStream } from '../src/cluster/index.js';
import { readCheckpoint } from '../src/io/checkpoint.js';
import { CLI, nmflow } from './helpers/cli.js';
import { natsServerBinary, startNatsServer, type NatsServer } from './helpers/nats-server.js';

const haveNats = natsServerBinary() !== undefined;
const DATA = new URL('../../shared/data/hawaiibirds.mtx', import.meta.url).pathname;
const bytesOf = (a: Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe.skipIf(!haveNats)('JetStream live source for fitOnline', { timeout: 180_000 }, () => {
  let server: NatsServer;
  let dir: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => { server = await startNatsServer(); dir = mkdtempSync(join(tmpdir(), 'nmflow-learner-')); });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) { resolve(); return; }
      c.once('exit', () => resolve()); c.kill('SIGKILL');
    })));
  });
  afterAll(async () => { await server?.dispose(); if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('stream publish creates the stream, says so, and a re-run adds nothing; fitOnline on it equals fitOnline on the file', async () => {
    const first = await nmflow('stream', 'publish', DATA, '--nats', server.url, '--subject', 'birds.in', '--batch-size', '100');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('created stream BIRDS_IN for subject birds.in');
    expect(first.stdout).toContain('published 12 messages (1183 samples, 0 already there)');
    const again = await nmflow('stream', 'publish', DATA, '--nats', server.url, '--subject', 'birds.in', '--batch-size', '100', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ stream: 'BIRDS_IN', created: false, messages: 12, duplicates: 12, first: 1, last: 12 });

    const options = { rank: 4, seed: 1 };
    const live = await lastValueFrom(fitOnline(fromJetStream({ servers: server.url, stream: 'BIRDS_IN', subject: 'birds.in', durable: 'same-bytes', toEnd: true }), options));
    const file = await lastValueFrom(fitOnline(fromMtx(DATA, { chunkSize: 100 }), options));
    expect(live.iteration).toBe(12);
    expect(live.samples).toBe(1183);
    expect(bytesOf(live.W).equals(bytesOf(file.W))).toBe(true);
    expect(bytesOf(live.d).equals(bytesOf(file.d))).toBe(true);
  });

  it('a learner SIGKILLed mid-stream resumes from its checkpoint at sequence + 1 and ends with the bytes of an uninterrupted run', async () => {
    // Six of the twelve messages are in the stream when the learner runs; it waits for the others (endSequence 12).
    const partial = await nmflow('stream', 'publish', DATA, '--nats', server.url, '--subject', 'kill.in', '--stream', 'KILL', '--batch-size', '200');
    expect(partial.code, partial.stderr).toBe(0); // 6 messages of 200 samples (the last 183)
    const checkpoint = join(dir, 'ckpt');
    const out = join(dir, 'resumed.arrow');
    const learn = ['stream', 'learn', '--nats', server.url, '--stream', 'KILL', '--subject', 'kill.in', '--durable', 'learner', '--rank', '4', '--seed', '1',
      '--checkpoint', checkpoint, '--checkpoint-every', '1', '--end-sequence', '12', '--publish-bucket', 'kill-models', '--out', out];
    const start = (extra: string[]): { child: ChildProcess; log: () => string } => {
      const child = spawn('node', [...CLI, ...learn, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let text = '';
      child.stdout!.on('data', (b: Buffer) => { text += b.toString(); });
      child.stderr!.on('data', (b: Buffer) => { text += b.toString(); });
      return { child, log: () => text };
    };
    const learner = start([]);
    const deadline = Date.now() + 90_000;
    while (!learner.log().includes('after 6 chunks')) {
      if (learner.child.exitCode !== null || Date.now() > deadline) throw new Error(`the learner did not reach chunk 6: ${learner.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    learner.child.kill('SIGKILL'); // waiting for message 7, its checkpoint at sequence 6
    await new Promise((r) => learner.child.once('exit', r));
    expect(readCheckpoint(checkpoint).log?.sequences.at(-1)).toBe(6);
    // The rest of the stream: the same file published again with another batch size gives six new messages.
    const rest = await nmflow('stream', 'publish', DATA, '--nats', server.url, '--subject', 'kill.in', '--batch-size', '199');
    expect(rest.code, rest.stderr).toBe(0);
    const resumed = start(['--resume', checkpoint]);
    const code = await new Promise((r) => resumed.child.once('close', r));
    expect(code, resumed.log()).toBe(0);
    expect(resumed.log()).not.toContain('after 6 chunks'); // it continued at sequence 7 (the window is replayed, not re-fitted)
    expect(resumed.log()).toContain('after 12 chunks (final)');
    expect(resumed.log()).toContain(`learned 12 chunks (2366 samples)`);
    // Uninterrupted, in process, on another durable.
    const whole = await lastValueFrom(fitOnline(fromJetStream({ servers: server.url, stream: 'KILL', subject: 'kill.in', durable: 'whole', endSequence: 12 }), { rank: 4, seed: 1 }));
    const model = await readModel(out);
    expect(whole.iteration).toBe(12);
    expect(bytesOf(model.W).equals(bytesOf(whole.W))).toBe(true);
    expect(bytesOf(model.d).equals(bytesOf(whole.d))).toBe(true);
  });
});
