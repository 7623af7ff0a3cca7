/**
 * The options of a fit as a model file records them (io/model-file.ts): every row of the options table with its
 * resolved value (defaults filled in), as JSON values. Callbacks are left out; explicit start arrays are recorded
 * as `'explicit'` with their length (`init: { W: 1830, H: … }` numbers), not their values.
 */
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Values } from './row.js';

export type RecordedOptions = Readonly<Record<string, unknown>>;

export function recordedOptions(values: Values): RecordedOptions {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const json = jsonOf(value);
    if (json !== undefined) out[key] = json;
  }
  return out;
}

function jsonOf(value: unknown): unknown {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') return String(value);
  if (ArrayBuffer.isView(value)) return { explicit: (value as unknown as ArrayLike<number>).length };
  if (Array.isArray(value)) {
    if (value.length > 64 && value.every((v) => typeof v === 'number')) return { explicit: value.length };
    return value.map((v) => jsonOf(v) ?? null);
  }
  if (typeof value === 'object' && value !== null) return recordedOptions(value as Values);
  return value;
}

/** What a fit's final snapshot records besides the model (fit.ts and fit-online.ts). */
export interface FinalRecord {
  readonly options: RecordedOptions;
  readonly sampleNames: readonly string[] | undefined;
}

/** The final snapshot's `options` and, when the source names as many samples as were fitted, `sampleNames`. */
export function finalRecord(record: FinalRecord, samples: number): Pick<Snapshot, 'options' | 'sampleNames'> {
  const names = record.sampleNames;
  return { options: record.options, ...(names !== undefined && names.length === samples ? { sampleNames: names } : {}) };
}
