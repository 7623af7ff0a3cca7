/**
 * Issue #14 part 3 (b, c): models in a KV bucket (`nmflow model publish`, fitOnline snapshots through
 * publishSnapshots), and `nmflow project --from-jetstream` workers: two real processes share one durable consumer,
 * one is SIGKILLed mid-stream, and the output stream holds exactly one output per input sequence, each equal to the
 * in-process projection of that input with the model revision its header names. Private nats-server on loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fitOnline, fromMtx, project, readModel, writeModel } from '../src/index.js';
import { chunkMessage, fromJetStream, modelFromBytes, openPublisher, publishSnapshots } from '../src/cluster/index.js';
import { connectCluster } from '../src/cluster/connect.js';
import { projectMessage } from '../src/cluster/project-message.js';
import { CLI, nmflow } from './helpers/cli.js';
import { natsServerBinary, startNatsServer, type NatsServer } from './helpers/nats-server.js';

const haveNats = natsServerBinary() !== undefined;
const DATA = new URL('../../shared/data/hawaiibirds.mtx', import.meta.url).pathname;

/** The file as list-layout Arrow IPC messages of 50 samples (what `stream publish --batch-size 50` sends). */
async function messages(): Promise<Uint8Array[]> {
  const chunks = await lastValueFrom(fromMtx(DATA, { chunkSize: 50 }).chunks().pipe(toArray()));
  return chunks.map((c) => chunkMessage(c));
}

describe.skipIf(!haveNats)('JetStream models and projection workers', { timeout: 240_000 }, () => {
  let server: NatsServer;
  let dir: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => { server = await startNatsServer(); dir = mkdtempSync(join(tmpdir(), 'nmflow-project-')); });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) { resolve(); return; }
      c.once('exit', () => resolve()); c.kill('SIGKILL');
    })));
  });
  afterAll(async () => { await server?.dispose(); if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('model publish puts revisions in a KV bucket; fitOnline snapshots are published every N chunks and at the end', async () => {
    const fitted = await lastValueFrom(fitOnline(fromMtx(DATA, { chunkSize: 200 }), { rank: 3, seed: 2 }));
    const file = join(dir, 'model.arrow');
    await writeModel(file, fitted);
    const one = await nmflow('model', 'publish', file, '--nats', server.url, '--bucket', 'models', '--json');
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ bucket: 'models', key: 'model', revision: 1 });
    const two = await nmflow('model', 'publish', file, '--nats', server.url, '--bucket', 'models');
    expect(two.stdout).toContain('revision 2');
    const nc = await connectCluster({ servers: server.url });
    const kv = await new Kvm(nc).open('models');
    const stored = await modelFromBytes((await kv.get('model'))!.value, 'kv');
    expect(Buffer.from(stored.W.buffer).equals(Buffer.from((await readModel(file)).W.buffer))).toBe(true);

    const publisher = await openPublisher({ servers: server.url, subject: 'snap.in', stream: 'SNAP' });
    for (const [i, bytes] of (await messages()).slice(0, 8).entries()) await publisher.publish(bytes, `snap:${i}`);
    await publisher.close();
    const revisions: number[] = [];
    const snapshots = await lastValueFrom(fitOnline(fromJetStream({ servers: server.url, stream: 'SNAP', subject: 'snap.in', durable: 'learner', toEnd: true }), { rank: 3, seed: 2 })
      .pipe(publishSnapshots({ servers: server.url, bucket: 'live', key: 'birds', every: 3, onPublished: (r) => revisions.push(r) }), toArray()));
    expect(snapshots).toHaveLength(9); // 8 chunks and the final snapshot
    expect(revisions).toEqual([1, 2, 3]); // after chunks 3 and 6, and the final one
    const latest = await modelFromBytes((await (await new Kvm(nc).open('live')).get('birds'))!.value, 'kv');
    expect(Buffer.from(latest.W.buffer).equals(Buffer.from(snapshots.at(-1)!.W.buffer))).toBe(true);
    await nc.close();
  });

  it('two project workers, one SIGKILLed mid-stream: one output per input sequence, each the projection with its model revision', async () => {
    const inputs = await messages(); // 24 messages
    const models = [join(dir, 'm1.arrow'), join(dir, 'm2.arrow')];
    await writeModel(models[0]!, await lastValueFrom(fitOnline(fromMtx(DATA, { chunkSize: 200 }), { rank: 3, seed: 1 })));
    await writeModel(models[1]!, await lastValueFrom(fitOnline(fromMtx(DATA, { chunkSize: 100 }), { rank: 3, seed: 5 })));
    expect((await nmflow('model', 'publish', models[0]!, '--nats', server.url, '--bucket', 'etl-models')).code).toBe(0);
    const publisher = await openPublisher({ servers: server.url, subject: 'etl.in', stream: 'ETL' });
    await publisher.publish(inputs[0]!, 'etl:0'); // the stream exists before the workers start
    const worker = (): ChildProcess => {
      const child = spawn('node', [...CLI, 'project', '--from-jetstream', '--nats', server.url, '--stream', 'ETL', '--subject', 'etl.in',
        '--durable', 'proj', '--model-bucket', 'etl-models', '--to-subject', 'etl.out', '--ack-wait', '2000'], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let text = '';
      child.stderr!.on('data', (b: Buffer) => { text += b.toString(); });
      child.stdout!.on('data', (b: Buffer) => { text += b.toString(); });
      (child as ChildProcess & { text: () => string }).text = () => text;
      return child;
    };
    const [a, b] = [worker(), worker()];
    const textOf = (c: ChildProcess) => (c as ChildProcess & { text: () => string }).text();
    const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 90_000) => {
      const deadline = Date.now() + ms;
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${textOf(a)} | ${textOf(b)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until('both workers ready', () => textOf(a).includes('ready') && textOf(b).includes('ready'));
    const nc = await connectCluster({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    const outputs = async () => { try { return (await jsm.streams.info('ETL_OUT')).state.messages; } catch { return 0; } };
    let killed = false;
    for (let i = 1; i < inputs.length; i++) {
      await publisher.publish(inputs[i]!, `etl:${i}`);
      if (i === 12) expect((await nmflow('model', 'publish', models[1]!, '--nats', server.url, '--bucket', 'etl-models')).code).toBe(0);
      if (!killed && (await outputs()) >= 6) { a.kill('SIGKILL'); killed = true; }
      await new Promise((r) => setTimeout(r, 60));
    }
    await publisher.close();
    expect(killed).toBe(true);
    await until('24 outputs', async () => (await outputs()) >= 24);
    await new Promise((r) => setTimeout(r, 3000)); // a redelivered message (ack wait 2 s) would add a second output now
    expect(await outputs()).toBe(24);
    b.kill('SIGTERM');
    const code = await new Promise((r) => b.once('close', r));
    expect(code, textOf(b)).toBe(0);
    expect(textOf(b)).toMatch(/stopped: \d+ messages projected/);

    const kv = await new Kvm(nc).open('etl-models');
    const out = await (await jetstream(nc).consumers.get('ETL_OUT')).fetch({ max_messages: 100, expires: 2000 });
    const seen = new Map<number, { data: Uint8Array; revision: number; worker: string }>();
    for await (const m of out) {
      const seq = Number(m.headers!.get('Nmflow-Input-Seq'));
      expect(seen.has(seq), `input ${seq} projected twice`).toBe(false);
      seen.set(seq, { data: m.data, revision: Number(m.headers!.get('Nmflow-Model-Revision')), worker: m.headers!.get('Nmflow-Worker') });
      if (seen.size === 24) break;
    }
    expect([...seen.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(new Set([...seen.values()].map((v) => v.worker)).has(String(a.pid))).toBe(true); // the killed worker had worked
    expect(new Set([...seen.values()].map((v) => v.revision))).toEqual(new Set([1, 2]));
    for (const [seq, output] of seen) {
      const model = await modelFromBytes((await kv.get('model', { revision: output.revision }))!.value, 'kv');
      const input = await jsm.streams.getMessage('ETL', { seq });
      const expected = await projectMessage(input!.data, project(model, { layout: 'list' }), { stream: 'ETL', subject: 'etl.in', sequence: seq });
      expect(Buffer.from(output.data).equals(Buffer.from(expected.data)), `output of input ${seq}`).toBe(true);
    }
    await nc.close();
  });
});
