/**
 * The feature-major copy of A that the out-of-core L1 fit needs for its W half-sweep (docs/architecture.md,
 * Weighted L1): an external distribution sort. During the first pass every nonzero (feature i, sample j,
 * value) goes to the bucket of its feature's row block (blocks of `bucketRows` features); full
 * buffers are appended to the bucket's file as Arrow IPC stream record batches (columns `feature`
 * int32, `sample` int32, `value` float64) under a temporary directory. Afterwards each bucket is
 * read back (one at a time: memory = the largest bucket) and counting-sorted by feature into CSR
 * rows whose samples ascend — exactly the transposed index the in-memory sCD builds.
 * `close()` removes the directory; call it on completion, error and unsubscribe.
 * The directory is `<dir>/nmflow-rows-<pid>-XXXXXX`, one per fit: a process killed before `close()` (SIGKILL)
 * leaves it behind, and the next store made in the same `dir` removes those of processes no longer running.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordBatchReader, Table, makeVector, tableToIPC } from 'apache-arrow';
import type { FeatureMajorStore } from '../model/l1/row-store.js';
import { NmfError } from '../errors.js';
import { deadEntries, writeAllSync } from './atomic-write.js';
import { ioError } from './io-error.js';

export type { FeatureMajorStore, RowBlock } from '../model/l1/row-store.js';

const PREFIX = 'nmflow-rows-';

/** Removes the copies that dead processes left in `parent`. Never fails. */
function removeDeadCopies(parent: string): void {
  let names: string[];
  try { names = readdirSync(parent); } catch { return; }
  for (const name of deadEntries(names, PREFIX)) {
    try { rmSync(join(parent, name), { recursive: true, force: true }); } catch { /* someone else's: left alone */ }
  }
}

export function makeFeatureMajorStore(m: number, options: { readonly dir?: string; readonly bucketRows?: number; readonly flushEntries?: number } = {}): FeatureMajorStore {
  const bucketRows = Math.max(1, options.bucketRows ?? 2048);
  const flushEntries = Math.max(1, options.flushEntries ?? 1 << 16);
  const buckets = Math.ceil(m / bucketRows);
  const parent = options.dir ?? tmpdir();
  removeDeadCopies(parent);
  let dir: string;
  try {
    dir = mkdtempSync(join(parent, `${PREFIX}${process.pid}-`));
  } catch (error) {
    throw ioError('create the out-of-core copy (tempDir) in', parent, error);
  }
  const fds = new Array<number | undefined>(buckets);
  const rows = Array.from({ length: buckets }, () => new Int32Array(0));
  const cols = Array.from({ length: buckets }, () => new Int32Array(0));
  const vals = Array.from({ length: buckets }, () => new Float64Array(0));
  const fill = new Int32Array(buckets);
  const rowCounts = new Int32Array(m);
  let maxRow = 0;
  let closed = false;
  const path = (b: number): string => join(dir, `rows-${b}.arrows`);

  const flush = (b: number): void => {
    const count = fill[b]!;
    if (count === 0) return;
    const table = new Table({
      feature: makeVector(rows[b]!.subarray(0, count)),
      sample: makeVector(cols[b]!.subarray(0, count)),
      value: makeVector(vals[b]!.subarray(0, count)),
    });
    try {
      fds[b] ??= openSync(path(b), 'a');
      writeAllSync(fds[b]!, tableToIPC(table, 'stream'));
    } catch (error) {
      throw ioError('write the out-of-core copy', path(b), error);
    }
    fill[b] = 0;
  };

  return {
    dir,
    get maxRow() { return maxRow; },
    append(chunk) {
      const { colPtr, rowIdx, values, colStart } = chunk;
      for (let j = 0; j < chunk.n; j++) {
        for (let p = colPtr[j]!, end = colPtr[j + 1]!; p < end; p++) {
          const i = rowIdx[p]!;
          const b = (i / bucketRows) | 0;
          if (rows[b]!.length === 0) {
            rows[b] = new Int32Array(flushEntries); cols[b] = new Int32Array(flushEntries); vals[b] = new Float64Array(flushEntries);
          }
          const q = fill[b]!;
          rows[b]![q] = i; cols[b]![q] = colStart + j; vals[b]![q] = values[p]!;
          rowCounts[i] = rowCounts[i]! + 1;
          fill[b] = q + 1;
          if (q + 1 === flushEntries) flush(b);
        }
      }
    },
    finish() {
      for (let b = 0; b < buckets; b++) {
        flush(b);
        if (fds[b] !== undefined) { closeSync(fds[b]!); fds[b] = undefined; }
        rows[b] = new Int32Array(0); cols[b] = new Int32Array(0); vals[b] = new Float64Array(0);
      }
      for (let i = 0; i < m; i++) if (rowCounts[i]! > maxRow) maxRow = rowCounts[i]!;
    },
    forEachBlock(visit) {
      if (closed) throw new NmfError('IO', `the feature-major copy in ${dir} was removed`);
      for (let b = 0; b < buckets; b++) {
        const rowStart = b * bucketRows, rowEnd = Math.min(m, rowStart + bucketRows);
        const rowPtr = new Int32Array(rowEnd - rowStart + 1);
        for (let i = rowStart; i < rowEnd; i++) rowPtr[i - rowStart + 1] = rowPtr[i - rowStart]! + rowCounts[i]!;
        const nnz = rowPtr[rowEnd - rowStart]!;
        const colIdx = new Int32Array(nnz), values = new Float64Array(nnz);
        if (nnz > 0) {
          const next = rowPtr.slice(0, rowEnd - rowStart);
          for (const reader of RecordBatchReader.readAll(readFileSync(path(b)))) {
            for (const batch of reader) {
              const f = batch.getChild('feature')!.data[0]!.values as Int32Array;
              const s = batch.getChild('sample')!.data[0]!.values as Int32Array;
              const v = batch.getChild('value')!.data[0]!.values as Float64Array;
              for (let q = 0; q < batch.numRows; q++) {
                const slot = next[f[q]! - rowStart]!;
                next[f[q]! - rowStart] = slot + 1;
                colIdx[slot] = s[q]!;
                values[slot] = v[q]!;
              }
            }
          }
        }
        visit({ rowStart, rowEnd, rowPtr, colIdx, values });
      }
    },
    close() {
      if (closed) return;
      closed = true;
      for (const fd of fds) if (fd !== undefined) closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
