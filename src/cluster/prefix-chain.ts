/**
 * The pass statistics reduced along a chain of prefixes (the worker's side). A work item is a block of
 * consecutive units [a, b); its worker keeps the units' statistics in memory, waits until the prefix sum of
 * units [0, a) is stored (by the worker of the block before; it listens for the blob's parts from the moment it has
 * the item, so it usually has them as they are written and reads nothing back), adds its units to it in unit order
 * (stats-codec.ts makeStatsSum with that seed: the additions of one sum from unit 0, so the same bytes as the
 * in-process pass) and stores the prefix of [0, b). The coordinator takes only the last prefix, [0, U).
 * Through the broker per pass: two prefixes per block (m·k·8 bytes each when the units touch every row)
 * instead of every unit's statistics (U of them) — on the synthetic 10 M matrix 49 units of 1.6 MB.
 * The block's work item is acked only after its prefix is stored: a worker that dies holding a block (solved or
 * not) loses nothing but time — the coordinator gives the block to another worker (dispatch.ts), which solves it
 * again (the same bytes).
 */
import { ClusterError } from '../errors.js';
import type { PassStats } from '../model/l2/pass-stats.js';
import { getBlob, putBlob, type FitBlobs, type IncomingBlob } from './blobs.js';
import { getValue, type Broker } from './broker.js';
import { decodeStats, encodeStats, makeStatsSum } from './stats-codec.js';
import { encodeJson, prefixKey, prefixName, retry, sleep } from './protocol.js';

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

/** What the worker of a block gives its hop of the chain. */
export interface HopOptions {
  /** Ends the wait with a ClusterError (the worker stops, or the fit has another run). */
  readonly cancelled: () => string | undefined;
  /** Called once the prefix before is stored (the rest is the chain's next hop: worker.ts lets it run before its next unit). */
  readonly ready?: () => void;
  /** The prefix before as it is written (blobs.ts watchBlob): the hop starts without reading it back. */
  readonly incoming?: IncomingBlob;
  /** Bound of the wait (default 600 s; the coordinator's idle timeout is the bound that fails the fit). */
  readonly maxWaitMs?: number;
}

/**
 * Waits for the prefix of [0, first) (received as it is written, else polled), adds the block's unit statistics
 * (in unit order) and stores the prefix of [0, end) and its key.
 */
export async function reduceBlock(broker: Broker, store: FitBlobs, block: Block, stats: readonly PassStats[], worker: string, hop: HopOptions): Promise<void> {
  const { fit, run, pass, first, end, units, m, k } = block;
  const { cancelled, ready = () => undefined, incoming, maxWaitMs = 600_000 } = hop;
  let seed: PassStats | undefined;
  if (first === 0) ready();
  else {
    const key = prefixKey(fit, pass, run, first), name = prefixName(pass, run, first);
    const since = Date.now();
    for (let delay = 5; incoming?.bytes() === undefined && await getValue(broker, key) === undefined; delay = Math.min(50, delay * 2)) {
      const why = cancelled() ?? (Date.now() - since > maxWaitMs ? `no prefix of units [0, ${first}) for ${Math.round(maxWaitMs / 1000)} s` : undefined);
      if (why !== undefined) throw new ClusterError(`fit ${fit}`, `units [${first}, ${end}) of pass ${pass}: ${why}`);
      if (incoming === undefined) await sleep(delay);
      else await incoming.wait(delay);
    }
    ready();
    seed = decodeStats(incoming?.bytes() ?? await getBlob(broker, store, name), name);
  }
  const sum = makeStatsSum(m, k, units, seed);
  for (const s of stats) sum.add(s);
  if (sum.complete !== (end >= units) || stats.length !== end - first) throw new ClusterError(`fit ${fit}`, `units [${first}, ${end}) of pass ${pass}: ${stats.length} units' statistics`);
  // the whole pass: as mergePassStats gives it (one unit kept as it is); a prefix that others continue: the additions from zero
  await putBlob(broker, store, prefixName(pass, run, end), encodeStats(sum.result(end >= units)));
  await retry(`bucket nmflow-fits at ${broker.where}`, `marking the prefix of units [0, ${end})`, async () => {
    await broker.kv.create(prefixKey(fit, pass, run, end), encodeJson(worker)).catch((error: unknown) => {
      if (!/exist|wrong last sequence/i.test((error as Error)?.message ?? '')) throw error;
    });
  }, broker.retryOptions);
}
