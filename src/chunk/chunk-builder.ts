/**
 * Builds CSC chunks of `chunkSize` consecutive samples from nonzeros that arrive in column order,
 * possibly spread over several record batches. Chunk c always covers samples
 * [c·chunkSize, (c+1)·chunkSize) (the last one fewer), whatever the batches or row groups, so the
 * same matrix gives the same chunks from every file format and from `fromCsc`.
 *
 * Zero-copy: nonzeros are appended as runs of (rowIdx, values) arrays. When a whole chunk is one run
 * of one pair of arrays (e.g. a float64 value column and an int32 feature column of one batch), the
 * chunk holds views of them; otherwise the runs are copied into arrays owned by the chunk (values of
 * another number type are widened to float64 by that copy: TypedArray.set, one pass). The owned arrays
 * are allocated once per chunk, sized from the nonzeros per sample seen so far, so that they rarely grow.
 * The caller validates every nonzero before appending it. A finished chunk has its rows sorted within
 * each column and repeated (feature, sample) entries summed (sum-duplicates.ts); sorted columns without
 * repeats, the usual case, keep the zero-copy views.
 */
import type { NumberArray } from './arrow-column.js';
import { makeCscChunk, type CscChunk } from './csc-chunk.js';
import { markCanonical, sumDuplicates } from './sum-duplicates.js';

/** Chunks whose arrays no one else holds (owned by the builder, or made by sumDuplicates): they may be transferred. */
const exclusive = new WeakSet<CscChunk>();

/** True when the chunk's colPtr, rowIdx and values are its own buffers (not views of a record batch's): transferable. */
export function hasOwnArrays(chunk: CscChunk): boolean {
  return exclusive.has(chunk);
}

export class ChunkBuilder {
  /** Global index of the current chunk's first sample. */
  colStart = 0;
  /** Position of the current chunk. */
  position = 0;
  private colPtr: Int32Array;
  /** Local columns whose start has been written to colPtr (colPtr[0..filled] are set). */
  private filled = 0;
  private nnz = 0;
  private ownRows: Int32Array;
  private ownValues: Float64Array;
  private owned = false;
  /** The capacity to allocate for the next chunk's owned arrays (0: estimate from the chunk so far). */
  private expected = 0;
  private viewRows: Int32Array | null = null;
  private viewValues: Float64Array | null = null;
  private viewRowFrom = 0;
  private viewValueFrom = 0;

  /** `m`: the features of the chunks it finishes; a converter that learns new features raises it between chunks. */
  constructor(public m: number, readonly chunkSize: number) {
    this.colPtr = new Int32Array(chunkSize + 1);
    this.ownRows = new Int32Array(0);
    this.ownValues = new Float64Array(0);
  }

  /** Global end (exclusive) of the current chunk. */
  get colEnd(): number {
    return this.colStart + this.chunkSize;
  }

  /** Makes local column `j` (≥ every earlier one) current; the columns before it are closed. */
  startColumn(j: number): void {
    const colPtr = this.colPtr;
    for (let t = this.filled + 1; t <= j; t++) colPtr[t] = this.nnz;
    if (j > this.filled) this.filled = j;
  }

  /** Appends `count` nonzeros: rows[rowFrom..], values[valueFrom..] (already validated). */
  appendRun(rows: Int32Array, rowFrom: number, values: NumberArray, valueFrom: number, count: number): void {
    if (count <= 0) return;
    if (!this.owned) {
      // Views of float64 values only: other number types are widened by the copy.
      if (this.nnz === 0 && values instanceof Float64Array) {
        this.viewRows = rows; this.viewValues = values; this.viewRowFrom = rowFrom; this.viewValueFrom = valueFrom;
        this.nnz = count;
        return;
      }
      if (rows === this.viewRows && values === this.viewValues
        && rowFrom === this.viewRowFrom + this.nnz && valueFrom === this.viewValueFrom + this.nnz) {
        this.nnz += count;
        return;
      }
      this.materialize(count);
    }
    this.reserve(count);
    this.ownRows.set(rows.subarray(rowFrom, rowFrom + count), this.nnz);
    this.ownValues.set(values.subarray(valueFrom, valueFrom + count), this.nnz);
    this.nnz += count;
  }

  /** Appends one nonzero (already validated). */
  append(row: number, value: number): void {
    if (!this.owned) this.materialize(1);
    if (this.nnz === this.ownRows.length) this.reserve(1);
    this.ownRows[this.nnz] = row;
    this.ownValues[this.nnz] = value;
    this.nnz++;
  }

  /** Closes the current chunk with `n` columns and starts the next one. */
  finish(n: number): CscChunk {
    this.startColumn(n);
    const nnz = this.nnz;
    const colPtr = n === this.chunkSize ? this.colPtr : this.colPtr.slice(0, n + 1);
    let rowIdx: Int32Array;
    let values: Float64Array;
    if (this.owned) {
      rowIdx = this.ownRows.subarray(0, nnz);
      values = this.ownValues.subarray(0, nnz);
    } else if (this.viewRows && this.viewValues) {
      rowIdx = this.viewRows.subarray(this.viewRowFrom, this.viewRowFrom + nnz);
      values = this.viewValues.subarray(this.viewValueFrom, this.viewValueFrom + nnz);
    } else {
      rowIdx = new Int32Array(0);
      values = new Float64Array(0);
    }
    // Repeated (feature, sample) entries are summed (sum-duplicates.ts): a no-op scan on sorted columns.
    const summed = sumDuplicates({ colPtr, rowIdx, values }, n);
    const chunk = markCanonical(makeCscChunk({ m: this.m, colStart: this.colStart, position: this.position, ...(summed ?? { colPtr, rowIdx, values }) }));
    if (summed || this.owned || nnz === 0) exclusive.add(chunk);
    // The chunk keeps these arrays: the next one gets fresh ones when it needs them (sized like this one's, and a tenth more).
    this.colPtr = new Int32Array(this.chunkSize + 1);
    if (this.owned) { this.ownRows = new Int32Array(0); this.ownValues = new Float64Array(0); }
    this.expected = Math.ceil(nnz * 1.1);
    this.owned = false;
    this.viewRows = null;
    this.viewValues = null;
    this.filled = 0;
    this.nnz = 0;
    this.colStart += n;
    this.position++;
    return chunk;
  }

  /** Copies the current view (if any) into owned arrays, with room for `extra` more. */
  /** The remaining chunks up to sample n (the end of a pass): chunks of `chunkSize`, the last shorter. */
  finishAll(n: number): CscChunk[] {
    const out: CscChunk[] = [];
    while (this.colStart < n) out.push(this.finish(Math.min(this.chunkSize, n - this.colStart)));
    return out;
  }

  private materialize(extra: number): void {
    const nnz = this.nnz;
    this.owned = true;
    // Whatever the owned arrays hold is stale (the view is the chunk so far): make room without copying it.
    this.nnz = 0;
    this.reserve(nnz + extra);
    this.nnz = nnz;
    if (nnz > 0 && this.viewRows && this.viewValues) {
      this.ownRows.set(this.viewRows.subarray(this.viewRowFrom, this.viewRowFrom + nnz), 0);
      this.ownValues.set(this.viewValues.subarray(this.viewValueFrom, this.viewValueFrom + nnz), 0);
    }
    this.viewRows = null;
    this.viewValues = null;
  }

  private reserve(extra: number): void {
    const need = this.nnz + extra;
    if (need <= this.ownRows.length) return;
    // The previous chunk's size (a tenth more): one allocation per chunk, usually; else grow toward the nonzeros per
    // sample so far × the chunk's samples, by at most 4× at a time (a few dense first samples must not claim gigabytes).
    const old = this.ownRows.length;
    const rate = this.filled > 0 ? Math.ceil((need * 1.1 * this.chunkSize) / this.filled) : 0;
    const size = Math.max(need, Math.ceil(1.5 * old), old === 0 ? this.expected : 0, Math.min(rate, 4 * Math.max(old, need)), 1024);
    const rows = new Int32Array(size);
    const values = new Float64Array(size);
    rows.set(this.ownRows.subarray(0, this.nnz));
    values.set(this.ownValues.subarray(0, this.nnz));
    this.ownRows = rows;
    this.ownValues = values;
  }
}
