/**
 * Models in a JetStream KV bucket (issue #14 part 3): `nmflow model publish` puts a model file's bytes under a key
 * (each put is a new revision; the bucket keeps 64), `publishSnapshots` puts a fitOnline learner's snapshots, and
 * project workers read the key's latest revision (model-watch.ts). The bytes are a model file as `nmflow fit --out`
 * writes it (Arrow IPC, Parquet or CSV, told by the first bytes), verified by the model readers (checksum, values).
 * A missing bucket or key is a ClusterError naming it and the server.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concatMap, defer, finalize, from, type MonoTypeOperatorFunction } from 'rxjs';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClusterError, OptionError } from '../errors.js';
import { readModel, writeModel, type StoredModel } from '../io/model-file.js';
import { readModelCsv } from '../io/model-csv.js';
import { readModelTableFile } from '../io/model-table.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { connectCluster, type ClusterOptions } from './connect.js';
import { serverOf } from './jetstream-common.js';

/** The key models go under when none is given. */
export const DEFAULT_MODEL_KEY = 'model';

export interface ModelBucketOptions extends Pick<ClusterOptions, 'servers' | 'attempts' | 'timeoutMs'> {
  readonly bucket: string;
  /** Default "model". */
  readonly key?: string;
}

/** The bucket, created (history 64) when `create`; else a missing bucket is a ClusterError naming it. */
export async function openModelBucket(nc: NatsConnection, bucket: string, create: boolean): Promise<KV> {
  const kvm = new Kvm(nc);
  try {
    if (create) return await kvm.create(bucket, { history: 64 });
    const kv = await kvm.open(bucket);
    await kv.status();
    return kv;
  } catch (error) {
    throw new ClusterError(`bucket ${bucket}`, `There is no KV bucket "${bucket}" on ${serverOf(nc)}${create ? ' and it cannot be created' : ''}: publish a model first (nmflow model publish MODEL --nats URL --bucket ${bucket}).`, error);
  }
}

/** A model from the bytes of a model file (Arrow IPC file, Parquet or CSV); `where` names it in errors. */
export async function modelFromBytes(bytes: Uint8Array, where: string): Promise<StoredModel> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const head = buffer.toString('latin1', 0, 6);
  if (head === 'ARROW1') return await readModelTableFile(buffer, 'arrow', where);
  if (head.startsWith('PAR1')) return await readModelTableFile(buffer, 'parquet', where);
  return readModelCsv(buffer, where);
}

/** Puts the model file at `path` (read and verified first) under the key: its revision. */
export async function publishModelFile(path: string, options: ModelBucketOptions): Promise<{ revision: number; bucket: string; key: string; bytes: number }> {
  await readModel(path); // a damaged model is refused here, with its file named
  const bytes = readFileSync(path);
  const key = options.key ?? DEFAULT_MODEL_KEY;
  const nc = await connectCluster({ ...options, name: `nmflow model publish ${options.bucket}` });
  try {
    const kv = await openModelBucket(nc, options.bucket, true);
    return { revision: await kv.put(key, bytes), bucket: options.bucket, key, bytes: bytes.length };
  } finally {
    await nc.drain();
  }
}

export interface SnapshotPublishOptions extends ModelBucketOptions {
  /** Publish every this many snapshots (integer ≥ 1, default 1), and always the final one. */
  readonly every?: number;
  /** Told each revision published (for logs). */
  readonly onPublished?: (revision: number, snapshot: Snapshot) => void;
}

/**
 * fitOnline(…).pipe(publishSnapshots({ servers, bucket, key, every })): each `every`-th snapshot (and the final one)
 * is written as an Arrow IPC model file and put under the key before it is passed on; the bucket is created when
 * missing. The snapshots pass through unchanged.
 */
export function publishSnapshots(options: SnapshotPublishOptions): MonoTypeOperatorFunction<Snapshot> {
  const every = options.every ?? 1;
  if (!Number.isSafeInteger(every) || every < 1) throw new OptionError('publish.every', 'an integer ≥ 1', every);
  const key = options.key ?? DEFAULT_MODEL_KEY;
  return (snapshots$) => defer(() => {
    let count = 0;
    let bucket: Promise<{ nc: NatsConnection; kv: KV }> | undefined;
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-publish-'));
    const open = () => (bucket ??= connectCluster({ ...options, name: `nmflow learner publish ${options.bucket}` })
      .then(async (nc) => ({ nc, kv: await openModelBucket(nc, options.bucket, true) })));
    return snapshots$.pipe(
      concatMap((snapshot) => {
        count += 1;
        if (count % every !== 0 && !snapshot.final) return from([snapshot]);
        return from((async () => {
          const { kv } = await open();
          const file = join(dir, 'snapshot.arrow');
          await writeModel(file, snapshot);
          const revision = await kv.put(key, readFileSync(file));
          options.onPublished?.(revision, snapshot);
          return snapshot;
        })());
      }),
      finalize(() => {
        rmSync(dir, { recursive: true, force: true });
        void bucket?.then(({ nc }) => nc.drain()).catch(() => undefined);
      }),
    );
  });
}
