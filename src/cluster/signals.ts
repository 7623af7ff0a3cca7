/**
 * A wake-up call for a key of the fits bucket: a worker that has stored a prefix of the pass statistics
 * (prefix-chain.ts) says so on core NATS, `nmflow.signal.<fit>` with the key as payload, and whoever polls for
 * that key (the worker of the next block, the coordinator waiting for the whole pass) stops waiting at once. Only a
 * shortcut: the key stays the truth and is still polled (a signal is not stored; one sent before its waiter
 * subscribed, or lost in a reconnect, costs a poll interval).
 */
import type { NatsConnection } from '@nats-io/transport-node';

const waiters = new WeakMap<NatsConnection, Map<string, Set<() => void>>>();

const subject = (fit: string): string => `nmflow.signal.${fit}`;

function listen(nc: NatsConnection): Map<string, Set<() => void>> {
  let byKey = waiters.get(nc);
  if (byKey !== undefined) return byKey;
  const map = new Map<string, Set<() => void>>();
  byKey = map;
  waiters.set(nc, map);
  nc.subscribe('nmflow.signal.>', {
    callback: (error, msg) => {
      if (error !== null) return;
      const key = new TextDecoder().decode(msg.data);
      for (const wake of map.get(key) ?? []) wake();
    },
  });
  return byKey;
}

/** Says that `key` of fit `fit` is written (fire and forget). */
export function announce(nc: NatsConnection, fit: string, key: string): void {
  try { nc.publish(subject(fit), new TextEncoder().encode(key)); } catch { /* closed or reconnecting: the key is polled */ }
}

/** Resolves when `key` is announced or after `ms`, whichever comes first. */
export async function keyOrTimeout(nc: NatsConnection, key: string, ms: number): Promise<void> {
  const byKey = listen(nc);
  await new Promise<void>((resolve) => {
    const set = byKey.get(key) ?? new Set<() => void>();
    byKey.set(key, set);
    const done = (): void => {
      clearTimeout(timer);
      set.delete(done);
      if (set.size === 0) byKey.delete(key);
      resolve();
    };
    const timer = setTimeout(done, ms);
    set.add(done);
  });
}
