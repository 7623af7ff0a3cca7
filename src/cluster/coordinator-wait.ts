/**
 * A pass on the broker, the coordinator's side, once its items are out (dispatch.ts): waiting until the prefix of all
 * the units is stored (prefix-chain.ts) — bounded: a worker's report (a refused version, a missing file) fails the
 * fit with its words, and so does a pass on which no block completes for `idleTimeoutMs`; once a second `check`
 * (the dispatch's: blocks of workers that went are given to others). The same wait serves the H parts written at the end.
 */
import { ClusterError } from '../errors.js';
import { getValue, listKeys, type Broker } from './broker.js';
import { decodeJson, sleep, type FitMeta, type WorkerReport } from './protocol.js';
import type { IncomingBlob } from './blobs.js';

export interface WaitOptions {
  readonly idleTimeoutMs: number;
  readonly log: (line: string) => void;
  readonly stopped: () => boolean;
  /** The last key's blob, received as it is written (blobs.ts watchBlob): its arrival ends the wait. */
  readonly arrival?: IncomingBlob;
  /** Once a second, with the keys seen so far. */
  readonly check?: (values: ReadonlyMap<string, string>) => Promise<void>;
}

/**
 * Resolves with the values of the keys `<prefix>.*` once `last` is among them, or `count` keys are (the progress
 * message says of `count`); throws a ClusterError on a worker's report or when no new key appears for the idle timeout.
 */
export async function waitForKeys(broker: Broker, meta: FitMeta, pass: number, prefix: string, last: string | undefined, count: number,
  options: WaitOptions): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  let progressAt = Date.now();
  let loggedAt = Date.now();
  let listedAt = 0;
  let delay = 10;
  try {
    while (!options.stopped()) {
      // the last key (one read) at every turn; the reports and the other keys (a listing: a consumer on the server) once a second
      const lastBytes = last === undefined || values.has(last) ? undefined : await getValue(broker, last);
      if (lastBytes !== undefined) {
        values.set(last!, new TextDecoder().decode(lastBytes));
        return values; // the pass is whole: nothing more to list
      }
      const list = Date.now() - listedAt > 1000;
      if (list) {
        listedAt = Date.now();
        const reports = await listKeys(broker, `${meta.fit}.error.*`);
        if (reports.length > 0) {
          const bytes = await getValue(broker, reports[0]!);
          const report = bytes ? decodeJson<WorkerReport>(bytes) : { worker: reports[0]!, kind: 'internal', message: 'a worker failed' };
          throw new ClusterError(`worker ${report.worker}`, `worker ${report.worker} could not work on fit ${meta.fit}: ${report.message}`);
        }
      }
      const before = values.size;
      for (const key of list ? await listKeys(broker, `${prefix}.*`) : []) {
        if (values.has(key)) continue;
        const bytes = await getValue(broker, key);
        values.set(key, bytes === undefined ? '' : new TextDecoder().decode(bytes));
      }
      if (last === undefined ? values.size >= count : values.has(last)) return values;
      if (list) await options.check?.(values);
      if (values.size > before) { progressAt = Date.now(); delay = 10; }
      if (Date.now() - progressAt > options.idleTimeoutMs) {
        throw new ClusterError(`fit ${meta.fit}`, `no unit of pass ${pass} completed for ${Math.round(options.idleTimeoutMs / 1000)} s (${values.size}/${count} blocks of units done): `
          + `are workers running (nmflow worker --nats ${broker.where})?`);
      }
      if (Date.now() - loggedAt > 10_000) {
        options.log(`nmflow: pass ${pass}: ${values.size}/${count} blocks done, waiting for workers (nmflow worker --nats ${broker.where})`);
        loggedAt = Date.now();
      }
      // woken as soon as the last key's blob has come (the worker writes the key next); polled all the same
      if (last === undefined || options.arrival === undefined) await sleep(delay);
      else if (await options.arrival.wait(delay)) { values.set(last, ''); return values; }
      delay = Math.min(50, delay * 2);
    }
  } finally {
    options.arrival?.stop();
  }
  return values;
}
