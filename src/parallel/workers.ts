/**
 * What the worker pools share: starting a worker (the compiled module, or — when running from the
 * TypeScript sources — a bootstrap that registers tsx's loader first) and the Atomics barrier on an
 * Int32 control block: GEN (command generation), CMD, DONE (workers finished), ERR.
 * The main thread is worker 0: it posts a command, does its own share, then waits for the others.
 */
import { MessageChannel, Worker, parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { NmfError } from '../errors.js';

export const GEN = 0;
export const CMD = 1;
export const DONE = 2;
export const ERR = 3;

/** No worker finishing anything for this long means one died without a word (a hard crash). */
const STALL_MS = 600_000;

export function startWorker(url: URL, workerData: unknown, transferList: MessagePort[]): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData, transferList });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData, transferList });
}

/**
 * What workers reported failing. A worker posts its error on its own port; the main thread, blocked
 * at the barrier while that message is in flight, reads the ports synchronously (`drain`).
 */
export class Failures {
  readonly messages: string[] = [];
  readonly ports: MessagePort[] = [];
  drain(): string | undefined {
    for (const port of this.ports) {
      for (let got = receiveMessageOnPort(port); got; got = receiveMessageOnPort(port)) this.messages.push(String(got.message));
    }
    return this.messages[0];
  }
  close(): void {
    for (const port of this.ports) port.close();
  }
}

/** Runs `command` on the T − 1 workers and `mainShare` here; returns when all are done. */
export function runOnAll(ctrl: Int32Array, threads: number, command: number, mainShare: () => void, failures: Failures): void {
  Atomics.store(ctrl, DONE, 0);
  Atomics.store(ctrl, CMD, command);
  Atomics.add(ctrl, GEN, 1);
  Atomics.notify(ctrl, GEN);
  mainShare();
  for (;;) {
    const done = Atomics.load(ctrl, DONE);
    if (done >= threads - 1) break;
    if (Atomics.wait(ctrl, DONE, done, STALL_MS) === 'timed-out' && Atomics.load(ctrl, DONE) === done) {
      const failure = failures.drain();
      throw new NmfError('NUMERICAL', `no worker thread finished anything for ${STALL_MS / 1000} s (one may have crashed)${failure ? `: ${failure}` : ''}`);
    }
  }
  if (Atomics.load(ctrl, ERR) !== 0) throw new NmfError('NUMERICAL', `a worker thread failed: ${failures.drain() ?? 'unknown error'}`);
}

/**
 * Starts T − 1 workers on `url` (worker data: `dataFor(t)`'s object plus `errorPort`); resolves
 * `ready` when each has posted {ready: true}.
 */
export function startWorkers(url: URL, threads: number, dataFor: (index: number) => { workerData: object; transferList: MessagePort[] }):
{ workers: Worker[]; failures: Failures; ready: Promise<void> } {
  const workers: Worker[] = [];
  const failures = new Failures();
  const started: Promise<void>[] = [];
  for (let t = 1; t < threads; t++) {
    const { workerData, transferList } = dataFor(t);
    const { port1, port2 } = new MessageChannel();
    failures.ports.push(port1);
    const worker = startWorker(url, { ...workerData, errorPort: port2 }, [...transferList, port2]);
    started.push(new Promise<void>((resolve, reject) => {
      worker.on('message', (message: { ready?: boolean }) => {
        if (message.ready) { worker.unref(); resolve(); }
      });
      worker.on('error', (error) => {
        failures.messages.push(String(error.stack ?? error));
        reject(new NmfError('NUMERICAL', `a worker thread failed to start: ${error.message}`, { cause: error }));
      });
    }));
    workers.push(worker); // ref'ed until it reports ready, so that the process waits for it to start
  }
  return { workers, failures, ready: Promise.all(started).then(() => undefined) };
}

/** Tells the workers to stop (command 0) and terminates them. */
export function stopWorkers(ctrl: Int32Array, workers: Worker[], ports: MessagePort[], failures?: Failures): void {
  failures?.close();
  Atomics.store(ctrl, CMD, 0);
  Atomics.add(ctrl, GEN, 1);
  Atomics.notify(ctrl, GEN);
  for (const worker of workers) void worker.terminate();
  for (const port of ports) port.close();
  workers.length = 0;
}

/**
 * The loop of a worker thread: report ready, then wait for each command, run it, and count it done
 * on the barrier (a thrown error sets ERR and travels to the main thread as a message). Command 0 stops.
 * `afterReady` runs between the report and the first command (a JIT warm-up: a command posted
 * meanwhile waits for it, and the threads that share the work take this one's part).
 */
export function serveCommands(ctrl: Int32Array, handle: (command: number) => void, afterReady?: () => void): void {
  // Fault injection for tests: NMFLOW_WORKER_FAULT=<command code> makes every worker throw on that command.
  const fault = Number(process.env.NMFLOW_WORKER_FAULT ?? -1);
  const errorPort = (workerData as { errorPort?: MessagePort } | null)?.errorPort;
  let generation = Atomics.load(ctrl, GEN);
  parentPort?.postMessage({ ready: true });
  afterReady?.();
  for (;;) {
    // Wait for a new generation. Atomics.wait can return "ok" without one: the main thread's notify
    // for a command this worker already ran (it saw the new GEN before the notify came) wakes it
    // again — running that command twice would double its work and its DONE count. So re-check.
    let current = Atomics.load(ctrl, GEN);
    while (current === generation) {
      Atomics.wait(ctrl, GEN, generation);
      current = Atomics.load(ctrl, GEN);
    }
    generation = current;
    const command = ctrl[CMD]!;
    if (command === 0) break;
    try {
      if (command === fault) throw new Error(`injected fault on command ${command} (NMFLOW_WORKER_FAULT)`);
      handle(command);
    } catch (error) {
      Atomics.store(ctrl, ERR, 1);
      (errorPort ?? parentPort)?.postMessage(String((error as Error)?.stack ?? error));
    }
    Atomics.add(ctrl, DONE, 1);
    Atomics.notify(ctrl, DONE);
  }
}
