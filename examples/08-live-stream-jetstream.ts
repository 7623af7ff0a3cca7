// 08 — A live stream and an ETL stage on NATS JetStream (issue #14 part 3): several processes fed by a durable log.
// The example is the producer: it publishes the hawaiibirds surveys into the subject `birds.<run>.in`, 40 cells per
// message, a few messages a second. A learner (here, in this process) fits them online with fitOnline on
// fromJetStream and publishes a snapshot of its model to a KV bucket every 6 messages. Two `nmflow project
// --from-jetstream` worker processes share one durable consumer, always project with the latest model, and write
// Arrow batches to `birds.<run>.codes` with the input sequence as msgID. Mid-stream one worker is SIGKILLed: its
// unacknowledged message is redelivered to the other, and the duplicate window drops any second output — at the end
// the output stream holds exactly one output per input message.
// Run with a server (nats-server -js): NMFLOW_NATS=nats://127.0.0.1:4222 npx tsx examples/08-live-stream-jetstream.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { lastValueFrom, toArray } from 'rxjs';
import { fitOnline, loadMtx } from '../src/index.js';
import { chunkMessage, fromJetStream, openPublisher, publishSnapshots } from '../src/cluster/index.js';

const servers = process.env.NMFLOW_NATS;
if (!servers) {
  console.log('Set NMFLOW_NATS to a NATS server with JetStream (e.g. `nats-server -js -a 127.0.0.1 -p 4222` and NMFLOW_NATS=nats://127.0.0.1:4222).');
  process.exit(1);
}
const run = Date.now().toString(36); // names of this run: re-runs on one server do not meet
const [stream, subject, out, bucket] = [`BIRDS_${run}`, `birds.${run}.in`, `birds.${run}.codes`, `birds-${run}`];
const cli = fileURLToPath(new URL('../src/cli/run.ts', import.meta.url));

// The messages: 40 cells each, as list-layout Arrow IPC (what `nmflow stream publish FILE --batch-size 40` sends).
const source = await loadMtx(fileURLToPath(new URL('./data/hawaiibirds.mtx.gz', import.meta.url)), { chunkSize: 40 });
const messages = (await lastValueFrom(source.chunks().pipe(toArray()))).map((chunk) => chunkMessage(chunk));
const publisher = await openPublisher({ servers, subject, stream });
await publisher.publish(messages[0]!, `birds:0`); // the stream exists before anyone reads it

// Two projection workers (real processes) on one durable consumer.
const worker = (): { child: ChildProcess; log: () => string } => {
  const child = spawn('node', ['--import', 'tsx', cli, 'project', '--from-jetstream', '--nats', servers, '--stream', stream, '--subject', subject,
    '--durable', 'project', '--model-bucket', bucket, '--model-key', 'birds', '--to-subject', out, '--ack-wait', '2000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (b: Buffer) => { text += b.toString(); });
  child.stderr!.on('data', (b: Buffer) => { text += b.toString(); });
  return { child, log: () => text };
};
const workers = [worker(), worker()];

// The learner: one online pass, a snapshot in the KV bucket every 6 messages and at the end.
const learned = lastValueFrom(fitOnline(fromJetStream({ servers, stream, subject, durable: 'learner', endSequence: messages.length }), { rank: 6, seed: 1 })
  .pipe(publishSnapshots({ servers, bucket, key: 'birds', every: 6, onPublished: (revision, s) => console.log(`model revision ${revision}: after ${s.iteration} messages${s.final ? ' (final, factors sorted)' : ''}, relative loss ${s.relativeLoss.toFixed(4)}`) })));

const nc = await connect({ servers });
const jsm = await jetstreamManager(nc);
const outputs = async (): Promise<number> => { try { return (await jsm.streams.info(`${stream}_OUT`)).state.messages; } catch { return 0; } };
const waitFor = async (what: string, ok: () => Promise<boolean> | boolean, ms = 120_000): Promise<void> => {
  for (const deadline = Date.now() + ms; !(await ok());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${workers.map((w) => w.log()).join(' | ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
let killed: number | undefined;
for (let i = 1; i < messages.length; i++) {
  // The workers start once the first model is in the bucket (after 6 messages): the rest of the stream waits for them.
  if (i === 8) await waitFor('both workers ready', () => workers.every((w) => w.log().includes('ready')));
  await publisher.publish(messages[i]!, `birds:${i}`);
  if (killed === undefined && (await outputs()) >= 8) { killed = workers[0]!.child.pid; workers[0]!.child.kill('SIGKILL'); console.log(`worker ${killed} SIGKILLed after ${await outputs()} outputs`); }
  await new Promise((r) => setTimeout(r, 120));
}
await publisher.close();
const model = await learned;
console.log(`learner: ${model.iteration} messages, ${model.samples} cells, final relative loss ${model.relativeLoss.toFixed(4)}`);
await waitFor('one output per input', async () => (await outputs()) >= messages.length);
await new Promise((r) => setTimeout(r, 2500)); // a redelivery after the ack wait would show up now
workers[1]!.child.kill('SIGTERM');
await new Promise((r) => workers[1]!.child.once('exit', r));
if (killed === undefined) workers[0]!.child.kill('SIGTERM');

// The output stream: one message per input sequence, with the model revision that projected it.
const consumer = await jetstream(nc).consumers.get(`${stream}_OUT`);
const byRevision = new Map<string, number>();
const sequences = new Set<string>();
let total = 0;
for await (const m of await consumer.fetch({ max_messages: 1000, expires: 2000 })) {
  total += 1;
  sequences.add(m.headers!.get('Nmflow-Input-Seq'));
  const revision = m.headers!.get('Nmflow-Model-Revision');
  byRevision.set(revision, (byRevision.get(revision) ?? 0) + 1);
  if (total === (await outputs())) break;
}
for (const [revision, count] of [...byRevision].sort()) console.log(`  ${count} batches projected with model revision ${revision}`);
console.log(`${messages.length} input messages → ${total} outputs, ${sequences.size} distinct input sequences${killed === undefined ? '' : ` (worker ${killed} was killed mid-stream)`}`);
await jsm.streams.delete(stream);
await jsm.streams.delete(`${stream}_OUT`);
await jsm.streams.delete(`KV_${bucket}`);
await nc.close();
