/**
 * A pass on the broker, the coordinator's side: one work item per unit not yet done (msgID pass/unit, so a
 * re-published item is dropped), then waiting until every unit's result is stored — bounded: a worker's
 * report (a refused version, a missing file) fails the fit with its words, and so does a pass on which no
 * unit completes for `idleTimeoutMs`.
 */
import { ClusterError } from '../errors.js';
import { getValue, listKeys, type Broker } from './broker.js';
import { decodeJson, encodeJson, msgId, retry, sleep, workSubject, type FitMeta, type WorkerReport, type WorkItem } from './protocol.js';

export async function publishPass(broker: Broker, meta: FitMeta, pass: number): Promise<void> {
  const done = new Set(await listKeys(broker, `${meta.fit}.done.${pass}.*`));
  for (let unit = 0; unit < meta.units; unit++) {
    if (done.has(`${meta.fit}.done.${pass}.${unit}`)) continue;
    const item: WorkItem = { version: meta.version, fit: meta.fit, ...(meta.run === undefined ? {} : { run: meta.run }), pass, unit };
    await retry(`stream NMFLOW_WORK at ${broker.where}`, `publishing unit ${unit} of pass ${pass}`, async () => {
      await broker.js.publish(workSubject(meta.fit), encodeJson(item), { msgID: msgId(meta.fit, meta.run ?? '', pass, unit) });
    }, broker.retryOptions);
  }
}

export interface WaitOptions {
  readonly idleTimeoutMs: number;
  readonly log: (line: string) => void;
  readonly stopped: () => boolean;
}

/**
 * Resolves when every unit of `pass` is done and given to `absorb` (each once, as it completes: the merge runs
 * while the workers work); throws a ClusterError on a worker's report or after the idle timeout.
 */
export async function waitForUnits(broker: Broker, meta: FitMeta, pass: number, options: WaitOptions,
  absorb: (unit: number) => Promise<void>): Promise<void> {
  const absorbed = new Set<number>();
  let done = 0;
  let progressAt = Date.now();
  let loggedAt = Date.now();
  let delay = 20;
  while (!options.stopped()) {
    const reports = await listKeys(broker, `${meta.fit}.error.*`);
    if (reports.length > 0) {
      const bytes = await getValue(broker, reports[0]!);
      const report = bytes ? decodeJson<WorkerReport>(bytes) : { worker: reports[0]!, kind: 'internal', message: 'a worker failed' };
      throw new ClusterError(`worker ${report.worker}`, `worker ${report.worker} could not work on fit ${meta.fit}: ${report.message}`);
    }
    const keys = await listKeys(broker, `${meta.fit}.done.${pass}.*`);
    const fresh = [...new Set(keys.map((key) => Number(key.slice(key.lastIndexOf('.') + 1))))].filter((u) => !absorbed.has(u)).sort((a, b) => a - b);
    for (const unit of fresh) { absorbed.add(unit); await absorb(unit); }
    const now = absorbed.size;
    if (now >= meta.units) return;
    if (now > done) { done = now; progressAt = Date.now(); delay = 20; }
    if (Date.now() - progressAt > options.idleTimeoutMs) {
      throw new ClusterError(`fit ${meta.fit}`, `no unit of pass ${pass} completed for ${Math.round(options.idleTimeoutMs / 1000)} s (${done}/${meta.units} done): `
        + `are workers running (nmflow worker --nats ${broker.where})?`);
    }
    if (Date.now() - loggedAt > 10_000) {
      options.log(`nmflow: pass ${pass}: ${done}/${meta.units} units done, waiting for workers (nmflow worker --nats ${broker.where})`);
      loggedAt = Date.now();
    }
    await sleep(delay);
    delay = Math.min(100, delay * 2);
  }
}
