/**
 * H written by the workers at the end of a fit on NATS (issue #14): one Parquet part per unit,
 * `<dir>/h-<unit, 6 digits>.parquet`, in the table form of `nmflow fit --out-h` (io/model-table.ts: a `sample`
 * column — the sample's global index — and factor_0 … factor_{k−1}); the parts in unit order are the rows of the
 * in-process H, the same bytes. A worker writes the codes it holds of the last pass (or replays them: unit-codes.ts),
 * normalised and ordered as the final snapshot does (model/l2/snapshot.ts: H_raw / hSum, factors sorted by d):
 * the coordinator stores hSum and the order as blob `f/<run>`. Each unit's item goes to the worker that solved it last (dispatch.ts).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ClusterError } from '../errors.js';
import { sortFactors } from '../snapshot/sort-factors.js';
import { waitForKeys, type WaitOptions } from './coordinator-wait.js';
import type { Dispatch } from './dispatch.js';
import { writeFactorsHTable } from '../io/model-table.js';
import { UNIT_SAMPLES } from '../model/l2/units.js';
import { getBlob, putBlob, type FitBlobs } from './blobs.js';
import { putValue, type Broker } from './broker.js';
import { bytesF64, f64Bytes, hName, type FitMeta, type WorkItem } from './protocol.js';

export const hPartPath = (dir: string, unit: number): string => join(dir, `h-${String(unit).padStart(6, '0')}.parquet`);
export const hPartKey = (fit: string, run: string, unit: number): string => `${fit}.hpart.${run}.${unit}`;
const codesKey = (fit: string, run: string, unit: number): string => `${fit}.hcodes.${run}.${unit}`;
const finalName = (run: string): string => `f/${run}`;

/** The coordinator's side: what every part needs (the final hSum and the factors' order). */
export async function storeFinalScale(broker: Broker, store: FitBlobs, run: string, hSum: Float64Array, order: Int32Array): Promise<void> {
  await putBlob(broker, store, finalName(run), f64Bytes(hSum, Float64Array.from(order)));
}

/** Writes unit `item.unit`'s part to `item.dir`; `raw`: the worker's codes of the unit of pass `item.pass` (unit-codes.ts). */
export async function writeHPart(broker: Broker, store: FitBlobs, meta: FitMeta, item: WorkItem & { readonly dir?: string }, raw: Float64Array): Promise<void> {
  const run = item.run ?? '';
  const scale = bytesF64(await getBlob(broker, store, finalName(run)));
  const k = scale.length / 2;
  const first = item.unit * UNIT_SAMPLES, n = Math.min(meta.n - first, UNIT_SAMPLES);
  const out = new Float64Array(k * n);
  for (let a = 0; a < k; a++) {
    const from = scale[k + a]!;
    const inv = scale[from]! > 0 ? 1 / scale[from]! : 0;
    for (let j = 0; j < n; j++) out[a * n + j] = raw[j * k + from]! * inv;
  }
  const path = hPartPath(item.dir ?? '.', item.unit);
  await writeFactorsHTable(path, out, k, n, 'parquet', Array.from({ length: n }, (_, j) => String(first + j)));
  await putValue(broker, hPartKey(item.fit, run, item.unit), new TextEncoder().encode(path));
}

/**
 * The coordinator's side at the end of the fit: hSum and the factors' order of the final snapshot stored, one
 * item per unit published (kind 'h'), and the paths of the parts once every unit's is written, in unit order.
 */
export async function writeHParts(broker: Broker, store: FitBlobs, meta: FitMeta, pass: number, dir: string,
  state: { readonly W: Float64Array; readonly d: Float64Array; readonly hSum: Float64Array; readonly m: number; readonly k: number },
  dispatch: Dispatch, wait: WaitOptions): Promise<string[]> {
  const run = meta.run ?? '';
  await mkdir(dir, { recursive: true });
  const { order } = sortFactors(state.W, state.m, state.k, state.d, undefined, 0);
  await storeFinalScale(broker, store, run, state.hSum, order);
  await dispatch.startParts(pass, { kind: 'h', dir: resolve(dir) }, wait);
  const keys = await waitForKeys(broker, meta, pass, `${meta.fit}.hpart.${run}`, undefined, meta.units,
    { ...wait, check: async (done) => { await dispatch.check((a) => done.has(hPartKey(meta.fit, run, a.first))); } });
  const paths: string[] = [];
  for (let u = 0; u < meta.units; u++) {
    const path = keys.get(hPartKey(meta.fit, run, u));
    if (path === undefined) throw new ClusterError(`fit ${meta.fit}`, `the H part of unit ${u} was not written`);
    paths.push(path);
  }
  return paths;
}

/** A worker's side of kind 'codes': the unit's codes of `item.pass` (`codes`: held by it) stored as h/<pass>/<unit>. */
export async function storeUnitCodes(broker: Broker, store: FitBlobs, item: WorkItem, codes: Float64Array): Promise<void> {
  await putBlob(broker, store, hName(item.pass, item.unit), f64Bytes(codes));
  await putValue(broker, codesKey(item.fit, item.run ?? '', item.unit), new TextEncoder().encode(hName(item.pass, item.unit)));
}

/** The coordinator's side, for H in the final snapshot after a pass whose codes were not stored: every unit's, stored by the workers. */
export async function storeFinalCodes(broker: Broker, meta: FitMeta, pass: number, dispatch: Dispatch, wait: WaitOptions): Promise<void> {
  const run = meta.run ?? '';
  await dispatch.startParts(pass, { kind: 'codes' }, wait);
  await waitForKeys(broker, meta, pass, `${meta.fit}.hcodes.${run}`, undefined, meta.units,
    { ...wait, check: async (done) => { await dispatch.check((a) => done.has(codesKey(meta.fit, run, a.first))); } });
}
