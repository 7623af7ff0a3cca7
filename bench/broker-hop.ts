/**
 * `npm run bench:broker-hop`: what one hop of the fit on NATS costs on this machine, from the bottom up — bytes
 * between two Node processes' sockets on loopback, a core NATS message through nats-server, and a blob of the fit
 * (cluster/blobs.ts putBlob → watchBlob: m·k·8 = 1.6 MB, a prefix or W of the 20000-feature rank-10 bench) through
 * JetStream file storage. A pass of the fit with 2 workers has three such hops one after another (W out, the prefix
 * from the first block to the second, the last prefix to the coordinator); with 1 worker, two.
 * Median and 90th percentile of 30 hops each, with the load averages. Writes bench/results/broker-hop-<date>.json.
 *
 *   npm run bench:broker-hop
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { loadavg } from 'node:os';
import { connect } from '@nats-io/transport-node';
import { putBlob, watchBlob } from '../src/cluster/blobs.js';
import { createBroker, fitObjects } from '../src/cluster/broker.js';
import { connectCluster } from '../src/cluster/connect.js';
import { wName } from '../src/cluster/protocol.js';
import { startNatsServer } from '../test/helpers/nats-server.js';

const HOPS = 30;
const quantiles = (xs: number[]): { medianMs: number; p90Ms: number } => {
  const s = [...xs].sort((a, b) => a - b);
  return { medianMs: +s[Math.floor(s.length / 2)]!.toFixed(2), p90Ms: +s[Math.floor(s.length * 0.9)]!.toFixed(2) };
};
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** 1 MB from this process to a child Node process over loopback TCP, until the child has it all (it says so in one byte). */
async function tcpHop(bytes: number): Promise<number[]> {
  const child = spawn('node', ['-e', `
    const s = require('node:net').createServer((c) => { let n = 0; c.on('data', (b) => { n += b.length; if (n >= ${bytes}) { n -= ${bytes}; c.write('k'); } }); });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((r) => child.stdout.once('data', (b: Buffer) => r(Number(b.toString().trim()))));
  const socket = createConnection(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const payload = Buffer.alloc(bytes, 7), times: number[] = [];
  for (let i = 0; i < HOPS; i++) {
    const t0 = performance.now();
    const back = new Promise((r) => socket.once('data', r));
    socket.write(payload);
    await back;
    times.push(performance.now() - t0);
    await pause(20);
  }
  socket.destroy();
  child.kill();
  return times;
}

async function coreHop(url: string, bytes: number): Promise<number[]> {
  const a = await connect({ servers: url }), b = await connect({ servers: url });
  let wake: (() => void) | undefined;
  b.subscribe('hop', { callback: () => wake?.() });
  await b.flush();
  const payload = new Uint8Array(bytes).fill(7), times: number[] = [];
  for (let i = 0; i < HOPS; i++) {
    const came = new Promise<void>((r) => { wake = r; });
    const t0 = performance.now();
    a.publish('hop', payload);
    await came;
    times.push(performance.now() - t0);
    await pause(20);
  }
  await a.close(); await b.close();
  return times;
}

/** putBlob on one connection, watchBlob on another: the time until the watcher has every part, and until the writer has every ack. */
async function blobHop(url: string, bytes: number): Promise<{ received: number[]; acked: number[] }> {
  const nc = await connectCluster({ servers: url }), other = await connectCluster({ servers: url });
  const broker = await createBroker(nc, url, { replicas: 1 });
  const store = fitObjects(broker, 'hop', 1);
  const payload = new Uint8Array(bytes).fill(7), received: number[] = [], acked: number[] = [];
  for (let i = 1; i <= HOPS; i++) {
    const incoming = watchBlob(other, store, wName(i));
    await other.flush();
    const t0 = performance.now();
    const put = putBlob(broker, store, wName(i), payload).then(() => acked.push(performance.now() - t0));
    await incoming.wait(10_000);
    received.push(performance.now() - t0);
    await put;
    await pause(20);
  }
  await nc.close(); await other.close();
  return { received, acked };
}

const loadBefore = loadavg();
const server = await startNatsServer();
try {
  const tcp = quantiles(await tcpHop(1_000_000));
  const core = quantiles(await coreHop(server.url, 1_000_000));
  const blob = await blobHop(server.url, 20000 * 10 * 8);
  const result = {
    date: new Date().toISOString(), hops: HOPS,
    tcpLoopback1MB: tcp, natsCore1MB: core,
    jetStreamBlob1600KB: { received: quantiles(blob.received), acked: quantiles(blob.acked) },
    loadBefore, loadAfter: loadavg(),
  };
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/broker-hop-${result.date.slice(0, 10)}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\nwrote ${file}\n`);
} finally {
  await server.dispose();
}
