/**
 * What the worker pools share: starting a worker (the compiled module, or — when running from the
 * TypeScript sources — a bootstrap that registers tsx's loader first) and the Atomics barrier on an
 * Int32 control block: GEN (command generation), CMD, DONE (workers finished), ERR.
 * The main thread is worker 0: it posts a command, does its own share, then waits for the others.
 */
import { Worker, parentPort, type MessagePort } from 'node:worker_threads';
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

/** Runs `command` on the T − 1 workers and `mainShare` here; returns when all are done. */
export function runOnAll(ctrl: Int32Array, threads: number, command: number, mainShare: () => void, failures: readonly string[]): void {
  Atomics.store(ctrl, DONE, 0);
  Atomics.store(ctrl, CMD, command);
  Atomics.add(ctrl, GEN, 1);
  Atomics.notify(ctrl, GEN);
  mainShare();
  for (;;) {
    const done = Atomics.load(ctrl, DONE);
    if (done >= threads - 1) break;
    if (Atomics.wait(ctrl, DONE, done, STALL_MS) === 'timed-out' && Atomics.load(ctrl, DONE) === done) {
      throw new NmfError('NUMERICAL', `no worker thread finished anything for ${STALL_MS / 1000} s (one may have crashed)${failures.length ? `: ${failures[0]}` : ''}`);
    }
  }
  if (Atomics.load(ctrl, ERR) !== 0) throw new NmfError('NUMERICAL', `a worker thread failed: ${failures[0] ?? 'unknown error'}`);
}

/** Starts T − 1 workers on `url`; resolves `ready` when each has posted {ready: true}. */
export function startWorkers(url: URL, threads: number, dataFor: (index: number) => { workerData: unknown; transferList: MessagePort[] }):
{ workers: Worker[]; failures: string[]; ready: Promise<void> } {
  const workers: Worker[] = [];
  const failures: string[] = [];
  const started: Promise<void>[] = [];
  for (let t = 1; t < threads; t++) {
    const { workerData, transferList } = dataFor(t);
    const worker = startWorker(url, workerData, transferList);
    started.push(new Promise<void>((resolve, reject) => {
      worker.on('message', (message: { error?: string; ready?: boolean }) => {
        if (message.ready) { worker.unref(); resolve(); }
        if (message.error) failures.push(message.error);
      });
      worker.on('error', (error) => {
        failures.push(String(error.stack ?? error));
        reject(new NmfError('NUMERICAL', `a worker thread failed to start: ${error.message}`, { cause: error }));
      });
    }));
    workers.push(worker); // ref'ed until it reports ready, so that the process waits for it to start
  }
  return { workers, failures, ready: Promise.all(started).then(() => undefined) };
}

/** Tells the workers to stop (command 0) and terminates them. */
export function stopWorkers(ctrl: Int32Array, workers: Worker[], ports: MessagePort[]): void {
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
 */
export function serveCommands(ctrl: Int32Array, handle: (command: number) => void): void {
  let generation = Atomics.load(ctrl, GEN);
  parentPort?.postMessage({ ready: true });
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
      handle(command);
    } catch (error) {
      Atomics.store(ctrl, ERR, 1);
      parentPort?.postMessage({ error: String((error as Error)?.stack ?? error) });
    }
    Atomics.add(ctrl, DONE, 1);
    Atomics.notify(ctrl, DONE);
  }
}
