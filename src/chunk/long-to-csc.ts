/**
 * Long (coordinate) layout → CSC chunks: one table row per nonzero, (feature, sample, value), rows
 * ordered by sample. A sample may straddle record batches and row groups: its nonzeros are carried
 * over to the next batch, and a chunk is emitted only once a row of a later chunk (or the end) is seen.
 *
 * Per row: sample index ≥ the previous one (else UNSORTED_INPUT), feature index in [0, m) (else
 * INDEX_OUT_OF_RANGE), value finite and ≥ 0 (else INVALID_VALUE); null values and zeros are skipped;
 * a null id is INVALID_VALUE. With `missing` (`missing: 'nan'`) a NaN value is kept and a NULL value becomes NaN:
 * missing entries. Every error names the file, batch / row group, row and table column.
 * Duplicate (feature, sample) rows are summed into one nonzero (chunk-builder.ts, sum-duplicates.ts).
 *
 * With `extend` (unknownFeatures: 'extend') a feature not seen before is a new feature instead of an
 * error: a new string id is appended to the dictionary, an integer id ≥ m raises m to id + 1. Each chunk
 * carries m = the features seen up to its last row (so chunks do not depend on how the input is cut);
 * a later chunk may have a larger m, never a smaller one.
 */
import type { RecordBatch } from 'apache-arrow';
import { columnData, dataError, isValidAt, locate, nullsOf, numberValues, valueError, type BatchWhere } from './arrow-column.js';
import { ChunkBuilder } from './chunk-builder.js';
import type { CscChunk } from './csc-chunk.js';
import { appearanceLookup, fixedLookup, toIndices, type IdLookup } from './id-dictionary.js';
import type { MemoryBudget } from '../memory-limit.js';

export interface LongToCscOptions {
  readonly m: number;
  readonly chunkSize: number;
  /** n when known: sample indices must be below it and trailing empty samples are emitted. */
  readonly samples: number | undefined;
  readonly feature: string;
  readonly sample: string;
  readonly value: string;
  readonly indexBase: number;
  /** Names that string feature ids are looked up in (index = position). */
  readonly featureNames: readonly string[] | undefined;
  /** New feature ids extend the matrix instead of being an error (see the header). */
  readonly extend: boolean;
  /** The consumer's memory budget: checked before the chunks up to a new sample are emitted (memory-limit.ts). */
  readonly budget?: MemoryBudget | undefined;
  /** `missing: 'nan'`: a NaN value is kept (a missing entry) and a NULL value becomes one; else NaN is INVALID_VALUE, NULL no entry. */
  readonly missing?: boolean | undefined;
}

/** One per subscription: holds the partial chunk between batches. */
export class LongToCsc {
  private readonly builder: ChunkBuilder;
  private lastColumn = -1;
  private where: BatchWhere | undefined;
  private readonly featureLookup: IdLookup | null;
  /** With `extend`: the growing dictionary of string feature ids. */
  private readonly growing: ReturnType<typeof appearanceLookup> | null;
  private readonly sampleLookup = appearanceLookup();
  private m: number;

  constructor(private readonly o: LongToCscOptions) {
    this.m = o.m;
    this.builder = new ChunkBuilder(o.m, o.chunkSize);
    this.growing = o.extend ? appearanceLookup(o.featureNames) : null;
    this.featureLookup = this.growing ?? (o.featureNames ? fixedLookup(o.featureNames, o.feature, 'feature', () => this.where!) : null);
  }

  /** m so far (grows with `extend`; the chunks already emitted may have a smaller one). */
  get features(): number {
    return this.m;
  }

  /** The feature names: with `extend` and string ids the live dictionary (it grows as batches are read), else the given names. */
  get featureNames(): readonly string[] | undefined {
    return this.growing && this.growing.ids.length > 0 ? this.growing.ids : this.o.featureNames;
  }

  /** String sample ids in column order (empty when the ids are integers). */
  get sampleIds(): readonly string[] {
    return this.sampleLookup.ids;
  }

  /** Adds one record batch; returns the chunks it completed. */
  push(batch: RecordBatch, where: BatchWhere): CscChunk[] {
    const o = this.o;
    this.where = where;
    const featureData = columnData(batch, o.feature, where);
    const sampleData = columnData(batch, o.sample, where);
    const valueData = columnData(batch, o.value, where);
    const features = toIndices(featureData, o.feature, where, o.indexBase, this.featureLookup);
    const samples = toIndices(sampleData, o.sample, where, o.indexBase, this.sampleLookup);
    const values = numberValues(valueData, o.value, where);
    const featureNulls = nullsOf(featureData);
    const sampleNulls = nullsOf(sampleData);
    const valueNulls = nullsOf(valueData);
    const b = this.builder;
    let m = this.m;
    const limit = o.samples ?? 2 ** 31 - 1;
    const out: CscChunk[] = [];
    let last = this.lastColumn;
    let chunkEnd = b.colEnd;
    let runStart = 0;
    const n = batch.numRows;
    for (let r = 0; r < n; r++) {
      const j = samples[r]!;
      if (sampleNulls && !isValidAt(sampleNulls, sampleData.offset + r)) {
        throw dataError('INVALID_VALUE', 'null sample id', where, r, o.sample);
      }
      if (j !== last) {
        b.appendRun(features, runStart, values, runStart, r - runStart);
        runStart = r;
        if (j < last) {
          throw dataError('UNSORTED_INPUT', `sample ${j} comes after sample ${last}: the long layout needs rows ordered by sample`,
            where, r, o.sample, { sample: j });
        }
        if (j >= limit) {
          throw dataError('INDEX_OUT_OF_RANGE', `sample index ${j} is outside [0, ${limit}) (option \`samples\`)`, where, r, o.sample, { sample: j });
        }
        if (j >= chunkEnd) o.budget?.check(m, j + 1, locate(where, r, o.sample, { sample: j }));
        while (j >= chunkEnd) { out.push(b.finish(o.chunkSize)); chunkEnd = b.colEnd; }
        b.startColumn(j - b.colStart);
        last = j;
      }
      const i = features[r]!;
      if (i < 0 || i >= m || (featureNulls && !isValidAt(featureNulls, featureData.offset + r))) {
        if (featureNulls && !isValidAt(featureNulls, featureData.offset + r)) {
          throw dataError('INVALID_VALUE', 'null feature id', where, r, o.feature, { sample: j });
        }
        if (!o.extend || i < 0) {
          throw dataError('INDEX_OUT_OF_RANGE', `feature index ${i} is outside [0, ${m})`, where, r, o.feature, { feature: i, sample: j });
        }
        // A new feature: the current chunk (the one holding sample j) and every later one have it.
        o.budget?.check(i + 1, j + 1, locate(where, r, o.feature, { feature: i, sample: j }));
        m = i + 1;
        b.m = m;
      }
      const v = values[r]!;
      const isNull = valueNulls !== null && !isValidAt(valueNulls, valueData.offset + r);
      if (v === 0 || isNull) {
        b.appendRun(features, runStart, values, runStart, r - runStart);
        runStart = r + 1;
        if (isNull && o.missing) b.append(i, Number.NaN); // a NULL value: a missing entry
        continue;
      }
      if ((!(v > 0) || v === Infinity) && !(o.missing && v !== v)) throw valueError(v, where, r, o.value, { feature: i, sample: j });
    }
    b.appendRun(features, runStart, values, runStart, n - runStart);
    this.lastColumn = last;
    this.m = m;
    return out;
  }

  /** End of input: the last chunk, then empty chunks up to `samples` when it was given. */
  finish(): CscChunk[] {
    const n = this.o.samples ?? this.lastColumn + 1;
    return this.builder.finishAll(n);
  }
}
