/**
 * The identity of a re-readable source's data, checked on every pass of a fit (issue #13, "Data
 * identity"). One pass sums, column by column in the stream's order, the nonzeros, Σa, ‖A‖² = Σa²,
 * Σ(i+1)·a (where the values sit among the features) and Σ(j+1)·a (among the samples). The running
 * totals after every chunk are kept as marks, keyed by the chunk's end column: a later pass (or a fit
 * resumed from a checkpoint that stored them) compares its own totals at every end column the two share,
 * exactly — the same values added in the same order give the same bits, whatever the chunking — and fails
 * at the first chunk that differs with DATA_CHANGED, naming the pass, the samples and the quantity.
 * "nonzeros" counts the entries the chunks store (as Snapshot.nnz does); explicit zeros add nothing to the sums.
 * A missing entry (NaN, `missing: 'nan'` or a mask source) adds nothing to Σa and ‖A‖², and −(i+1), −(j+1) to the
 * moments (`withMissing`): the totals stay finite, and a checkpoint of a masked fit keeps them.
 * O(nnz) per pass, about 1.4 ns per nonzero (figures in the README's "Data identity"), no RxJS
 * (source/watch-data.ts runs it over a pass's chunks).
 */
import { DataError } from '../errors.js';
import { checkChunk } from './check-chunk.js';
import type { CscChunk } from './csc-chunk.js';

/** Totals of one full pass over the data. */
export interface DataFingerprint {
  readonly features: number;
  readonly samples: number;
  readonly nonzeros: number;
  readonly sum: number;
  readonly sumSquares: number;
  readonly featureMoment: number;
  readonly sampleMoment: number;
}

/** What a checkpoint keeps: the marks so far (MARK numbers each) and whether they cover a whole pass. */
export interface FingerprintRecord {
  readonly features: number;
  readonly complete: boolean;
  readonly marks: Float64Array;
}

/** A mark: end column, then the running totals in this order. */
export const MARK = 6;
const QUANTITIES = ['nonzeros', 'sum of the values', 'sum of the squared values (‖A‖²)',
  'feature-weighted sum Σ(i+1)·a (which features hold the values)', 'sample-weighted sum Σ(j+1)·a (which samples hold the values)'] as const;

/** The state of one fit's watch over its passes (made per subscription). */
export interface DataWatch {
  readonly source: string;
  /** Passes begun in this run (1-based once the first has begun). */
  pass: number;
  features: number | undefined;
  marks: number[];
  complete: boolean;
  /** Where the marks came from, for messages: 'pass 1', or the checkpoint's directory. */
  origin: string;
  fromCheckpoint: boolean;
  totals: Float64Array;
  cursor: number;
  chunk: number;
}

export function makeDataWatch(source: string): DataWatch {
  return { source, pass: 0, features: undefined, marks: [], complete: false, origin: 'pass 1', fromCheckpoint: false, totals: new Float64Array(MARK), cursor: 0, chunk: 0 };
}

/** Resuming: the marks a checkpoint stored become the reference of this run's passes. */
export function adoptRecord(watch: DataWatch, record: FingerprintRecord, checkpointDir: string): void {
  watch.features = record.features;
  watch.marks = Array.from(record.marks);
  watch.complete = record.complete;
  watch.origin = `the run that wrote the checkpoint in ${checkpointDir}`;
  watch.fromCheckpoint = true;
}

export function beginDataPass(watch: DataWatch): void {
  watch.pass += 1;
  watch.totals.fill(0);
  watch.cursor = 0;
  watch.chunk = 0;
}

/** Adds the chunk to the pass's totals and compares them with the reference at the chunk's end column. */
export function watchChunk(watch: DataWatch, chunk: CscChunk): void {
  const { n, colPtr, rowIdx, values, colStart } = chunk;
  const t = watch.totals;
  watch.features ??= chunk.m;
  // Within the recording pass a change of features is the driver's SHAPE_MISMATCH; against a complete reference, other data.
  if (chunk.m !== watch.features && watch.complete) throw changed(watch, chunk, `the chunk has ${chunk.m} features where ${watch.origin} had ${watch.features}`);
  let sum = t[2]!, squares = t[3]!, byFeature = t[4]!, bySample = t[5]!;
  for (let j = 0; j < n; j++) {
    // Two interleaved sums per quantity within a column (the even and odd entries), added at the column's end:
    // the order is fixed by the column alone, and two chains of additions run twice as fast as one.
    let s0 = 0, s1 = 0, q0 = 0, q1 = 0, f0 = 0, f1 = 0;
    const end = colPtr[j + 1]!;
    let p = colPtr[j]!;
    for (; p + 1 < end; p += 2) {
      const v0 = values[p]!, v1 = values[p + 1]!;
      s0 += v0; q0 += v0 * v0; f0 += (rowIdx[p]! + 1) * v0;
      s1 += v1; q1 += v1 * v1; f1 += (rowIdx[p + 1]! + 1) * v1;
    }
    if (p < end) {
      const v0 = values[p]!;
      s0 += v0; q0 += v0 * v0; f0 += (rowIdx[p]! + 1) * v0;
    }
    let columnSum = s0 + s1, columnSquares = q0 + q1, columnMoment = f0 + f1, missing = 0;
    if (columnSum !== columnSum) [columnSum, columnSquares, columnMoment, missing] = withMissing(rowIdx, values, colPtr[j]!, end);
    sum += columnSum; squares += columnSquares; byFeature += columnMoment; bySample += (colStart + j + 1) * (columnSum - missing);
  }
  t[0] = colStart + n; t[1] = t[1]! + colPtr[n]!; t[2] = sum; t[3] = squares; t[4] = byFeature; t[5] = bySample;
  compareAtChunkEnd(watch, chunk);
  watch.chunk += 1;
}

/**
 * A column with missing entries (NaN values, `missing: 'nan'`): its sums over the other entries, its feature moment with
 * −(i+1) for each missing entry, and the count of them (the sample moment takes −(j+1) each), so that the totals stay
 * finite and a missing entry that moves or appears changes them. In entry order; rare, so not unrolled.
 */
function withMissing(rowIdx: Int32Array, values: Float64Array, p0: number, p1: number): [number, number, number, number] {
  let s = 0, q = 0, f = 0, missing = 0;
  for (let p = p0; p < p1; p++) {
    const v = values[p]!;
    if (v !== v) { f -= rowIdx[p]! + 1; missing++; continue; }
    s += v; q += v * v; f += (rowIdx[p]! + 1) * v;
  }
  return [s, q, f, missing];
}

function compareAtChunkEnd(watch: DataWatch, chunk: CscChunk): void {
  const { marks, totals } = watch;
  const end = totals[0]!;
  const count = marks.length / MARK;
  while (watch.cursor < count && marks[watch.cursor * MARK]! < end) watch.cursor++;
  if (watch.cursor < count && marks[watch.cursor * MARK] === end) {
    const what = difference(watch, watch.cursor * MARK, `up to sample ${end - 1} `);
    if (what !== undefined) throw changed(watch, chunk, what);
    watch.cursor++;
  } else if (watch.cursor >= count) {
    if (watch.complete) throw changed(watch, chunk, `the chunk reaches sample ${end - 1}, past the ${marks[(count - 1) * MARK]} samples ${watch.origin} read`);
    for (let q = 0; q < MARK; q++) marks.push(totals[q]!);
    watch.cursor = count + 1;
  }
}

/** At the end of a pass: the first full pass completes the reference; a later one must end where it ended. */
export function endDataPass(watch: DataWatch): void {
  if (!watch.complete) {
    watch.complete = true;
    return;
  }
  const { marks, totals } = watch;
  const at = marks.length - MARK;
  if (at < 0) return;
  const what = totals[0] !== marks[at] ? `the pass ended after ${totals[0]} samples where ${watch.origin} read ${marks[at]}` : difference(watch, at, '');
  if (what !== undefined) {
    throw new DataError('DATA_CHANGED', `${intro(watch)}: at the end of pass ${watch.pass}, ${what}${advice(watch)}`, { source: watch.source });
  }
}

/** The totals of the reference pass, once it is complete. */
export function fingerprintOf(watch: DataWatch): DataFingerprint | undefined {
  const count = watch.marks.length / MARK;
  if (!watch.complete || count === 0 || watch.features === undefined) return undefined;
  const m = watch.marks.slice((count - 1) * MARK);
  return { features: watch.features, samples: m[0]!, nonzeros: m[1]!, sum: m[2]!, sumSquares: m[3]!, featureMoment: m[4]!, sampleMoment: m[5]! };
}

/** The reference as a checkpoint keeps it (a copy). */
export function recordOf(watch: DataWatch): FingerprintRecord | undefined {
  if (watch.features === undefined) return undefined;
  return { features: watch.features, complete: watch.complete, marks: Float64Array.from(watch.marks) };
}

/** The first running total that differs from the mark at `at`, in words; undefined when all agree (exactly). */
function difference(watch: DataWatch, at: number, upTo: string): string | undefined {
  for (let q = 1; q < MARK; q++) {
    const t = watch.totals[q]!, mark = watch.marks[at + q]!;
    // NaN totals agree with NaN (missing entries give finite totals: withMissing; kept for records made before it)
    if (t !== mark && !(t !== t && mark !== mark)) return `the ${QUANTITIES[q - 1]} ${upTo}is ${watch.totals[q]} where ${watch.origin} read ${watch.marks[at + q]}`;
  }
  return undefined;
}

function changed(watch: DataWatch, chunk: CscChunk, what: string): DataError {
  checkChunk(chunk, watch.source, true); // a malformed chunk says so rather than "changed" (NaN, a missing entry, is the fit's to judge)
  const samples = chunk.n > 0 ? `samples ${chunk.colStart}–${chunk.colStart + chunk.n - 1}` : `no samples, at sample ${chunk.colStart}`;
  return new DataError('DATA_CHANGED', `${intro(watch)}: in pass ${watch.pass}, chunk ${watch.chunk} (${samples}), ${what}${advice(watch)}`,
    { source: watch.source, batch: chunk.position, sample: chunk.colStart });
}

function intro(watch: DataWatch): string {
  return watch.fromCheckpoint ? 'the data are not those the checkpoint was made from' : 'the data changed between passes';
}

function advice(watch: DataWatch): string {
  return watch.fromCheckpoint
    ? ' (resume with the data the checkpoint was made from, or start the fit again without resuming)'
    : ' (a re-readable source must deliver the same data on every pass: was the file replaced while the fit ran?)';
}
