/** What the model files (model-file.ts) of every format share: the model read back, feature names, recorded statistics. */
import type { Loss } from '../options/losses.js';
import type { DataFingerprint } from '../chunk/data-fingerprint.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';
import type { RecordedOptions } from '../options/recorded.js';
import { NMFLOW_VERSION } from './nmflow-version.js';

export interface StoredModel {
  readonly loss: Loss;
  readonly rank: number;
  readonly features: number;
  readonly W: Float64Array;
  readonly d: Float64Array;
  readonly featureNames: readonly string[];
  /** Per-iteration history of the fit (Arrow and Parquet files; CSV files do not keep it). */
  readonly trace?: readonly TracePoint[];
  /** Relative loss and completed iterations of the fit, when the file records them. */
  readonly relativeLoss?: number;
  readonly iterations?: number;
  /** The fingerprint of the data the model was fitted to, when the file records it. */
  readonly data?: DataFingerprint;
  /** The version of nmflow that wrote the file (files written before it was recorded: absent). */
  readonly version?: string;
  /** Every option of the fit, resolved (defaults filled in), as JSON values (pipeline/fit.ts `options`). */
  readonly options?: RecordedOptions;
  /** The seed of the fit's random start (also in `options`). */
  readonly seed?: number;
  /** The final relative objective (l1: weighted L1 / ΣA; l2: = relativeLoss), samples fitted and whether tol was reached. */
  readonly objective?: number;
  readonly samples?: number;
  readonly converged?: boolean;
}

/** What every new model file records besides W and d: nmflow's version, the options and the seed (when the snapshot has them). */
export function provenance(model: Snapshot): { version: string; options?: RecordedOptions; seed?: number } {
  const seed = model.options?.seed;
  return { version: NMFLOW_VERSION, ...(model.options ? { options: model.options } : {}), ...(typeof seed === 'number' ? { seed } : {}) };
}

/** The name of feature i written to a model file: its name, else its index. */
export function featureName(s: Snapshot, i: number): string {
  return s.featureNames?.[i] ?? String(i);
}

/** The relative loss and iteration count a model file records, where they parse. */
export function recorded(relativeLoss: string | undefined, iterations: string | undefined): { relativeLoss?: number; iterations?: number } {
  const loss = relativeLoss === undefined ? NaN : Number(relativeLoss);
  const its = iterations === undefined ? NaN : Number(iterations);
  return { ...(Number.isFinite(loss) ? { relativeLoss: loss } : {}), ...(Number.isInteger(its) ? { iterations: its } : {}) };
}
