/**
 * The one way nmflow reaches NATS: bounded attempts, loopback or any address the user gives, and a typed
 * ClusterError naming the servers when none answers (the library's message kept as `cause`). Nothing hangs:
 * the connection attempt has a timeout and a fixed number of retries.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ClusterError } from '../errors.js';

export interface ClusterOptions {
  /** One URL or several (`nats://127.0.0.1:4222`), as `--nats` takes them (comma-separated). */
  readonly servers: string | readonly string[];
  /** Connection name shown by the server (`nmflow worker 12345`). */
  readonly name?: string;
  /** Attempts before giving up (default 5) and the timeout of each in ms (default 2000). */
  readonly attempts?: number;
  readonly timeoutMs?: number;
}

/** The servers of `--nats` (comma-separated or a list), trimmed; none is a ClusterError. */
export function serverList(servers: string | readonly string[]): string[] {
  const list = (typeof servers === 'string' ? servers.split(',') : [...servers]).map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0) throw new ClusterError('servers', 'No NATS server given: pass --nats URL (e.g. nats://127.0.0.1:4222).');
  return list;
}

/** Connects, retrying `attempts` times; reconnects forever once connected (a restarted server is picked up). */
export async function connectCluster(options: ClusterOptions): Promise<NatsConnection> {
  const servers = serverList(options.servers);
  const attempts = options.attempts ?? 5;
  let last: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await connect({
        servers,
        name: options.name ?? `nmflow ${process.pid}`,
        timeout: options.timeoutMs ?? 2000,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
  }
  throw new ClusterError(servers.join(','), `Cannot reach the NATS server ${servers.join(', ')} after ${attempts} attempts: is it running, and is the address right?`, last);
}
