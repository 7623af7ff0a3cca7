/**
 * `nmflow project --from-jetstream` (issue #14 part 3): a projection worker. N processes share one durable pull
 * consumer of the input subject (each message goes to one of them; an unacknowledged one is redelivered after
 * `ackWaitMs`), project each message with the latest model of the KV bucket (model-watch.ts) and publish the output
 * batches to the output subject with msgID `<stream>:<input sequence>` before acknowledging the input: after a
 * worker is killed between the two, the redelivered message is projected again and the output stream's duplicate
 * window drops the second copy — one output per input sequence (exactly-once output). Headers say which input
 * sequence, model revision, nmflow version and worker made each output. A message that is not Arrow IPC (or
 * otherwise bad data) is reported, terminated (never redelivered) and skipped. Stops between messages when
 * `stopped()` says so (SIGTERM), draining its connection.
 */
import { jetstream } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { DataError, NmfError } from '../errors.js';
import type { ProjectOptions } from '../pipeline/project.js';
import { project } from '../pipeline/project.js';
import { connectCluster, type ClusterOptions } from './connect.js';
import { clusterFailure, ensureDurable, nmflowVersion, requireStream, serverOf } from './jetstream-common.js';
import { DEFAULT_MODEL_KEY, openModelBucket } from './model-kv.js';
import { watchModel, type WatchedModel } from './model-watch.js';
import { projectMessage } from './project-message.js';
import { streamFor } from './stream-publish.js';

export interface ProjectWorkerOptions extends Pick<ClusterOptions, 'servers' | 'attempts' | 'timeoutMs'> {
  readonly stream: string;
  readonly subject: string;
  readonly durable: string;
  readonly modelBucket: string;
  readonly modelKey?: string;
  readonly toSubject: string;
  /** The output stream, created when no stream captures `toSubject` (default `<stream>_OUT`). */
  readonly toStream?: string;
  /** Redelivery of an unacknowledged input after this many ms (default 30 000). */
  readonly ackWaitMs?: number;
  /** The first model is waited for this long (default 30 000 ms). */
  readonly modelWaitMs?: number;
  /** The projection's layout and options (pipeline/project.ts). */
  readonly project: ProjectOptions;
  /** Stop after this many input messages (default: run until stopped). */
  readonly maxMessages?: number;
  /** Consecutive failed pulls (a lost server) before a ClusterError (default 15). */
  readonly maxFailures?: number;
}

export interface WorkerReport {
  readonly projected: number;
  readonly duplicates: number;
  readonly rejected: number;
}

/** Runs a worker until `stopped()` (checked between messages, at least once a second). */
export async function runProjectWorker(options: ProjectWorkerOptions, stopped: () => boolean, log: (line: string) => void): Promise<WorkerReport> {
  const nc: NatsConnection = await connectCluster({ ...options, name: `nmflow project worker ${process.pid}` });
  const key = options.modelKey ?? DEFAULT_MODEL_KEY;
  let watch: Awaited<ReturnType<typeof watchModel>> | undefined;
  try {
    const { jsm } = await requireStream(nc, options.stream, `create it (nmflow stream publish FILE --stream ${options.stream} --subject ${options.subject}).`);
    await ensureDurable(jsm, { stream: options.stream, durable: options.durable, subject: options.subject, role: 'project', ackWaitMs: options.ackWaitMs ?? 30_000 });
    const out = await streamFor(jsm, options.toSubject, options.toStream ?? `${options.stream}_OUT`, serverOf(nc));
    if (out.created) log(`created stream ${out.stream} for subject ${options.toSubject}`);
    const kv = await openModelBucket(nc, options.modelBucket, false);
    watch = await watchModel(kv, options.modelBucket, key, serverOf(nc), options.modelWaitMs ?? 30_000, (error) => log(`nmflow: ${(error as Error).message}; keeping the previous model`));
    await watch.ready;
    const js = jetstream(nc, { timeout: 10_000 });
    const consumer = await js.consumers.get(options.stream, options.durable);
    log(`worker ${process.pid} ready: ${options.stream}/${options.subject} (durable ${options.durable}) → ${options.toSubject}, model ${options.modelBucket}/${key}`);
    let operatorOf: { revision: number; operator: ReturnType<typeof project> } | undefined;
    const operatorFor = (m: WatchedModel) => (operatorOf?.revision === m.revision ? operatorOf : (operatorOf = { revision: m.revision, operator: project(m.model, options.project) })).operator;
    let projected = 0, duplicates = 0, rejected = 0, failures = 0, messages = 0;
    while (!stopped() && (options.maxMessages === undefined || messages < options.maxMessages)) {
      let msg;
      try {
        msg = await consumer.next({ expires: 1000 });
        failures = 0;
      } catch (error) {
        if (++failures >= (options.maxFailures ?? 15)) throw clusterFailure(`stream ${options.stream}`, `${failures} pulls from the durable ${options.durable} failed`, error);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (msg === null) continue;
      messages += 1;
      const where = { stream: options.stream, subject: msg.subject, sequence: msg.seq };
      const model = watch.current(); // the latest model, switched between messages
      let output;
      try {
        output = await projectMessage(msg.data, operatorFor(model), where);
      } catch (error) {
        if (!(error instanceof DataError || error instanceof NmfError)) throw error;
        log(`nmflow: ${error.message}; message terminated, not projected`);
        msg.term();
        rejected += 1;
        continue;
      }
      const h = headers();
      h.set('Nmflow-Input-Seq', String(msg.seq));
      h.set('Nmflow-Model-Revision', String(model.revision));
      h.set('Nmflow-Version', nmflowVersion());
      h.set('Nmflow-Worker', String(process.pid));
      h.set('Nmflow-Rows', String(output.rows));
      const ack = await js.publish(options.toSubject, output.data, { msgID: `${options.stream}:${msg.seq}`, headers: h });
      if (ack.duplicate) duplicates += 1; else projected += 1;
      await msg.ackAck();
    }
    return { projected, duplicates, rejected };
  } catch (error) {
    throw clusterFailure(`stream ${options.stream}`, 'the projection worker failed', error);
  } finally {
    watch?.stop();
    await nc.drain().catch(() => undefined);
  }
}
