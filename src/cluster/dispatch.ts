/**
 * Who works on what — the coordinator's side of a fit on NATS (issue #14). Workers say they are alive on core
 * NATS (`nmflow.beat`, every HEARTBEAT_MS: protocol.ts; nothing stored, nothing listed); one not heard of for
 * ack_wait (by this process's clock: no clocks compared across machines) has gone, and so has one that said so. A pass's units are cut into
 * equal blocks (one per worker, more when a block's statistics waiting for the prefix before would pass
 * MAX_BLOCK_BYTES: prefix-chain.ts), and the live workers in id order get runs of consecutive blocks — the prefix
 * chain crosses the broker once per worker — so while the workers stay, every worker gets the same units every pass:
 * its decoded data and its codes stay where they are (no codes through the broker, no file decoded twice). A block
 * whose worker goes before the block's prefix is stored is given to the next live worker (a new msgID); a worker
 * that joins gets blocks from the next pass on.
 */
import { ClusterError } from '../errors.js';
import { dropWorkConsumer, type Broker } from './broker.js';
import { purgeWorkerItems } from './fit-state.js';
import { BEAT_SUBJECT, decodeJson, encodeJson, HEARTBEAT_MS, msgId, retry, sleep, workSubject, type FitMeta, type WorkerBeat, type WorkItem } from './protocol.js';
import type { WaitOptions } from './coordinator-wait.js';

/** A block of units [first, end) given to `worker` (`attempt` > 0: given again, its worker went). */
export interface Assigned {
  readonly first: number;
  readonly end: number;
  worker: string;
  attempt: number;
}

export interface Dispatch {
  /** Waits (bounded by the idle timeout) for a live worker; cuts the units into blocks, gives and publishes them (with `extra`). */
  startPass(pass: number, wait: WaitOptions, extra?: Partial<WorkItem>): Promise<readonly Assigned[]>;
  /** One item per unit (kind 'h'), each to the worker that had the unit last when it is still alive. */
  startParts(pass: number, extra: Partial<WorkItem>, wait: WaitOptions): Promise<readonly Assigned[]>;
  /** About once a second while waiting: the undone items of workers that went go to others. */
  check(isDone: (a: Assigned) => boolean): Promise<void>;
}

/** A block's unit statistics a worker may keep while it waits for the prefix before (m·k·8 bytes per unit at most). */
const MAX_BLOCK_BYTES = 256 * 1024 * 1024;

/** Blocks per pass for `workers` workers: one each, more when the units' statistics of a block would pass MAX_BLOCK_BYTES. */
export function blockCount(units: number, workers: number, m: number, k: number, maxBlockBytes = MAX_BLOCK_BYTES): number {
  const perBlock = Math.max(1, Math.floor(maxBlockBytes / (m * k * 8)));
  return Math.max(workers, Math.ceil(workers * Math.ceil(units / perBlock / workers)));
}

/** The worker (index into `workers`) of block `i` of `count`: runs of consecutive blocks, in id order. */
export const ownerOf = (i: number, count: number, workers: number): number => Math.floor((i * workers) / count);

/** [first, end) of `count` blocks of nearly equal size, in unit order. */
export function equalBlocks(units: number, count: number): [number, number][] {
  const c = Math.max(1, Math.min(units, count));
  return Array.from({ length: c }, (_, i) => [Math.floor((i * units) / c), Math.floor(((i + 1) * units) / c)]);
}

export function makeDispatch(broker: Broker, meta: FitMeta, staleMs: number, log: (line: string) => void = () => undefined, maxBlockBytes = MAX_BLOCK_BYTES): Dispatch {
  // per worker: when this process last heard its heartbeat (a worker that stopped cleanly says so: `gone`)
  const heard = new Map<string, number>();
  const left = new Set<string>();
  // (the subscription ends with the coordinator's connection)
  broker.nc.subscribe(BEAT_SUBJECT, {
    callback: (error, msg) => {
      if (error !== null) return;
      try {
        const beat = decodeJson<WorkerBeat>(msg.data);
        if (beat.gone === true) { heard.delete(beat.worker); left.add(beat.worker); } else heard.set(beat.worker, Date.now());
      } catch { /* not a heartbeat: ignored */ }
    },
  });
  let current: { pass: number; items: Assigned[]; extra: Partial<WorkItem> } | undefined;
  let turn = 0;
  const owner = new Map<number, string>();

  const refresh = async (): Promise<string[]> => {
    const now = Date.now();
    for (const [id, at] of heard) if (now - at > staleMs) { heard.delete(id); left.add(id); log(`nmflow: worker ${id} has not been heard of for ${Math.round(staleMs / 1000)} s; its blocks go to others`); }
    for (const id of left) {
      left.delete(id);
      // a worker that went: its pending items and consumer go
      await purgeWorkerItems(broker, id, meta.fit);
      await dropWorkConsumer(broker, id);
    }
    return [...heard.keys()].sort();
  };

  const someone = async (wait: WaitOptions, what: string): Promise<string[]> => {
    const since = Date.now();
    let said = Date.now();
    for (;;) {
      const workers = await refresh();
      if (workers.length > 0 || wait.stopped()) return workers;
      if (Date.now() - since > wait.idleTimeoutMs) {
        throw new ClusterError(`fit ${meta.fit}`, `no worker for ${what} for ${Math.round(wait.idleTimeoutMs / 1000)} s: are workers running (nmflow worker --nats ${broker.where})?`);
      }
      if (Date.now() - said > 10_000) { wait.log(`nmflow: ${what}: waiting for workers (nmflow worker --nats ${broker.where})`); said = Date.now(); }
      await sleep(100);
    }
  };

  const publish = async (pass: number, a: Assigned, extra: Partial<WorkItem>): Promise<void> => {
    const item: WorkItem = { version: meta.version, fit: meta.fit, ...(meta.run === undefined ? {} : { run: meta.run }), pass, unit: a.first, end: a.end, ...extra };
    await retry(`stream NMFLOW_WORK at ${broker.where}`, `publishing unit ${a.first} of pass ${pass}`, async () => {
      await broker.js.publish(workSubject(a.worker, meta.fit), encodeJson(item), { msgID: `${msgId(meta.fit, meta.run ?? '', pass, a.first, a.attempt)}${extra.kind ?? ''}` });
    }, broker.retryOptions);
  };

  const start = async (pass: number, items: Assigned[], extra: Partial<WorkItem>): Promise<readonly Assigned[]> => {
    current = { pass, items, extra };
    // each worker's items in block order, the workers' side by side
    const byWorker = new Map<string, Assigned[]>();
    for (const a of items) byWorker.set(a.worker, [...(byWorker.get(a.worker) ?? []), a]);
    await Promise.all([...byWorker.values()].map(async (mine) => { for (const a of mine) await publish(pass, a, extra); }));
    return items;
  };

  return {
    async startPass(pass, wait, extra = {}) {
      let workers = await someone(wait, `pass ${pass}`);
      // the first pass of this coordinator: the workers started with it have one beat's time to be heard (a worker
      // heard of later gets its blocks from the next pass, and decodes its files then)
      if (owner.size === 0) {
        await sleep(HEARTBEAT_MS + 100);
        const heard = await refresh();
        if (heard.length > 0) workers = heard;
      }
      const blocks = equalBlocks(meta.units, blockCount(meta.units, workers.length, meta.m, Number(meta.options.rank ?? 1), maxBlockBytes));
      const items = blocks.map(([first, end], i) => ({ first, end, worker: workers[ownerOf(i, blocks.length, workers.length)]!, attempt: 0 }));
      for (const a of items) for (let u = a.first; u < a.end; u++) owner.set(u, a.worker);
      return await start(pass, items, extra);
    },
    async startParts(pass, extra, wait) {
      const workers = await someone(wait, 'the H parts');
      const items = Array.from({ length: meta.units }, (_, u) => {
        const had = owner.get(u);
        return { first: u, end: u + 1, worker: had !== undefined && workers.includes(had) ? had : workers[u % workers.length]!, attempt: 0 };
      });
      return await start(pass, items, extra);
    },
    async check(isDone) {
      const workers = await refresh();
      if (current === undefined || workers.length === 0) return;
      for (const a of current.items) {
        if (workers.includes(a.worker) || isDone(a)) continue;
        a.worker = workers[turn++ % workers.length]!;
        a.attempt += 1;
        for (let u = a.first; u < a.end; u++) owner.set(u, a.worker);
        await publish(current.pass, a, current.extra);
      }
    },
  };
}
