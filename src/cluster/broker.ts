/**
 * The JetStream resources of protocol.ts (the blobs: blobs.ts), opened (the coordinator creates them, a worker waits for them) and
 * reached through `retry`: every call is bounded and ends in a ClusterError naming what it reached.
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type Consumer, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { BLOB_STREAM, createBlobStream, type FitBlobs } from './blobs.js';
import { FITS_BUCKET, retry, WORK_CONSUMER, WORK_STREAM, type RetryOptions } from './protocol.js';

export interface Broker {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly kv: KV;
  /** What the connection reaches (the server list), for messages. */
  readonly where: string;
  readonly retryOptions: RetryOptions;
}

export interface BrokerSettings {
  /** Copies of every stream, bucket and store (1; 3 on a 3-server cluster). */
  readonly replicas: number;
  /** How long a worker holds a work item without `working()` before it is redelivered (ms). */
  readonly ackWaitMs: number;
}

const nanos = (ms: number): number => Math.round(ms * 1_000_000);

/** Creates (or opens, when it exists) the work stream, its shared consumer and the fits bucket: the coordinator's side. */
export async function createBroker(nc: NatsConnection, where: string, settings: BrokerSettings, retryOptions: RetryOptions = {}): Promise<Broker> {
  // The bucket first: a worker that sees the consumer finds the bucket too.
  const kv = await retry(`bucket ${FITS_BUCKET} at ${where}`, 'creating the KV bucket', async () =>
    await new Kvm(nc).create(FITS_BUCKET, { replicas: settings.replicas, storage: StorageType.File, history: 1 }), retryOptions);
  await createBlobStream(nc, where, settings.replicas, retryOptions);
  const target = `stream ${WORK_STREAM} at ${where}`;
  await retry(target, 'creating the work stream', async () => {
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    const exists = await jsm.streams.info(WORK_STREAM).then(() => true, () => false);
    if (!exists) {
      await jsm.streams.add({
        name: WORK_STREAM, subjects: ['nmflow.work.>'], retention: RetentionPolicy.Workqueue, storage: StorageType.File,
        num_replicas: settings.replicas, duplicate_window: nanos(10 * 60_000),
      });
    }
    const hasConsumer = await jsm.consumers.info(WORK_STREAM, WORK_CONSUMER).then(() => true, () => false);
    if (!hasConsumer) {
      await jsm.consumers.add(WORK_STREAM, {
        durable_name: WORK_CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: nanos(settings.ackWaitMs), max_deliver: -1,
        max_ack_pending: -1, num_replicas: settings.replicas,
      });
    }
  }, retryOptions);
  return { nc, js: jetstream(nc, { timeout: 5000 }), kv, where, retryOptions };
}

/** Opens the resources a coordinator made; undefined while there are none yet (a worker waits). */
export async function openBroker(nc: NatsConnection, where: string, retryOptions: RetryOptions = {}): Promise<Broker | undefined> {
  const ready = await retry(`stream ${WORK_STREAM} at ${where}`, 'looking up the work stream', async () => {
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    const stream = await jsm.streams.info(WORK_STREAM).then(() => true, (e: unknown) => notFound(e));
    if (!stream) return false;
    if (!await jsm.streams.info(BLOB_STREAM).then(() => true, (e: unknown) => notFound(e))) return false;
    return await jsm.consumers.info(WORK_STREAM, WORK_CONSUMER).then(() => true, (e: unknown) => notFound(e));
  }, retryOptions);
  if (!ready) return undefined;
  const kv = await retry(`bucket ${FITS_BUCKET} at ${where}`, 'opening the KV bucket', async () => await new Kvm(nc).open(FITS_BUCKET), retryOptions);
  return { nc, js: jetstream(nc, { timeout: 5000 }), kv, where, retryOptions };
}

/** false for "not found"; anything else (no JetStream, a timeout) is thrown, to be retried. */
function notFound(error: unknown): false {
  if (/not found/i.test((error as Error)?.message ?? '')) return false;
  throw error;
}

/** The work consumer shared by the workers. */
export async function workConsumer(broker: Broker): Promise<Consumer> {
  return await retry(`stream ${WORK_STREAM} at ${broker.where}`, 'opening the work consumer', async () =>
    await broker.js.consumers.get(WORK_STREAM, WORK_CONSUMER), broker.retryOptions);
}

/** The fit's blobs (blobs.ts): the coordinator made the stream; a worker finds it with the work consumer. */
export function fitObjects(_broker: Broker, fit: string): FitBlobs {
  return { fit };
}

/** The keys of the fits bucket under `filter` (e.g. `<fit>.done.3.*`). */
export async function listKeys(broker: Broker, filter: string): Promise<string[]> {
  return await retry(`bucket ${FITS_BUCKET} at ${broker.where}`, `listing ${filter}`, async () => {
    // a set: the client's ordered consumer may start over under load and list a key again
    const out = new Set<string>();
    for await (const key of await broker.kv.keys(filter)) out.add(key);
    return [...out];
  }, broker.retryOptions);
}

export async function getValue(broker: Broker, key: string): Promise<Uint8Array | undefined> {
  return await retry(`bucket ${FITS_BUCKET} at ${broker.where}`, `reading ${key}`, async () => {
    const entry = await broker.kv.get(key);
    return entry === null || entry.operation !== 'PUT' ? undefined : entry.value;
  }, broker.retryOptions);
}

export async function putValue(broker: Broker, key: string, value: Uint8Array): Promise<void> {
  await retry(`bucket ${FITS_BUCKET} at ${broker.where}`, `writing ${key}`, async () => { await broker.kv.put(key, value); }, broker.retryOptions);
}
