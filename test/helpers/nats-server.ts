/**
 * Private NATS servers for tests: Debian's `nats-server` (installed by .ci/run), JetStream on, file storage in a
 * temporary folder, listening on a free loopback port only. Each test stops the processes it started, by pid.
 * `startCluster(3)` starts three servers joined by routes (for R3 streams); `restart()` keeps the storage.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the binary is, or undefined when it is not installed (tests then say so and skip). */
export function natsServerBinary(): string | undefined {
  for (const p of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) if (existsSync(p)) return p;
  const which = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() || undefined : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open && /Server is ready/.test(log())) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not start on 127.0.0.1:${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface NatsServer {
  /** `nats://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  pid(): number | undefined;
  /** SIGKILL (default) or SIGTERM; resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the same server again on the same port and storage. */
  restart(): Promise<void>;
  /** Stops it and removes its storage. */
  dispose(): Promise<void>;
}

interface ServerSpec { port: number; clusterPort?: number; routes?: number[]; name: string; clusterName?: string }

async function launch(binary: string, spec: ServerSpec, storeDir: string): Promise<{ child: ChildProcess; log: () => string }> {
  const args = ['-a', '127.0.0.1', '-p', String(spec.port), '-js', '-sd', storeDir, '-n', spec.name];
  if (spec.clusterPort !== undefined) {
    args.push('--cluster_name', spec.clusterName ?? 'nmflow-test', '--cluster', `nats://127.0.0.1:${spec.clusterPort}`);
    if (spec.routes && spec.routes.length > 0) args.push('--routes', spec.routes.map((p) => `nats://127.0.0.1:${p}`).join(','));
  }
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const keep = (b: Buffer) => { text = (text + b.toString()).slice(-20_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  await waitForPort(spec.port, child, () => text);
  return { child, log: () => text };
}

function makeServer(binary: string, spec: ServerSpec): NatsServer & { start(): Promise<void> } {
  const storeDir = mkdtempSync(join(tmpdir(), 'nmflow-nats-'));
  let child: ChildProcess | undefined;
  const stop = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => { c.once('exit', () => resolve()); c.kill(signal); });
  };
  const start = async () => { child = (await launch(binary, spec, storeDir)).child; };
  return {
    url: `nats://127.0.0.1:${spec.port}`,
    port: spec.port,
    storeDir,
    pid: () => child?.pid,
    stop,
    start,
    restart: start,
    dispose: async () => { await stop(); rmSync(storeDir, { recursive: true, force: true }); },
  };
}

/** One server with JetStream. Throws when nats-server is not installed. */
export async function startNatsServer(): Promise<NatsServer> {
  const binary = natsServerBinary();
  if (!binary) throw new Error('nats-server is not installed (apt-get install -y nats-server)');
  const server = makeServer(binary, { port: await freePort(), name: `nmflow-${process.pid}-${Date.now()}` });
  await server.start();
  return server;
}

/** `size` servers joined by routes into one JetStream cluster (for replicated streams, R3). */
export async function startNatsCluster(size = 3): Promise<NatsServer[]> {
  const binary = natsServerBinary();
  if (!binary) throw new Error('nats-server is not installed (apt-get install -y nats-server)');
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const servers = ports.map((port, i) => makeServer(binary, {
    port, clusterPort: clusterPorts[i] as number, routes: clusterPorts.filter((_, j) => j !== i), name: `n${i}-${process.pid}`,
  }));
  await Promise.all(servers.map((s) => s.start()));
  return servers;
}
