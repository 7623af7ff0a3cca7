/**
 * cluster/blobs.ts slots against a real nats-server: a blob name goes to its slot (protocol.ts blobSlot), the blob
 * of a later pass replaces it there (nothing is purged per pass), and a reader — a direct get or a watch — takes only
 * parts of the name it asked for: another generation in the slot is "missing", never read as this one.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { BLOB_STREAM, getBlob, putBlob, watchBlob } from '../src/cluster/blobs.js';
import { fitObjects } from '../src/cluster/broker.js';
import { ClusterError } from '../src/errors.js';
import { blobSlot, engineName, hName, prefixName, wName } from '../src/cluster/protocol.js';
import { natsServerBinary } from './helpers/nats-server.js';
import { useBroker } from './helpers/nats-broker.js';

const haveNats = natsServerBinary() !== undefined;

describe('protocol.ts blobSlot', () => {
  it('W, engine states and codes of pass N in slot N mod 2c+2; prefixes in N mod 2 with their run; other names as they are', () => {
    const slot = blobSlot(5); // ring of 12
    expect(slot(wName(3))).toBe('w/3');
    expect(slot(wName(15))).toBe('w/3');
    expect(slot(engineName(24))).toBe('e/0');
    expect(slot(hName(17, 48))).toBe('h/5/48');
    expect(slot(prefixName(7, 'run1', 24))).toBe('p/1/run1/24');
    expect(slot(prefixName(8, 'run1', 24))).toBe('p/0/run1/24');
    expect(slot('f/run1')).toBe('f/run1');
    // what a pass reads is at most codesEvery + 1 passes old: W since the last stored codes, in distinct slots
    for (const c of [1, 2, 5]) {
      const ring = blobSlot(c);
      for (let q = 0; q < 30; q += c) {
        const needed = Array.from({ length: c + 1 }, (_, i) => ring(wName(q + 1 + i)));
        expect(new Set(needed).size).toBe(c + 1);
        expect(ring(hName(q, 0))).not.toBe(ring(hName(q + c, 0)));
      }
    }
    expect(blobSlot()(wName(9))).toBe('w/1'); // a fit without codesEvery: every pass (ring of 4)
  });
});

describe.skipIf(!haveNats)('cluster/blobs.ts: slots on a real server', () => {
  const nats = useBroker();

  const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251);
  const messagesOf = async (fit: string): Promise<number> => {
    const info = await (await jetstreamManager(nats.nc)).streams.info(BLOB_STREAM, { subjects_filter: `nmflow.blob.${fit}.>` });
    return Object.values(info.state.subjects ?? {}).reduce((s, n) => s + n, 0);
  };

  it('a later pass replaces the blob in its slot; the earlier name is then missing (a ClusterError naming it), never the later bytes', async () => {
    const store = fitObjects(nats.broker, 'slots1', 1); // ring of 4: w/1 and w/5 share a slot
    const quick = { ...nats.broker, retryOptions: { attempts: 2 } };
    const large = bytes(2_500_000, 1); // three parts of the server's 1 MB payload
    await putBlob(nats.broker, store, wName(1), large);
    expect(Buffer.from(await getBlob(nats.broker, store, wName(1))).equals(Buffer.from(large))).toBe(true);
    const small = bytes(1000, 2); // one part: the old parts 1 and 2 stay in the slot, of another name
    await putBlob(nats.broker, store, wName(5), small);
    expect(Buffer.from(await getBlob(nats.broker, store, wName(5))).equals(Buffer.from(small))).toBe(true);
    const stale = await getBlob(quick, store, wName(1)).then(() => 'read', (error: unknown) => error);
    expect(stale).toBeInstanceOf(ClusterError);
    expect((stale as Error).message).toMatch(/w\/1/);
    // writing pass after pass keeps the fit's messages bounded by its slots (no purge)
    for (let pass = 2; pass <= 20; pass++) await putBlob(nats.broker, store, wName(pass), bytes(1000, pass));
    expect(await messagesOf('slots1')).toBeLessThanOrEqual(4 + 2);
  });

  it('a watch takes only the parts of its own name: another generation written to the slot meanwhile is not its blob', async () => {
    const store = fitObjects(nats.broker, 'slots2', 1);
    const incoming = watchBlob(nats.nc, store, wName(6));
    await nats.nc.flush();
    await putBlob(nats.broker, store, wName(2), bytes(5000, 3)); // the same slot, an older pass (a late writer)
    expect(await incoming.wait(300)).toBe(false);
    const mine = bytes(1_500_000, 4);
    await putBlob(nats.broker, store, wName(6), mine);
    expect(await incoming.wait(10_000)).toBe(true);
    expect(Buffer.from(incoming.bytes()!).equals(Buffer.from(mine))).toBe(true);
  });

  it('prefixes of two coordinator runs of the same pass are in different slots', async () => {
    const store = fitObjects(nats.broker, 'slots3', 5);
    await putBlob(nats.broker, store, prefixName(3, 'runA', 10), bytes(100, 5));
    await putBlob(nats.broker, store, prefixName(3, 'runB', 10), bytes(100, 6));
    expect(Array.from(await getBlob(nats.broker, store, prefixName(3, 'runA', 10)))).toEqual(Array.from(bytes(100, 5)));
    expect(Array.from(await getBlob(nats.broker, store, prefixName(3, 'runB', 10)))).toEqual(Array.from(bytes(100, 6)));
  });
});
