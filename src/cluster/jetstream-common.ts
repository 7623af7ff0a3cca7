/**
 * What the JetStream stages share (issue #14 part 3): nmflow's version (peers of another version are refused),
 * a stream that must exist (a ClusterError naming it and the server), and durable pull consumers that say which
 * nmflow made them (the consumer's description `nmflow <version> <role>`: a worker of another version sharing the
 * durable is a ClusterError naming both versions).
 */
import { readFileSync } from 'node:fs';
import { AckPolicy, DeliverPolicy, jetstreamManager, type ConsumerInfo, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterError, NmfError } from '../errors.js';

let version: string | undefined;

/** The version in package.json (two folders up from src/cluster/ and from dist/cluster/). */
export function nmflowVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}

/** The server's URL(s) for messages. */
export function serverOf(nc: NatsConnection): string {
  return nc.getServer();
}

/** The stream's info; a missing stream is a ClusterError naming it and the server. */
export async function requireStream(nc: NatsConnection, stream: string, hint: string): Promise<{ jsm: JetStreamManager; info: StreamInfo }> {
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  try {
    return { jsm, info: await jsm.streams.info(stream) };
  } catch (error) {
    if ((error as Error).name === 'StreamNotFoundError' || /stream not found/i.test(String((error as Error).message))) {
      throw new ClusterError(`stream ${stream}`, `There is no JetStream stream "${stream}" on ${serverOf(nc)}: ${hint}`, error);
    }
    throw new ClusterError(`stream ${stream}`, `Cannot read the stream "${stream}" on ${serverOf(nc)}: ${(error as Error).message}`, error);
  }
}

export interface DurableSpec {
  readonly stream: string;
  readonly durable: string;
  readonly subject: string;
  /** 'learner' or 'project': part of the description, with the version. */
  readonly role: string;
  /** Redelivery of an unacknowledged message after this many ms. */
  readonly ackWaitMs: number;
  /** Start (again) at this stream sequence: an existing consumer is replaced (a learner resuming its checkpoint). */
  readonly startSequence?: number | undefined;
}

/** The description a consumer made by this nmflow carries. */
export function describeDurable(role: string): string {
  return `nmflow ${nmflowVersion()} ${role}`;
}

/**
 * Creates the durable pull consumer (explicit acks, filtered on the subject), or checks the existing one: made by
 * this version of nmflow, for the same subject. Workers creating it at once get the same consumer (same config).
 */
export async function ensureDurable(jsm: JetStreamManager, spec: DurableSpec): Promise<ConsumerInfo> {
  const target = `durable ${spec.durable} of stream ${spec.stream}`;
  let existing: ConsumerInfo | undefined;
  try { existing = await jsm.consumers.info(spec.stream, spec.durable); } catch { existing = undefined; }
  if (existing) {
    const description = existing.config.description ?? '';
    const theirs = /^nmflow (\S+) /.exec(description)?.[1];
    if (theirs !== undefined && theirs !== nmflowVersion()) {
      throw new ClusterError(target, `The ${target} is used by nmflow ${theirs} (${description}), this is nmflow ${nmflowVersion()}: run one version of nmflow on a durable consumer, or use another --durable.`);
    }
    if (existing.config.filter_subject !== undefined && existing.config.filter_subject !== spec.subject) {
      throw new ClusterError(target, `The ${target} reads subject "${existing.config.filter_subject}", not "${spec.subject}": use another --durable.`);
    }
    if (spec.startSequence === undefined) return existing;
    await jsm.consumers.delete(spec.stream, spec.durable);
  }
  return await jsm.consumers.add(spec.stream, {
    durable_name: spec.durable,
    description: describeDurable(spec.role),
    ack_policy: AckPolicy.Explicit,
    ack_wait: spec.ackWaitMs * 1_000_000,
    filter_subject: spec.subject,
    ...(spec.startSequence === undefined ? { deliver_policy: DeliverPolicy.All }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: spec.startSequence }),
  });
}

/** nmflow's own errors as they are; anything else (a library's error) as a ClusterError naming the target, kept as cause. */
export function clusterFailure(target: string, doing: string, error: unknown): NmfError {
  if (error instanceof NmfError) return error;
  return new ClusterError(target, `${doing}: ${(error as Error)?.message ?? String(error)}`, error);
}
