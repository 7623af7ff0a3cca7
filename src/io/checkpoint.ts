/**
 * Checkpoints of a fit: the engine's full state (typed arrays and counters), the trace so far and
 * the options that shape the result, in one file `<dir>/checkpoint.nmf` written atomically
 * (temporary name, fsync, rename), so a process killed at any moment leaves the previous complete
 * checkpoint. Layout: 8 bytes "NMFCKPT2", the SHA-256 (32 bytes) of every byte after it, uint32 header
 * length, JSON header, zero padding to a multiple of 8, then the Float64 arrays back to back (offsets in
 * the header). The data fingerprint of the fit (chunk/data-fingerprint.ts) travels as the array `@data`.
 * Reading verifies the checksum, then the header's shape and the values (io/checkpoint-checks.ts): a
 * damaged checkpoint is a typed error naming the file and what is wrong, never resumed. Checkpoints of
 * format 1 (no checksum, nmflow before issue #13) are refused with UNSUPPORTED: they cannot be verified.
 * Resuming from a checkpoint reproduces the bytes of an uninterrupted run (test/checkpoint.test.ts).
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, OptionError } from '../errors.js';
import type { FingerprintRecord } from '../chunk/data-fingerprint.js';
import { checkHeader, checkState, type Header } from './checkpoint-checks.js';
import { removeStaleTemporariesSync, syncDirectorySync, writeAllSync } from './atomic-write.js';
import { ioError } from './io-error.js';
import type { TracePoint } from '../snapshot/snapshot.js';
import type { EngineState } from '../model/engine.js';
import type { LogPosition } from '../source/matrix-source.js';

const MAGIC = 'NMFCKPT2';
const FILE = 'checkpoint.nmf';
/** Magic, SHA-256, header length. */
const PREFIX = 8 + 32 + 4;
const DATA = '@data';

export interface Checkpoint {
  /** The options that determine the result (JSON-safe), compared on resume. */
  readonly fingerprint: Record<string, unknown>;
  readonly sourceName: string;
  readonly trace: readonly TracePoint[];
  readonly state: EngineState;
  /** The fingerprint of the data read so far (absent before the first chunk, and in live fits). */
  readonly data?: FingerprintRecord | undefined;
  /** An online fit on a log (a JetStream stream): where to resume, the last sequence consumed included. */
  readonly log?: LogPosition | undefined;
}

export function checkpointPath(dir: string): string {
  return join(dir, FILE);
}

export function writeCheckpoint(dir: string, checkpoint: Checkpoint): void {
  const { data } = checkpoint;
  const arrays = Object.entries(checkpoint.state.arrays);
  if (data) arrays.push([DATA, data.marks]);
  let offset = 0;
  const layout: Record<string, [number, number]> = {};
  for (const [name, array] of arrays) {
    layout[name] = [offset, array.length];
    offset += array.length;
  }
  const header = Buffer.from(JSON.stringify({
    fingerprint: checkpoint.fingerprint, sourceName: checkpoint.sourceName, trace: checkpoint.trace,
    loss: checkpoint.state.loss, numbers: checkpoint.state.numbers, layout,
    ...(data ? { data: { features: data.features, complete: data.complete } } : {}),
    ...(checkpoint.log ? { log: checkpoint.log } : {}),
  }, (_key, value: unknown) => typeof value === 'number' && !Number.isFinite(value) ? String(value) : value), 'utf8');
  const padded = Math.ceil((PREFIX + header.length) / 8) * 8;
  const head = Buffer.alloc(padded);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(header.length, 40);
  header.copy(head, PREFIX);
  const hash = createHash('sha256').update(head.subarray(40));
  for (const [, array] of arrays) hash.update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  hash.digest().copy(head, 8);
  const target = checkpointPath(dir);
  const tmp = `${target}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    removeStaleTemporariesSync(target); // `checkpoint.nmf.tmp-<pid>` of a process killed while writing
    fd = openSync(tmp, 'w');
    writeAllSync(fd, head);
    for (const [, array] of arrays) writeAllSync(fd, new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
    syncDirectorySync(dir);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try { rmSync(tmp, { force: true }); } catch { /* e.g. ENOTDIR: nothing was created */ }
    throw ioError('write checkpoint', target, error);
  }
}

/**
 * Reads the checkpoint in `dir` for resuming a fit made with the options `expected` (the ones that
 * determine its bytes): a checkpoint made with any other value is an OptionError naming the option.
 */
export function readCheckpointFor(dir: string, expected: Readonly<Record<string, unknown>>): Checkpoint {
  const checkpoint = readCheckpoint(dir);
  // `mask` (an object: options/resolve-mask.ts) is compared by value, and a checkpoint with one is not resumed without it.
  for (const key of new Set([...Object.keys(expected), 'mask'])) {
    const value = expected[key], saved = checkpoint.fingerprint[key];
    if (saved === value || (typeof value === 'object' && value !== null && JSON.stringify(saved) === JSON.stringify(value))) continue;
    throw new OptionError('resumeFrom', value === undefined ? `a checkpoint made without ${key}` : `a checkpoint made with ${key} = ${JSON.stringify(value)}`,
      typeof saved === 'object' && saved !== null ? JSON.stringify(saved) : saved);
  }
  return checkpoint;
}

export function readCheckpoint(dir: string): Checkpoint {
  const path = checkpointPath(dir);
  let bytes: Buffer;
  try { bytes = readFileSync(path); } catch (error) {
    throw ioError('read checkpoint', path, error);
  }
  const where = { source: path };
  if (bytes.length >= 12 && bytes.toString('latin1', 0, 8) === 'NMFCKPT1') {
    throw new DataError('UNSUPPORTED', 'the checkpoint was written by an earlier nmflow (format 1, without a checksum) and cannot be verified: start the fit again without resuming', where);
  }
  if (bytes.length < PREFIX || bytes.toString('latin1', 0, 8) !== MAGIC) {
    throw new DataError('MALFORMED_FILE', 'not an nmflow checkpoint', where);
  }
  const stored = bytes.subarray(8, 40);
  const actual = createHash('sha256').update(bytes.subarray(40)).digest();
  if (!actual.equals(stored)) {
    throw new DataError('CHECKSUM_MISMATCH', `the checkpoint is damaged: the SHA-256 of its ${bytes.length - 40} bytes is ${actual.toString('hex').slice(0, 16)}…, the file says ${stored.toString('hex').slice(0, 16)}… (truncated, overwritten or altered)`, where);
  }
  const length = bytes.readUInt32LE(40);
  if (PREFIX + length > bytes.length) {
    throw new DataError('MALFORMED_FILE', `the checkpoint header says ${length} bytes but the file ends after ${bytes.length - PREFIX} (truncated or damaged)`, where);
  }
  const header = parseHeader(bytes.toString('utf8', PREFIX, PREFIX + length), path);
  const base = Math.ceil((PREFIX + length) / 8) * 8;
  const arrays: Record<string, Float64Array> = {};
  for (const [name, [offset, count]] of Object.entries(header.layout)) {
    const start = base + offset * 8;
    if (start + count * 8 > bytes.length) throw new DataError('MALFORMED_FILE', `checkpoint is truncated (array ${name})`, where);
    arrays[name] = new Float64Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + count * 8));
  }
  const { [DATA]: marks, ...engineArrays } = arrays;
  const state: EngineState = { loss: header.loss, numbers: nonFinite(header.numbers), arrays: engineArrays };
  const trace = header.trace.map(nonFinite);
  checkState(state, trace, header, marks, path);
  return {
    fingerprint: header.fingerprint, sourceName: header.sourceName, trace, state,
    ...(header.data && marks ? { data: { features: header.data.features, complete: header.data.complete, marks } } : {}),
    ...(header.log ? { log: header.log } : {}),
  };
}

/** The JSON header, its shape checked: a damaged header is MALFORMED_FILE saying what is wrong, never a bare parse error. */
function parseHeader(text: string, path: string): Header {
  let value: unknown;
  try { value = JSON.parse(text); } catch (error) {
    throw new DataError('MALFORMED_FILE', 'the checkpoint header is damaged: it is not valid JSON', { source: path }, error);
  }
  return checkHeader(value, path);
}

/**
 * JSON has no Infinity or NaN (an l1 fit's first tol, its `previous` objective before iteration 1):
 * the header stores them as the strings "Infinity", "-Infinity", "NaN", turned back here.
 */
function nonFinite<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).map(([key, value]) =>
    [key, value === 'Infinity' || value === '-Infinity' || value === 'NaN' ? Number(value) : value])) as T;
}
