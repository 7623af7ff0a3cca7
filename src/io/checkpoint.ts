/**
 * Checkpoints of a fit: the engine's full state (typed arrays and counters), the trace so far and
 * the options that shape the result, in one file `<dir>/checkpoint.nmf` written atomically
 * (temporary name, fsync, rename), so a process killed at any moment leaves the previous complete
 * checkpoint. Layout: 8 bytes "NMFCKPT1", uint32 header length, JSON header, zero padding to a
 * multiple of 8, then the Float64 arrays back to back (offsets in the header).
 * Resuming from a checkpoint reproduces the bytes of an uninterrupted run (test/checkpoint.test.ts).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, OptionError } from '../errors.js';
import { removeStaleTemporariesSync, syncDirectorySync, writeAllSync } from './atomic-write.js';
import { ioError } from './io-error.js';
import type { TracePoint } from '../snapshot/snapshot.js';
import type { EngineState } from '../model/engine.js';

const MAGIC = 'NMFCKPT1';
const FILE = 'checkpoint.nmf';

export interface Checkpoint {
  /** The options that determine the result (JSON-safe), compared on resume. */
  readonly fingerprint: Record<string, unknown>;
  readonly sourceName: string;
  readonly trace: readonly TracePoint[];
  readonly state: EngineState;
}

export function checkpointPath(dir: string): string {
  return join(dir, FILE);
}

export function writeCheckpoint(dir: string, checkpoint: Checkpoint): void {
  const arrays = Object.entries(checkpoint.state.arrays);
  let offset = 0;
  const layout: Record<string, [number, number]> = {};
  for (const [name, array] of arrays) {
    layout[name] = [offset, array.length];
    offset += array.length;
  }
  const header = Buffer.from(JSON.stringify({
    fingerprint: checkpoint.fingerprint, sourceName: checkpoint.sourceName, trace: checkpoint.trace,
    loss: checkpoint.state.loss, numbers: checkpoint.state.numbers, layout,
  }, (_key, value: unknown) => typeof value === 'number' && !Number.isFinite(value) ? String(value) : value), 'utf8');
  const prefix = 8 + 4 + header.length;
  const padded = Math.ceil(prefix / 8) * 8;
  const head = Buffer.alloc(padded);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(header.length, 8);
  header.copy(head, 12);
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
  for (const [key, value] of Object.entries(expected)) {
    if (checkpoint.fingerprint[key] !== value) {
      throw new OptionError('resumeFrom', `a checkpoint made with ${key} = ${JSON.stringify(value)}`, checkpoint.fingerprint[key]);
    }
  }
  return checkpoint;
}

export function readCheckpoint(dir: string): Checkpoint {
  const path = checkpointPath(dir);
  let bytes: Buffer;
  try { bytes = readFileSync(path); } catch (error) {
    throw ioError('read checkpoint', path, error);
  }
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) {
    throw new DataError('MALFORMED_FILE', 'not an nmflow checkpoint', { source: path });
  }
  const length = bytes.readUInt32LE(8);
  if (12 + length > bytes.length) {
    throw new DataError('MALFORMED_FILE', `the checkpoint header says ${length} bytes but the file ends after ${bytes.length - 12} (truncated or damaged)`, { source: path });
  }
  const header = parseHeader(bytes.toString('utf8', 12, 12 + length), path);
  const base = Math.ceil((12 + length) / 8) * 8;
  const arrays: Record<string, Float64Array> = {};
  for (const [name, [offset, count]] of Object.entries(header.layout)) {
    const start = base + offset * 8;
    if (start + count * 8 > bytes.length) throw new DataError('MALFORMED_FILE', `checkpoint is truncated (array ${name})`, { source: path });
    arrays[name] = new Float64Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + count * 8));
  }
  return {
    fingerprint: header.fingerprint, sourceName: header.sourceName, trace: header.trace.map(nonFinite),
    state: { loss: header.loss, numbers: nonFinite(header.numbers), arrays },
  };
}

interface Header {
  fingerprint: Record<string, unknown>; sourceName: string; trace: TracePoint[];
  loss: 'l1' | 'l2'; numbers: Record<string, number>; layout: Record<string, [number, number]>;
}

/** The JSON header, its shape checked: a damaged header is MALFORMED_FILE saying what is wrong, never a bare parse error. */
function parseHeader(text: string, path: string): Header {
  const bad = (what: string, cause?: unknown): DataError =>
    new DataError('MALFORMED_FILE', `the checkpoint header is damaged: ${what}`, { source: path }, cause);
  let value: unknown;
  try { value = JSON.parse(text); } catch (error) { throw bad('it is not valid JSON', error); }
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isRecord(value)) throw bad('it is not a JSON object');
  const { fingerprint, sourceName, trace, loss, numbers, layout } = value;
  if (!isRecord(fingerprint)) throw bad('no fingerprint of the options');
  if (typeof sourceName !== 'string') throw bad('no source name');
  if (!Array.isArray(trace) || !trace.every(isRecord)) throw bad('the trace is not a list of iterations');
  if (loss !== 'l1' && loss !== 'l2') throw bad(`loss is ${JSON.stringify(loss)}, not "l1" or "l2"`);
  if (!isRecord(numbers) || !Object.values(numbers).every((v) => typeof v === 'number' || v === 'Infinity' || v === '-Infinity' || v === 'NaN')) {
    throw bad('the counters are not numbers');
  }
  if (!isRecord(layout)) throw bad('no layout of the arrays');
  for (const [name, entry] of Object.entries(layout)) {
    if (!Array.isArray(entry) || entry.length !== 2 || !entry.every((v) => Number.isSafeInteger(v) && (v as number) >= 0)) {
      throw bad(`array ${name} has no valid [offset, length]`);
    }
  }
  return value as unknown as Header;
}

/**
 * JSON has no Infinity or NaN (an l1 fit's first tol, its `previous` objective before iteration 1):
 * the header stores them as the strings "Infinity", "-Infinity", "NaN", turned back here.
 */
function nonFinite<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).map(([key, value]) =>
    [key, value === 'Infinity' || value === '-Infinity' || value === 'NaN' ? Number(value) : value])) as T;
}
