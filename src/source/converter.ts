/**
 * The layout converter of one pass (long / wide / list → CSC chunks), made from the resolved layout and what is
 * known of the matrix. Used by batch-source.ts on the main thread and by the Parquet decoder's worker
 * (convert-thread.ts), which converts off the main thread: this module imports no RxJS and nothing of the worker.
 */
import type { RecordBatch } from 'apache-arrow';
import type { BatchWhere } from '../chunk/arrow-column.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { ListToCsc } from '../chunk/list-to-csc.js';
import { LongToCsc } from '../chunk/long-to-csc.js';
import { WideToCsc } from '../chunk/wide-to-csc.js';
import type { MemoryBudget } from '../memory-limit.js';
import type { ResolvedLayout } from './layout.js';

export interface Converter { push(batch: RecordBatch, where: BatchWhere): CscChunk[]; finish(): CscChunk[] }

/** What is known of the matrix before reading (batch-source.ts SourceInfo). */
export interface ConverterInfo {
  readonly features: number | undefined;
  /** n when known before reading. */
  readonly samples: number | undefined;
  readonly featureNames: readonly string[] | undefined;
  readonly columns: readonly string[] | undefined;
}

/** `oneShot`: the input is read once, so a long layout with unknownFeatures 'extend' grows while it is read. */
export function makeConverter(layout: ResolvedLayout, info: ConverterInfo, oneShot = false, budget?: MemoryBudget): Converter | undefined {
  const { chunkSize, samples, indexBase, missing } = layout;
  if (layout.layout === 'wide') return info.columns ? new WideToCsc({ chunkSize, samples, columns: info.columns, missing }) : undefined;
  const m = info.features!;
  if (layout.layout === 'long') {
    return new LongToCsc({ m, chunkSize, samples, indexBase, feature: layout.feature, sample: layout.sample, value: layout.value,
      featureNames: info.featureNames, extend: layout.extend && oneShot, budget, missing });
  }
  return new ListToCsc({ m, chunkSize, samples, indexBase, indices: layout.indices, values: layout.values, entries: layout.entries, missing });
}
