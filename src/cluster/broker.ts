/**
 * The JetStream resources of protocol.ts (the blobs: blobs.ts), opened (the coordinator creates them, a worker waits for them) and
 * reached through `retry`: every call is bounded and ends in a ClusterError naming what it reached.
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type Consumer, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { BLOB_STREAM, createBlobStream, type FitBlobs } from './blobs.js';
import { blobSlot, FITS_BUCKET, LEGACY_CONSUMER, retry, WORK_STREAM, workerConsumerName, workSubject, type RetryOptions } from './protocol.js';

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
}

const nanos = (ms: number): number => Math.round(ms * 1_000_000);

/** Creates (or opens, when it exists) the work stream, the blob stream and the fits bucket: the coordinator's side. */
export async function createBroker(nc: NatsConnection, where: string, settings: BrokerSettings, retryOptions: RetryOptions = {}): Promise<Broker> {
  // The bucket and the blobs first: a worker that sees the work stream finds them too.
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
    // a server that ran an older nmflow: its one shared consumer would refuse the workers' own (work-queue streams)
    if (await jsm.consumers.info(WORK_STREAM, LEGACY_CONSUMER).then(() => true, () => false)) await jsm.consumers.delete(WORK_STREAM, LEGACY_CONSUMER);
  }, retryOptions);
  return { nc, js: jetstream(nc, { timeout: 5000 }), kv, where, retryOptions };
}

/** Opens the resources a coordinator made; undefined while there are none yet (a worker waits). */
export async function openBroker(nc: NatsConnection, where: string, retryOptions: RetryOptions = {}): Promise<Broker | undefined> {
  const ready = await retry(`stream ${WORK_STREAM} at ${where}`, 'looking up the work stream', async () => {
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    const stream = await jsm.streams.info(WORK_STREAM).then(() => true, (e: unknown) => notFound(e));
    if (!stream) return false;
    return await jsm.streams.info(BLOB_STREAM).then(() => true, (e: unknown) => notFound(e));
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

/**
 * This worker's own consumer (made when missing): the items addressed to it. Its ack_wait (10 s; the item in hand is
 * kept by `working()` every 500 ms) only bounds an item a live worker lost — a delivery cut by a server restart; a worker
 * that went is the coordinator's to replace (dispatch.ts).
 */
export async function workConsumer(broker: Broker, worker: string): Promise<Consumer> {
  const name = workerConsumerName(worker);
  return await retry(`stream ${WORK_STREAM} at ${broker.where}`, 'opening this worker\'s consumer', async () => {
    const jsm = await jetstreamManager(broker.nc, { timeout: 5000 });
    if (!await jsm.consumers.info(WORK_STREAM, name).then(() => true, (e: unknown) => notFound(e))) {
      await jsm.consumers.add(WORK_STREAM, {
        durable_name: name, filter_subject: workSubject(worker, '>'), ack_policy: AckPolicy.Explicit, ack_wait: nanos(10_000),
        max_deliver: -1, max_ack_pending: -1, inactive_threshold: nanos(3_600_000),
      });
    }
    return await broker.js.consumers.get(WORK_STREAM, name);
  }, broker.retryOptions);
}

/** Removes a worker's consumer (it stopped, or went: its items are given to others). */
export async function dropWorkConsumer(broker: Broker, worker: string): Promise<void> {
  await retry(`stream ${WORK_STREAM} at ${broker.where}`, `removing consumer ${workerConsumerName(worker)}`, async () => {
    await (await jetstreamManager(broker.nc, { timeout: 5000 })).consumers.delete(WORK_STREAM, workerConsumerName(worker)).catch((e: unknown) => notFound(e));
  }, broker.retryOptions);
}

/** The fit's blobs (blobs.ts): the coordinator made the stream; a worker finds it with the work consumer. */
export function fitObjects(_broker: Broker, fit: string, codesEvery?: number): FitBlobs {
  return { fit, slot: blobSlot(codesEvery) };
}

/** The keys of the fits bucket under `filter` (e.g. `<fit>.done.3.*`). */
export async function listKeys(broker: Broker, filter: string): Promise<string[]> {
  return await retry(`bucket ${FITS_BUCKET} at ${broker.where}`, `listing ${filter}`, async () => {
    // a set: the client's ordered consumer may start over under load and list a key again
    const out = new Set<string>();
    const keys = await broker.kv.keys(filter);
    // the listing's consumer was seen to stall while keys were being written: stopped after 5 s, and tried again
    let stalled = false;
    const timer = setTimeout(() => { stalled = true; keys.stop(); }, 5000);
    try {
      for await (const key of keys) out.add(key);
    } finally {
      clearTimeout(timer);
    }
    if (stalled) throw new Error(`listing ${filter} stalled`);
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
