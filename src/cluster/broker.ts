/**
 * The JetStream resources of protocol.ts, opened (the coordinator creates them, a worker waits for them) and
 * reached through `retry`: every call is bounded and ends in a ClusterError naming what it reached.
 */
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type Consumer, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterError } from '../errors.js';
import { FITS_BUCKET, objectBucket, retry, WORK_CONSUMER, WORK_STREAM, type RetryOptions } from './protocol.js';

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

/** The fit's object store: created by the coordinator, opened by workers (a missing one is a ClusterError naming it). */
export async function fitObjects(broker: Broker, fit: string, create: { replicas: number } | undefined): Promise<ObjectStore> {
  const name = objectBucket(fit);
  return await retry(`object store ${name} at ${broker.where}`, create ? 'creating the object store' : 'opening the object store', async () => {
    const objm = new Objm(broker.nc);
    if (create) return await objm.create(name, { replicas: create.replicas, storage: StorageType.File });
    try {
      return await objm.open(name);
    } catch (error) {
      if (/not found/i.test((error as Error)?.message ?? '')) throw new ClusterError(`object store ${name}`, `the fit's object store ${name} is missing on ${broker.where} (the fit ended or was deleted)`, error);
      throw error;
    }
  }, broker.retryOptions);
}

/** A blob of the object store; a missing one is a ClusterError naming it. */
export async function getBlob(broker: Broker, store: ObjectStore, name: string): Promise<Uint8Array> {
  const bytes = await retry(`object ${name} at ${broker.where}`, `reading ${name}`, async () => await store.getBlob(name), broker.retryOptions);
  if (bytes === null) throw new ClusterError(`object ${name}`, `object ${name} is missing from the fit's object store on ${broker.where}`);
  return bytes;
}

/**
 * Writes a blob in chunks of the server's largest payload (the client awaits each chunk's ack in turn: 128 KB
 * chunks made a unit's 1.6 MB statistics 13 round trips).
 */
export async function putBlob(broker: Broker, store: ObjectStore, name: string, bytes: Uint8Array): Promise<void> {
  const max = Math.max(128 * 1024, broker.nc.info?.max_payload ?? 1024 * 1024);
  await retry(`object ${name} at ${broker.where}`, `writing ${name}`, async () => {
    await store.putBlob({ name, options: { max_chunk_size: max } }, bytes);
  }, broker.retryOptions);
}

/** The keys of the fits bucket under `filter` (e.g. `<fit>.done.3.*`). */
export async function listKeys(broker: Broker, filter: string): Promise<string[]> {
  return await retry(`bucket ${FITS_BUCKET} at ${broker.where}`, `listing ${filter}`, async () => {
    const out: string[] = [];
    for await (const key of await broker.kv.keys(filter)) out.push(key);
    return out;
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
