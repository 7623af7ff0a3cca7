/**
 * The coordinator's durable state (protocol.ts): its engine state after a pass as one blob, the pass it has
 * completed with the trace so far (`<fit>.state`), and the clean-up of a fit's objects.
 */
import type { EngineState } from '../model/engine.js';
import { listKeys, type Broker } from './broker.js';
export type { CompletedPasses } from './protocol.js';
import { bytesF64, decodeJson, encodeJson, retry, WORK_STREAM, workSubject } from './protocol.js';
import { dropBlobs, type FitBlobs } from './blobs.js';
import { jetstreamManager } from '@nats-io/jetstream';


/** An EngineState as bytes: a JSON header (numbers, array lengths) then the arrays' Float64 bytes. */
export function encodeEngineState(state: EngineState): Uint8Array {
  const names = Object.keys(state.arrays);
  const header = encodeJson({ loss: state.loss, numbers: state.numbers, arrays: names.map((n) => [n, state.arrays[n]!.length]) });
  const total = names.reduce((s, n) => s + state.arrays[n]!.length, 0);
  const pad = (8 - ((4 + header.length) % 8)) % 8;
  const out = new Uint8Array(4 + header.length + pad + total * 8);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  let at = 4 + header.length + pad;
  for (const n of names) {
    const a = state.arrays[n]!;
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  return out;
}

export function decodeEngineState(bytes: Uint8Array): EngineState {
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const header = decodeJson<{ loss: 'l1' | 'l2'; numbers: Record<string, number>; arrays: [string, number][] }>(bytes.subarray(4, 4 + length));
  let at = 4 + length + ((8 - ((4 + length) % 8)) % 8);
  const arrays: Record<string, Float64Array> = {};
  for (const [name, n] of header.arrays) {
    arrays[name] = bytesF64(bytes.subarray(at, at + n * 8));
    at += n * 8;
  }
  return { loss: header.loss, numbers: header.numbers, arrays };
}

/** The end of a fit (done or failed): its blobs, its keys and its pending work items go. */
export async function dropFit(broker: Broker, store: FitBlobs | undefined, fit: string): Promise<void> {
  await purgeWork(broker, fit);
  for (const key of await listKeys(broker, `${fit}.>`)) {
    await retry(`key ${key} at ${broker.where}`, `removing ${key}`, async () => { await broker.kv.purge(key); }, broker.retryOptions);
  }
  if (store) await dropBlobs(broker, store, '>');
}

/** The fit's pending work items, every worker's (a failed fit: the workers stop taking them). */
export async function purgeWork(broker: Broker, fit: string): Promise<void> {
  await purgeWorkerItems(broker, '*', fit);
}

/** The fit's items addressed to `worker` ('*': to any) that are not taken yet. */
export async function purgeWorkerItems(broker: Broker, worker: string, fit: string): Promise<void> {
  await retry(`stream ${WORK_STREAM} at ${broker.where}`, 'removing the fit\'s work items', async () => {
    await (await jetstreamManager(broker.nc, { timeout: 5000 })).streams.purge(WORK_STREAM, { filter: workSubject(worker, fit) });
  }, broker.retryOptions);
}

/** Reports of workers from an earlier run of this fit (a resumed coordinator starts without them). */
export async function clearReports(broker: Broker, fit: string): Promise<void> {
  for (const key of await listKeys(broker, `${fit}.error.*`)) {
    await retry(`key ${key} at ${broker.where}`, `removing ${key}`, async () => { await broker.kv.purge(key); }, broker.retryOptions);
  }
}
