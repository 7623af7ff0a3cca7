/**
 * What a checkpoint (io/checkpoint.ts) must hold to be resumed, checked after its checksum: the JSON
 * header's shape, counters that are whole numbers in range (the engines count iterations differently: online
 * fits count sweeps, so the counter is not compared with the trace), a trace of increasing iterations, finite
 * arrays and nonnegative factors, a data fingerprint of whole marks. A checksum proves the bytes are the
 * ones written; these checks keep a checkpoint written by a faulty or hostile program from being resumed
 * into NaN. Each failure is MALFORMED_FILE (the header) or INVALID_VALUE (a value), naming the file and what.
 */
import { isLoss, LOSSES, type Loss } from '../options/losses.js';
import { MARK } from '../chunk/data-fingerprint.js';
import { DataError } from '../errors.js';
import type { TracePoint } from '../snapshot/snapshot.js';
import type { EngineState } from '../model/engine.js';

export interface Header {
  fingerprint: Record<string, unknown>; sourceName: string; trace: TracePoint[];
  loss: Loss; numbers: Record<string, number>; layout: Record<string, [number, number]>;
  data?: { features: number; complete: boolean };
  log?: { sequences: number[]; colStart: number; position: number };
}

/** Counters of the engines' states (update/*-engine.ts, update/online-*.ts): whole numbers ≥ 0. */
const COUNTERS = ['iteration', 'samples', 'passNnz', 'passSamples', 'passChunks', 'samplesSeen', 'nnzSeen', 'chunks', 'features', 'pending'];
/** Arrays that hold the factors or their sums: ≥ 0 as well as finite. */
const NONNEGATIVE = ['W', 'H', 'd', 'hSum', 'Wprev', 'windowCodes', 'windowSizes'];
/** More iterations than any fit runs (maxIterations is a count of passes over the data). */
const MAX_ITERATION = 1e9;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown, limit = Number.MAX_SAFE_INTEGER): boolean => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= limit;

export function checkHeader(value: unknown, path: string): Header {
  const bad = (what: string): DataError => new DataError('MALFORMED_FILE', `the checkpoint header is damaged: ${what}`, { source: path });
  if (!isRecord(value)) throw bad('it is not a JSON object');
  const { fingerprint, sourceName, trace, loss, numbers, layout, data, log } = value;
  if (!isRecord(fingerprint)) throw bad('no fingerprint of the options');
  if (typeof sourceName !== 'string') throw bad('no source name');
  if (!Array.isArray(trace) || !trace.every(isRecord)) throw bad('the trace is not a list of iterations');
  if (!isLoss(loss)) throw bad(`loss is ${JSON.stringify(loss)}, not one of ${LOSSES.map((l) => `"${l}"`).join(', ')}`);
  if (!isRecord(numbers) || !Object.values(numbers).every((v) => typeof v === 'number' || v === 'Infinity' || v === '-Infinity' || v === 'NaN')) {
    throw bad('the counters are not numbers');
  }
  if (!isRecord(layout)) throw bad('no layout of the arrays');
  for (const [name, entry] of Object.entries(layout)) {
    if (!Array.isArray(entry) || entry.length !== 2 || !entry.every((v) => isCount(v))) {
      throw bad(`array ${name} has no valid [offset, length]`);
    }
  }
  if (data !== undefined && (!isRecord(data) || !isCount(data.features) || (data.features as number) < 1 || typeof data.complete !== 'boolean')) {
    throw bad('the data fingerprint is not {features, complete}');
  }
  if (log !== undefined && (!isRecord(log) || !Array.isArray(log.sequences) || log.sequences.length === 0
    || !log.sequences.every((v) => isCount(v) && (v as number) >= 1) || !isCount(log.colStart) || !isCount(log.position))) {
    throw bad('the log position is not {sequences (whole numbers ≥ 1), colStart, position}');
  }
  return value as unknown as Header;
}

/** The values: counters, trace, arrays and the data marks. */
export function checkState(state: EngineState, trace: readonly TracePoint[], header: Header, marks: Float64Array | undefined, path: string): void {
  const invalid = (what: string): DataError => new DataError('INVALID_VALUE', `the checkpoint cannot be resumed: ${what}`, { source: path });
  for (const name of COUNTERS) {
    const v = state.numbers[name];
    if (v !== undefined && !isCount(v, name === 'iteration' ? MAX_ITERATION : Number.MAX_SAFE_INTEGER)) {
      throw invalid(`its counter ${name} is ${v}, not a whole number in [0, ${name === 'iteration' ? MAX_ITERATION : Number.MAX_SAFE_INTEGER}]`);
    }
  }
  let previous = -1;
  for (const [at, point] of trace.entries()) {
    if (!isCount(point.iteration, MAX_ITERATION) || point.iteration <= previous) {
      throw invalid(`trace entry ${at} has iteration ${point.iteration}, after iteration ${previous} (expected increasing whole numbers)`);
    }
    previous = point.iteration;
  }
  const rank = header.fingerprint.rank;
  for (const [name, array] of Object.entries(state.arrays)) checkArray(name, array, typeof rank === 'number' ? rank : undefined, invalid);
  if ((header.data === undefined) !== (marks === undefined)) throw invalid('its data fingerprint is incomplete (header and marks disagree)');
  if (marks !== undefined && (marks.length % MARK !== 0 || !marks.every((v) => Number.isFinite(v) || v === Infinity))) {
    throw invalid(`its data fingerprint has ${marks.length} numbers, not whole marks of ${MARK} numbers ≥ 0`);
  }
}

function checkArray(name: string, array: Float64Array, rank: number | undefined, invalid: (what: string) => DataError): void {
  const positive = NONNEGATIVE.includes(name);
  for (let q = 0; q < array.length; q++) {
    const v = array[q]!;
    if (Number.isFinite(v) && (!positive || v >= 0)) continue;
    const entry = name === 'W' && rank !== undefined ? `feature ${Math.floor(q / rank)}, factor ${q % rank}` : `entry ${q}`;
    throw invalid(`${name}[${entry}] is ${v}; ${positive ? 'factors must be finite and ≥ 0' : 'its values must be finite'}`);
  }
}
