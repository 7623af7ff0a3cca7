/**
 * A project worker's model: the latest revision under a key of the KV bucket, followed by a KV watch, so the
 * worker always projects with the newest model (it switches between batches). The first model is waited for
 * `waitMs` at most, then a ClusterError names the bucket, the key and the server; a revision that is not a valid
 * model file is reported (`onError`) and the previous model kept.
 */
import type { KV } from '@nats-io/kv';
import { ClusterError } from '../errors.js';
import type { StoredModel } from '../io/model-file.js';
import { modelFromBytes } from './model-kv.js';

export interface WatchedModel {
  readonly model: StoredModel;
  readonly revision: number;
}

export interface ModelWatch {
  /** The latest model (after `ready`). */
  current(): WatchedModel;
  /** Resolves with the first model; a ClusterError after `waitMs` without one. */
  readonly ready: Promise<WatchedModel>;
  stop(): void;
}

export async function watchModel(kv: KV, bucket: string, key: string, server: string, waitMs: number, onError: (error: unknown) => void): Promise<ModelWatch> {
  let latest: WatchedModel | undefined;
  let resolveReady!: (m: WatchedModel) => void;
  const ready = new Promise<WatchedModel>((resolve) => { resolveReady = resolve; });
  const watcher = await kv.watch({ key });
  void (async () => {
    for await (const entry of watcher) {
      if (entry.operation !== 'PUT') continue;
      try {
        const model = await modelFromBytes(entry.value, `bucket ${bucket}, key ${key}, revision ${entry.revision}`);
        if (latest === undefined || entry.revision > latest.revision) latest = { model, revision: entry.revision };
        resolveReady(latest);
      } catch (error) {
        onError(error);
      }
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClusterError(`bucket ${bucket}`,
      `No model under key "${key}" in the KV bucket "${bucket}" on ${server} after ${waitMs} ms: publish one (nmflow model publish MODEL --bucket ${bucket} --key ${key}).`)), waitMs);
  });
  const first = Promise.race([ready, timeout]).finally(() => clearTimeout(timer));
  return {
    current: () => {
      if (!latest) throw new ClusterError(`bucket ${bucket}`, `no model under key "${key}" yet`);
      return latest;
    },
    ready: first,
    stop: () => { watcher.stop(); clearTimeout(timer); },
  };
}
