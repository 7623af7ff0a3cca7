/**
 * Publishing record batches into a JetStream subject (`nmflow stream publish`, demos and tests): the stream that
 * captures the subject is found, or created when missing (file storage, limits retention; the caller says so),
 * and each message goes out with a Nats-Msg-Id, so that a re-run inside the stream's duplicate window
 * (default 2 minutes) publishes nothing twice.
 */
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Table, tableToIPC } from 'apache-arrow';
import { makeCscChunk, type CscChunk } from '../chunk/csc-chunk.js';
import { ClusterError } from '../errors.js';
import { toBatches, type OutLayout } from '../format/chunk-batches.js';
import { connectCluster, type ClusterOptions } from './connect.js';
import { clusterFailure, serverOf } from './jetstream-common.js';

export interface PublisherOptions extends Pick<ClusterOptions, 'servers' | 'attempts' | 'timeoutMs'> {
  readonly subject: string;
  /** The stream's name: used when the subject has no stream yet (default: the subject in capitals, `.` → `_`). */
  readonly stream?: string;
}

export interface Publisher {
  readonly stream: string;
  /** True when this publisher created the stream. */
  readonly created: boolean;
  /** Publishes one message; `duplicate`: the stream had it already (same msgID), nothing was added. */
  publish(data: Uint8Array, msgID: string): Promise<{ seq: number; duplicate: boolean }>;
  close(): Promise<void>;
}

/** A stream name made from a subject (NATS stream names may not hold `.`, `*`, `>` or spaces). */
export function streamNameFor(subject: string): string {
  return subject.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase();
}

/** The stream that captures `subject`, created as `name` when there is none; `created` says which. */
export async function streamFor(jsm: JetStreamManager, subject: string, name: string, where: string): Promise<{ stream: string; created: boolean }> {
  let found: string | undefined;
  try { found = await jsm.streams.find(subject); } catch { found = undefined; }
  if (found) return { stream: found, created: false };
  try {
    await jsm.streams.add({ name, subjects: [subject] });
  } catch (error) {
    throw new ClusterError(`stream ${name}`, `Cannot create the stream "${name}" for subject ${subject} on ${where}: ${(error as Error).message}`, error);
  }
  return { stream: name, created: true };
}

/**
 * A publisher of Arrow IPC messages to `subject` (issue #14 part 3): connects, creates the stream when none captures
 * the subject (and says so in `created`), and publishes each message with a msgID so that a re-run adds nothing.
 * Rejects with a ClusterError naming the server or the stream.
 */
export async function openPublisher(options: PublisherOptions): Promise<Publisher> {
  const nc: NatsConnection = await connectCluster({ ...options, name: `nmflow publish ${options.subject}` });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    const { stream, created } = await streamFor(jsm, options.subject, options.stream ?? streamNameFor(options.subject), serverOf(nc));
    const js = jetstream(nc, { timeout: 10_000 });
    return {
      stream, created,
      publish: async (data, msgID) => {
        try {
          const ack = await js.publish(options.subject, data, { msgID });
          return { seq: ack.seq, duplicate: ack.duplicate };
        } catch (error) {
          throw clusterFailure(`subject ${options.subject}`, `Cannot publish message ${msgID} (${data.length} bytes) to ${options.subject} on ${serverOf(nc)} (too large? lower --batch-size)`, error);
        }
      },
      close: async () => { await nc.drain(); },
    };
  } catch (error) {
    await nc.close();
    throw error;
  }
}

/**
 * A chunk as one message: an Arrow IPC stream of one record batch in the layout (default list; long numbers the
 * message's own samples from 0), with `nmflow.features` = m in the schema metadata — what fromJetStream and
 * `nmflow project --from-jetstream` read.
 */
export function chunkMessage(chunk: CscChunk, layout: OutLayout = 'list', names?: readonly string[]): Uint8Array {
  return tableToIPC(new Table(toBatches(makeCscChunk({ ...chunk, colStart: 0 }), layout, chunk.m, undefined, names)), 'stream');
}
