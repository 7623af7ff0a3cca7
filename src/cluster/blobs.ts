/**
 * The fit's blobs (W, unit statistics, unit codes, engine state: protocol.ts) as messages of one stream,
 * NMFLOW_BLOBS (file storage, the last message per subject kept): blob `s/3/17` of fit F is the parts
 * `nmflow.blob.F.s.3.17.<i>`, each at most the server's largest payload, the first 8 bytes of each holding the
 * number of parts. Written with the parts' acks awaited together, read with one direct get per part (raw bytes, no JSON). (The
 * JetStream object store was measured at ~12 MB/s on this machine — it hashes every chunk in JavaScript and
 * acks chunk by chunk — which made a unit's 1.6 MB of statistics cost more than its solve.)
 */
import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { retry, type RetryOptions } from './protocol.js';

export const BLOB_STREAM = 'NMFLOW_BLOBS';

/** A fit's blobs (no server resource of its own: a subject prefix in NMFLOW_BLOBS). */
export interface FitBlobs {
  readonly fit: string;
}

interface BlobBroker {
  readonly nc: NatsConnection;
  readonly js: { publish(subject: string, payload: Uint8Array, options?: { timeout?: number }): Promise<unknown> };
  readonly where: string;
  readonly retryOptions: RetryOptions;
}

const subjectOf = (fit: string, name: string): string => `nmflow.blob.${fit}.${name.replaceAll('/', '.')}`;

/** Creates the blob stream when it is missing (the coordinator's side). */
export async function createBlobStream(nc: NatsConnection, where: string, replicas: number, retryOptions: RetryOptions): Promise<void> {
  await retry(`stream ${BLOB_STREAM} at ${where}`, 'creating the blob stream', async () => {
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    if (await jsm.streams.info(BLOB_STREAM).then(() => true, () => false)) return;
    await jsm.streams.add({
      name: BLOB_STREAM, subjects: ['nmflow.blob.>'], retention: RetentionPolicy.Limits, storage: StorageType.File,
      num_replicas: replicas, max_msgs_per_subject: 1, allow_direct: true,
    });
  }, retryOptions);
}

/**
 * Payload buffers of parts the server has acked, for the next parts: writing a fresh 1 MB buffer cost 1.5–3 ms
 * (page faults) on the bench machine, a reused one ~0.03 ms. Once acked a part is sent and stored (the client copied it
 * into its outbound buffer before the socket write, and resends only what it has not sent); a part whose publish
 * failed is not reused (the client may still hold it, to send after a reconnect).
 */
const spare: ArrayBuffer[] = [];
const SPARE_BUFFERS = 8;

export async function putBlob(broker: BlobBroker, blobs: FitBlobs, name: string, bytes: Uint8Array): Promise<void> {
  const part = Math.max(64 * 1024, (broker.nc.info?.max_payload ?? 1024 * 1024) - 4096);
  const parts = Math.max(1, Math.ceil(bytes.length / part));
  const subject = subjectOf(blobs.fit, name);
  await retry(`blob ${name} at ${broker.where}`, `writing ${name}`, async () => {
    await Promise.all(Array.from({ length: parts }, async (_, i) => {
      const piece = bytes.subarray(i * part, Math.min(bytes.length, (i + 1) * part));
      const at = spare.findIndex((b) => b.byteLength >= 8 + piece.length);
      const buffer = at >= 0 ? spare.splice(at, 1)[0]! : new ArrayBuffer(8 + Math.max(piece.length, part));
      const payload = new Uint8Array(buffer, 0, 8 + piece.length);
      const head = new DataView(buffer);
      head.setUint32(0, parts, true); head.setUint32(4, 0, true);
      payload.set(piece, 8);
      await broker.js.publish(`${subject}.${i}`, payload, { timeout: 10_000 });
      if (spare.length < SPARE_BUFFERS) spare.push(buffer);
    }));
  }, broker.retryOptions);
}

/** A blob (read-only: a one-part blob is a view of the message, possibly a Node Buffer); a missing one is a ClusterError naming it. */
export async function getBlob(broker: BlobBroker, blobs: FitBlobs, name: string): Promise<Uint8Array> {
  const subject = subjectOf(blobs.fit, name);
  return await retry(`blob ${name} at ${broker.where}`, `reading ${name}`, async () => {
    const jsm = await jetstreamManager(broker.nc, { timeout: 5000 });
    const get = async (i: number): Promise<Uint8Array> => {
      const msg = await jsm.direct.getMessage(BLOB_STREAM, { last_by_subj: `${subject}.${i}` }).catch((error: unknown) => {
        if (/no message found|not found/i.test((error as Error)?.message ?? '')) return null;
        throw error;
      });
      // (retried: a replica that has not caught up yet; after the last attempt a ClusterError naming the blob)
      if (msg === null) throw new Error(`${name} of fit ${blobs.fit} is missing from stream ${BLOB_STREAM}`);
      return msg.data;
    };
    const first = await get(0);
    const parts = new DataView(first.buffer, first.byteOffset, first.byteLength).getUint32(0, true);
    // one part (a unit's codes): a view, no copy — the client gives each message bytes nothing writes to again
    if (parts === 1) return first.subarray(8);
    const rest = await Promise.all(Array.from({ length: parts - 1 }, (_, i) => get(i + 1)));
    const all = [first, ...rest];
    const out = new Uint8Array(all.reduce((s, p) => s + p.length - 8, 0));
    let at = 0;
    for (const p of all) { out.set(p.subarray(8), at); at += p.length - 8; }
    return out;
  }, broker.retryOptions);
}

/** Removes blobs by name pattern (`s/3/>`, `>`: all the fit's). */
export async function dropBlobs(broker: BlobBroker, blobs: FitBlobs, pattern: string): Promise<void> {
  const filter = subjectOf(blobs.fit, pattern);
  await retry(`stream ${BLOB_STREAM} at ${broker.where}`, `removing ${pattern}`, async () => {
    await (await jetstreamManager(broker.nc, { timeout: 5000 })).streams.purge(BLOB_STREAM, { filter });
  }, broker.retryOptions);
}

/** A blob received while it is written (blobs are JetStream messages: a core subscriber gets their parts as they go by). */
export interface IncomingBlob {
  /** The blob once every part has come. */
  bytes(): Uint8Array | undefined;
  /** true as soon as every part has come (now or within `ms`), false after `ms`. */
  wait(ms: number): Promise<boolean>;
  stop(): void;
}

/**
 * Listens for the parts of blob `name` from now on — the worker of the next block of the prefix chain, the coordinator
 * for the last prefix: the bytes without a read once they are written. A blob written before this call never comes
 * (read it with getBlob); nor may it when the connection drops — only a shortcut.
 */
export function watchBlob(nc: NatsConnection, blobs: FitBlobs, name: string): IncomingBlob {
  const parts = new Map<number, Uint8Array>();
  let total = 0;
  let whole: Uint8Array | undefined;
  let wake: (() => void) | undefined;
  const subscription = nc.subscribe(`${subjectOf(blobs.fit, name)}.*`, {
    callback: (error, msg) => {
      if (error !== null || whole !== undefined || msg.data.length < 8) return;
      const index = Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
      total = new DataView(msg.data.buffer, msg.data.byteOffset, 8).getUint32(0, true);
      parts.set(index, msg.data.subarray(8));
      for (let i = 0; i < total; i++) if (!parts.has(i)) return;
      const out = new Uint8Array([...parts.values()].reduce((s, p) => s + p.length, 0));
      for (let i = 0, at = 0; i < total; at += parts.get(i)!.length, i++) out.set(parts.get(i)!, at);
      whole = out;
      subscription.unsubscribe();
      wake?.();
    },
  });
  return {
    bytes: () => whole,
    async wait(ms) {
      if (whole !== undefined) return true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { wake = undefined; resolve(); }, ms);
        wake = () => { clearTimeout(timer); wake = undefined; resolve(); };
      });
      return whole !== undefined;
    },
    stop: () => { if (whole === undefined) subscription.unsubscribe(); },
  };
}
