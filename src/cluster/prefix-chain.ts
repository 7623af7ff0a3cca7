/**
 * The pass statistics reduced along a chain of prefixes (the worker's side). A work item is a block of
 * consecutive units [a, b); the prefix sum of units [0, a) comes from the worker of the block before (received as
 * that worker writes it: it listens for the blob's parts from the moment it has the item, so it usually reads
 * nothing back; from this process's memory when that block was its own). Once the prefix is in hand each unit's
 * statistics are added as the unit is solved (stats-codec.ts makeStatsSum with that seed: the additions of one sum
 * from unit 0, so the same bytes as the in-process pass); the units solved before it came wait in memory. At the
 * end the prefix of [0, b) is stored. The coordinator takes only the last prefix, [0, U).
 * Through the broker per pass: two prefixes per block (m·k·8 bytes each when the units touch every row)
 * instead of every unit's statistics (U of them) — on the synthetic 10 M matrix 49 units of 1.6 MB.
 * The block's work item is acked only after its prefix is stored: a worker that dies holding a block (solved or
 * not) loses nothing but time — the coordinator gives the block to another worker (dispatch.ts), which solves it
 * again (the same bytes).
 */
import { ClusterError } from '../errors.js';
import type { PassStats } from '../model/l2/pass-stats.js';
import { getBlob, putBlob, watchBlob, type FitBlobs } from './blobs.js';
import { getValue, type Broker } from './broker.js';
import { decodeStats, encodeStats, makeStatsSum, type StatsSum } from './stats-codec.js';
import { encodeJson, prefixKey, prefixName, retry } from './protocol.js';

export interface Block {
  readonly fit: string;
  readonly run: string;
  readonly pass: number;
  /** [first, end) of the pass's `units`. */
  readonly first: number;
  readonly end: number;
  readonly units: number;
  readonly m: number;
  readonly k: number;
}

/** The prefix of [0, block.end) is already stored (a duplicate item: dropped). */
export async function prefixStored(broker: Broker, block: Block): Promise<boolean> {
  return await getValue(broker, prefixKey(block.fit, block.pass, block.run, block.end)) !== undefined;
}

/** What the worker of a block gives its part of the chain. */
export interface HopOptions {
  /** Ends the wait with a ClusterError (the worker stops, or the fit has another run). */
  readonly cancelled: () => string | undefined;
  /** Bound of the wait (default 600 s; the coordinator's idle timeout is the bound that fails the fit). */
  readonly maxWaitMs?: number;
}

/** A block's part of the chain, started when its worker takes the item. */
export interface BlockReduction {
  /**
   * The next unit's statistics (in unit order): added now when the prefix before is in hand, else when it comes;
   * `release` is called once they are read (their buffers may be used again).
   */
  add(stats: PassStats, release?: () => void): void;
  /** Every unit added: resolves once `before` (the block's codes being stored) and then the prefix of [0, end) and its key are stored. */
  finish(before?: Promise<unknown>): Promise<void>;
  /** The block is given up (its units failed): the wait for the prefix before ends. */
  abandon(): void;
}

/** Prefixes this process computed, for its own next block (a hop with no broker round trip); those of older passes go. */
interface LocalPrefix { readonly run: string; readonly pass: number; stats?: PassStats; readonly wake: (() => void)[] }
const local = new Map<string, LocalPrefix>();
const localKey = (b: Pick<Block, 'fit' | 'run' | 'pass'>, end: number): string => `${b.fit}/${b.run}/${b.pass}/${end}`;
const localSlot = (b: Pick<Block, 'fit' | 'run' | 'pass'>, end: number): LocalPrefix => {
  const key = localKey(b, end);
  let slot = local.get(key);
  if (slot === undefined) {
    for (const [k, s] of local) if (s.pass < b.pass || s.run !== `${b.fit}/${b.run}`) local.delete(k);
    local.set(key, slot = { run: `${b.fit}/${b.run}`, pass: b.pass, wake: [] });
  }
  return slot;
};

export function startBlock(broker: Broker, store: FitBlobs, block: Block, worker: string, hop: HopOptions): BlockReduction {
  const { fit, run, pass, first, end, units, m, k } = block;
  const { cancelled, maxWaitMs = 600_000 } = hop;
  const waiting: [PassStats, (() => void) | undefined][] = [];
  let added = 0, given = false;
  let sum: StatsSum | undefined = first === 0 ? makeStatsSum(m, k, units) : undefined;
  // a sum from zero keeps its first unit as it is until a second comes (a one-unit result: stats-codec.ts)
  let kept: (() => void) | undefined;
  const addNow = (total: StatsSum, stats: PassStats, release: (() => void) | undefined): void => {
    total.add(stats);
    if (first === 0 && kept === undefined && added === 1) { kept = release ?? (() => undefined); return; }
    release?.();
    kept?.(); kept = undefined;
  };
  const seeded = sum !== undefined ? Promise.resolve() : seed().then((s) => {
    const total = sum = makeStatsSum(m, k, units, s);
    for (const [stats, release] of waiting.splice(0)) addNow(total, stats, release);
  });
  seeded.catch(() => undefined); // (thrown by finish)

  async function seed(): Promise<PassStats> {
    const key = prefixKey(fit, pass, run, first), name = prefixName(pass, run, first);
    const mine = localSlot(block, first);
    const incoming = watchBlob(broker.nc, store, name);
    const since = Date.now();
    try {
      for (let delay = 5; ; delay = Math.min(50, delay * 2)) {
        if (mine.stats !== undefined) return mine.stats;
        const bytes = incoming.bytes();
        if (bytes !== undefined) return decodeStats(bytes, name);
        if (await getValue(broker, key) !== undefined) return decodeStats(incoming.bytes() ?? await getBlob(broker, store, name), name);
        const why = (given ? 'given up' : cancelled()) ?? (Date.now() - since > maxWaitMs ? `no prefix of units [0, ${first}) for ${Math.round(maxWaitMs / 1000)} s` : undefined);
        if (why !== undefined) throw new ClusterError(`fit ${fit}`, `units [${first}, ${end}) of pass ${pass}: ${why}`);
        let wake: (() => void) | undefined;
        const woken = new Promise<void>((r) => { wake = r; mine.wake.push(r); });
        await Promise.race([incoming.wait(delay), woken]);
        mine.wake.splice(mine.wake.indexOf(wake!), 1);
      }
    } finally {
      incoming.stop();
      local.delete(localKey(block, first));
    }
  }

  return {
    add(stats, release) {
      added += 1;
      if (sum !== undefined) addNow(sum, stats, release);
      else waiting.push([stats, release]);
    },
    abandon() { given = true; for (const wake of local.get(localKey(block, first))?.wake ?? []) wake(); },
    async finish(before) {
      await seeded;
      const total = sum!;
      if (total.complete !== (end >= units) || added !== end - first) throw new ClusterError(`fit ${fit}`, `units [${first}, ${end}) of pass ${pass}: ${added} units' statistics`);
      // the whole pass: as mergePassStats gives it (one unit kept as it is); a prefix that others continue: the additions from zero
      const result = total.result(end >= units);
      if (end < units) {
        const slot = localSlot(block, end);
        slot.stats = result;
        for (const wake of slot.wake.splice(0)) wake();
      }
      // a stored prefix says the codes of its units are stored too (a pass's last prefix: all of them)
      await before;
      const bytes = encodeStats(result);
      // (a one-unit prefix this process's next block may still take from memory keeps its buffers: not given back)
      if (end >= units) kept?.();
      kept = undefined;
      await putBlob(broker, store, prefixName(pass, run, end), bytes);
      await retry(`bucket nmflow-fits at ${broker.where}`, `marking the prefix of units [0, ${end})`, async () => {
        await broker.kv.create(prefixKey(fit, pass, run, end), encodeJson(worker)).catch((error: unknown) => {
          if (!/exist|wrong last sequence/i.test((error as Error)?.message ?? '')) throw error;
        });
      }, broker.retryOptions);
    },
  };
}
