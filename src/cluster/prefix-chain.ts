/**
 * The pass statistics reduced along a chain of prefixes (the worker's side). A work item is a block of
 * consecutive units [a, b); its worker keeps the units' statistics in memory, waits until the prefix sum of
 * units [0, a) is stored (by the worker of the block before), adds its units to it in unit order
 * (stats-codec.ts makeStatsSum with that seed: the additions of one sum from unit 0, so the same bytes as the
 * in-process pass) and stores the prefix of [0, b). The coordinator reads only the last prefix, [0, U).
 * Through the broker per pass: two prefixes per block (m·k·8 bytes each when the units touch every row)
 * instead of every unit's statistics (U of them) — on the synthetic 10 M matrix 49 units of 1.6 MB.
 * The block's work item is acked only after its prefix is stored: a worker that dies holding a block (solved or
 * not) loses nothing but time — the item is redelivered after ack_wait and solved again (the same bytes).
 */
import { ClusterError } from '../errors.js';
import type { PassStats } from '../model/l2/pass-stats.js';
import { getBlob, putBlob, type FitBlobs } from './blobs.js';
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

/**
 * Waits for the prefix of [0, first) (polled), adds the block's unit statistics (in unit order) and stores the
 * prefix of [0, end) and its key. `cancelled()` ends the wait with a ClusterError (the worker stops, or the fit
 * has another run); so does `maxWaitMs` without the prefix (the coordinator's idle timeout is the bound that fails the fit).
 */
export async function reduceBlock(broker: Broker, store: FitBlobs, block: Block, stats: readonly PassStats[], worker: string,
  cancelled: () => string | undefined, maxWaitMs = 600_000): Promise<void> {
  const { fit, run, pass, first, end, units, m, k } = block;
  let seed: PassStats | undefined;
  if (first > 0) {
    const key = prefixKey(fit, pass, run, first);
    const since = Date.now();
    for (let delay = 5; await getValue(broker, key) === undefined; delay = Math.min(20, delay * 2)) {
      const why = cancelled() ?? (Date.now() - since > maxWaitMs ? `no prefix of units [0, ${first}) for ${Math.round(maxWaitMs / 1000)} s` : undefined);
      if (why !== undefined) throw new ClusterError(`fit ${fit}`, `units [${first}, ${end}) of pass ${pass}: ${why}`);
      await sleep(delay);
    }
    seed = decodeStats(await getBlob(broker, store, prefixName(pass, run, first)), prefixName(pass, run, first));
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

/**
 * Blocks of consecutive units for one pass, largest first (guided self-scheduling): each takes
 * ⌈remaining / (2·workers)⌉ units, at least `least`, so that the last blocks are small (the workers end
 * together) and few (each block is one hop of the chain).
 */
export function blocksOf(units: number, workers: number, least = 2): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < units;) {
    const size = Math.min(units - a, Math.max(least, Math.ceil((units - a) / (2 * Math.max(1, workers)))));
    out.push([a, a + size]);
    a += size;
  }
  return out;
}
