/**
 * cluster/dispatch.ts against a real nats-server, with heartbeats sent by the test (no worker processes): the
 * blocks of a pass go round robin to the workers heard of, the same units to the same worker every pass; a
 * worker that says it stops, or is not heard of for ack_wait, has its pending items removed and its undone
 * blocks given to another worker under a new msgID; a worker heard of mid-fit gets blocks from the next pass on.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { equalBlocks, makeDispatch, type Assigned } from '../src/cluster/dispatch.js';
import { BEAT_SUBJECT, encodeJson, WORK_STREAM, workSubject, type FitMeta, type WorkerBeat } from '../src/cluster/protocol.js';
import { natsServerBinary } from './helpers/nats-server.js';
import { useBroker } from './helpers/nats-broker.js';

const haveNats = natsServerBinary() !== undefined;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!haveNats)('cluster/dispatch.ts: who works on what', () => {
  const nats = useBroker();

  /** Beats for `workers` every 100 ms until stopped (each one alone: `stop(id)`). */
  const beating = (workers: string[]): { stop(id?: string): void; gone(id: string): void; add(id: string): void } => {
    const alive = new Set(workers);
    const timer = setInterval(() => { for (const worker of alive) nats.nc.publish(BEAT_SUBJECT, encodeJson({ worker, version: 'v' } satisfies WorkerBeat)); }, 100);
    return {
      stop: (id) => { if (id === undefined) { clearInterval(timer); alive.clear(); } else alive.delete(id); },
      gone: (id) => { alive.delete(id); nats.nc.publish(BEAT_SUBJECT, encodeJson({ worker: id, version: 'v', gone: true } satisfies WorkerBeat)); },
      add: (id) => { alive.add(id); },
    };
  };
  const pending = async (worker: string, fit: string): Promise<number> => {
    const info = await (await jetstreamManager(nats.nc)).streams.info(WORK_STREAM, { subjects_filter: workSubject(worker, fit) });
    return Object.values(info.state.subjects ?? {}).reduce((s, n) => s + n, 0);
  };
  const wait = { idleTimeoutMs: 10_000, log: () => undefined, stopped: () => false };
  const metaOf = (fit: string, units: number): FitMeta => ({ version: 'v', fit, run: 'r1', files: [], layout: {}, m: 5, n: units * 4096, units, options: {}, exponent: 0 });
  /** Beats for `workers`, a dispatch of fit `fit` (its log kept) and its first pass, given to `body`; the beats stop after it. */
  const passOne = async (workers: string[], fit: string, units: number, staleMs: number,
    body: (run: { beats: ReturnType<typeof beating>; dispatch: ReturnType<typeof makeDispatch>; blocks: readonly Assigned[]; logged: string[] }) => Promise<void>): Promise<void> => {
    const beats = beating(workers);
    try {
      const logged: string[] = [];
      // blocks of at most 3 units (m·k·8 = 40 bytes per unit): several blocks per worker
      const dispatch = makeDispatch(nats.broker, metaOf(fit, units), staleMs, (line) => logged.push(line), 120);
      await body({ beats, dispatch, blocks: await dispatch.startPass(1, wait), logged });
    } finally {
      beats.stop();
    }
  };

  it('gives the same blocks to the same workers every pass, runs of consecutive blocks in id order', async () => {
    await passOne(['w-b', 'w-a'], 'fitsame', 10, 2000, async ({ dispatch, blocks: one }) => {
      const two = await dispatch.startPass(2, wait);
      expect(one.map((a) => [a.first, a.end])).toEqual(equalBlocks(10, 4));
      expect(one.map((a) => a.worker)).toEqual(['w-a', 'w-a', 'w-b', 'w-b']);
      expect(two.map((a) => [a.first, a.end, a.worker])).toEqual(one.map((a) => [a.first, a.end, a.worker]));
      expect(await pending('w-a', 'fitsame')).toBe(4);
      expect(await pending('w-b', 'fitsame')).toBe(4);
    });
  }, 30_000);

  it('a worker that says it stops: its pending items go, its undone blocks go to another worker (new msgID); done ones stay', async () => {
    await passOne(['w-a', 'w-b'], 'fitgone', 8, 60_000, async ({ beats, dispatch, blocks, logged }) => {
      expect(blocks.map((a) => a.worker)).toEqual(['w-a', 'w-a', 'w-b', 'w-b']);
      beats.gone('w-b');
      await sleep(300);
      // block [4, 6) (w-b's first) is done; [6, 8) is not
      await dispatch.check((a) => a.first === 4);
      expect(blocks.map((a) => [a.first, a.worker, a.attempt])).toEqual([[0, 'w-a', 0], [2, 'w-a', 0], [4, 'w-b', 0], [6, 'w-a', 1]]);
      expect(await pending('w-b', 'fitgone')).toBe(0);
      expect(await pending('w-a', 'fitgone')).toBe(3);
      // the next pass: w-a alone (blocks of at most 3 units)
      expect((await dispatch.startPass(2, wait)).map((a) => [a.first, a.end, a.worker])).toEqual([[0, 2, 'w-a'], [2, 5, 'w-a'], [5, 8, 'w-a']]);
      expect(logged).toEqual([]); // it said so: not "not heard of"
    });
  }, 30_000);

  it('a worker not heard of for ack_wait is gone (said in the log); one heard of mid-fit gets blocks from the next pass', async () => {
    await passOne(['w-a', 'w-b'], 'fitstale', 4, 1500, async ({ beats, dispatch, blocks, logged }) => {
      expect(blocks.map((a) => a.worker)).toEqual(['w-a', 'w-b']);
      beats.stop('w-a'); // killed: no word
      beats.add('w-c');
      await sleep(2600);
      await dispatch.check(() => false);
      expect(logged.join('\n')).toMatch(/worker w-a has not been heard of for 2 s; its blocks go to others/);
      expect(blocks.every((a) => a.worker !== 'w-a')).toBe(true);
      expect(blocks.filter((a) => a.attempt === 1).map((a) => a.first)).toEqual([0]);
      expect(await pending('w-a', 'fitstale')).toBe(0);
      expect((await dispatch.startPass(2, wait)).map((a) => a.worker)).toEqual(['w-b', 'w-c']);
    });
  }, 30_000);

  it('no worker heard of: the pass waits, then fails naming the server, after the idle timeout', async () => {
    const dispatch = makeDispatch(nats.broker, metaOf('fitnone', 2), 1000);
    await expect(dispatch.startPass(1, { ...wait, idleTimeoutMs: 800 })).rejects.toThrow(/no worker for pass 1 for 1 s: are workers running \(nmflow worker --nats /);
  }, 30_000);
});
