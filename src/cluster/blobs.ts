/**
 * The fit's blobs (W, prefix sums, unit codes, engine state: protocol.ts) as messages of one stream,
 * NMFLOW_BLOBS (file storage, the last message per subject kept). A blob's subject is its slot (FitBlobs.slot,
 * protocol.ts blobSlot: `w/12` of a fit with codes every 5 passes is slot `w/0`): a blob written to a slot replaces the
 * one of 12 passes before, which nothing reads any more, so a pass removes nothing (a filtered purge of the stream cost
 * the server 1–80 ms of CPU per pass, taken from the workers). Blob `h/3/17` of fit F in slot `h/3/17` is the parts
 * `nmflow.blob.F.h.3.17.<i>`, each at most the server's largest payload, each starting with a header: the number of
 * parts, then the blob's own name — a reader takes only parts of the name it asked for (another generation in the
 * slot is "missing", never read as this one). Written with the parts' acks awaited together, read with one direct get
 * per part (raw bytes, no JSON). (The
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
  /** The slot (subject) a blob name is written to (default: its own name). */
  readonly slot?: (name: string) => string;
}

interface BlobBroker {
  readonly nc: NatsConnection;
  readonly js: { publish(subject: string, payload: Uint8Array, options?: { timeout?: number }): Promise<unknown> };
  readonly where: string;
  readonly retryOptions: RetryOptions;
}

const subjectOf = (blobs: FitBlobs, name: string): string => `nmflow.blob.${blobs.fit}.${(blobs.slot?.(name) ?? name).replaceAll('/', '.')}`;

/** A part's header: the number of parts (u32), the name's length (u32), the name (UTF-8), zeros to a multiple of 8 bytes. */
const headerOf = (name: string, parts: number): Uint8Array => {
  const text = new TextEncoder().encode(name);
  const out = new Uint8Array(8 + Math.ceil(text.length / 8) * 8);
  const view = new DataView(out.buffer);
  view.setUint32(0, parts, true); view.setUint32(4, text.length, true);
  out.set(text, 8);
  return out;
};

const utf8 = new TextDecoder();

/** A part's number of parts and body, when it is a part of blob `name` (else undefined: another blob in the slot). */
function partOf(data: Uint8Array, name: string): { parts: number; body: Uint8Array } | undefined {
  if (data.length < 8) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, 8);
  const length = view.getUint32(4, true), at = 8 + Math.ceil(length / 8) * 8;
  if (data.length < at || utf8.decode(data.subarray(8, 8 + length)) !== name) return undefined;
  return { parts: view.getUint32(0, true), body: data.subarray(at) };
}

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
  const subject = subjectOf(blobs, name);
  const header = headerOf(name, parts);
  await retry(`blob ${name} at ${broker.where}`, `writing ${name}`, async () => {
    await Promise.all(Array.from({ length: parts }, async (_, i) => {
      const piece = bytes.subarray(i * part, Math.min(bytes.length, (i + 1) * part));
      const at = spare.findIndex((b) => b.byteLength >= header.length + piece.length);
      const buffer = at >= 0 ? spare.splice(at, 1)[0]! : new ArrayBuffer(header.length + Math.max(piece.length, part));
      const payload = new Uint8Array(buffer, 0, header.length + piece.length);
      payload.set(header);
      payload.set(piece, header.length);
      await broker.js.publish(`${subject}.${i}`, payload, { timeout: 10_000 });
      if (spare.length < SPARE_BUFFERS) spare.push(buffer);
    }));
  }, broker.retryOptions);
}

/** A blob (read-only: a one-part blob is a view of the message, possibly a Node Buffer); a missing one is a ClusterError naming it. */
export async function getBlob(broker: BlobBroker, blobs: FitBlobs, name: string): Promise<Uint8Array> {
  const subject = subjectOf(blobs, name);
  return await retry(`blob ${name} at ${broker.where}`, `reading ${name}`, async () => {
    const jsm = await jetstreamManager(broker.nc, { timeout: 5000 });
    const get = async (i: number): Promise<{ parts: number; body: Uint8Array }> => {
      const msg = await jsm.direct.getMessage(BLOB_STREAM, { last_by_subj: `${subject}.${i}` }).catch((error: unknown) => {
        if (/no message found|not found/i.test((error as Error)?.message ?? '')) return null;
        throw error;
      });
      // (retried: a replica that has not caught up yet, or the slot still holds another generation; after the last
      // attempt a ClusterError naming the blob)
      const part = msg === null ? undefined : partOf(msg.data, name);
      if (part === undefined) throw new Error(`${name} of fit ${blobs.fit} is missing from stream ${BLOB_STREAM}`);
      return part;
    };
    const first = await get(0);
    // one part (a unit's codes): a view, no copy — the client gives each message bytes nothing writes to again
    if (first.parts === 1) return first.body;
    const rest = await Promise.all(Array.from({ length: first.parts - 1 }, (_, i) => get(i + 1)));
    const all = [first.body, ...rest.map((p) => p.body)];
    const out = new Uint8Array(all.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of all) { out.set(p, at); at += p.length; }
    return out;
  }, broker.retryOptions);
}

/** Removes blobs by name pattern (`s/3/>`, `>`: all the fit's). */
export async function dropBlobs(broker: BlobBroker, blobs: FitBlobs, pattern: string): Promise<void> {
  const filter = `nmflow.blob.${blobs.fit}.${pattern.replaceAll('/', '.')}`;
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
  const subscription = nc.subscribe(`${subjectOf(blobs, name)}.*`, {
    callback: (error, msg) => {
      const part = error === null && whole === undefined ? partOf(msg.data, name) : undefined;
      if (part === undefined) return;
      const index = Number(msg.subject.slice(msg.subject.lastIndexOf('.') + 1));
      total = part.parts;
      parts.set(index, part.body);
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
