/**
 * A worker's side of who is alive (the coordinator's: dispatch.ts): its id and version on core NATS
 * (`nmflow.beat`) every HEARTBEAT_MS, nothing stored — a beat lost in a reconnect is the next one's to make —
 * and a last word when it stops, so that its blocks go to others at once.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { BEAT_SUBJECT, encodeJson, HEARTBEAT_MS, type WorkerBeat } from './protocol.js';

const say = (nc: NatsConnection, beat: WorkerBeat): void => {
  try { nc.publish(BEAT_SUBJECT, encodeJson(beat)); } catch { /* closed: stopping */ }
};

/** Beats until the returned timer is cleared. */
export function startHeartbeat(nc: NatsConnection, worker: string, version: string): ReturnType<typeof setInterval> {
  say(nc, { worker, version });
  return setInterval(() => say(nc, { worker, version }), HEARTBEAT_MS);
}

/** The worker stops: the coordinator need not wait for its heartbeats to be missed. */
export function sayGone(nc: NatsConnection, worker: string, version: string): void {
  say(nc, { worker, version, gone: true });
}
