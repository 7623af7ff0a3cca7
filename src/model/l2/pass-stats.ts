/**
 * The least-squares pass statistics as a value: what any runner (this thread, the worker pool, another
 * process) produces and the end of the pass (end-pass.ts) consumes. A `PassStats` holds ranges of units
 * [first, end) (units.ts), each with
 *   S = HHᵀ (k×k, upper triangle), hSum = H·1, normA2 = ‖A‖², nnz, samples (1 + the last sample seen),
 *   B = AHᵀ on the rows it touched (rows ascending, rows.length × k),
 * every sum in the canonical order: a unit from zero in sample order, units added in unit order. Only a
 * range that starts at unit 0 absorbs the range that follows it, so `mergePassStats` gives the same bytes
 * whatever the grouping and order of the merges; a complete pass is one range from unit 0.
 * Serialised as one Arrow IPC stream (one row per range; arrays as little-endian bytes).
 */
import { Binary, Table, makeVector, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { DataError } from '../../errors.js';
import { addRows, gatherRows, scatterRows, type RowBuffers } from '../../kernel/row-runs.js';
import type { ResolvedOptions } from '../../options.js';
import type { L2State } from './state.js';
import { stepL2 } from './step.js';
import { foldUnits, resetUnits, unitOf } from './units.js';

export interface UnitRange {
  readonly first: number;
  readonly end: number;
  readonly samples: number;
  readonly nnz: number;
  readonly normA2: number;
  readonly S: Float64Array;
  readonly hSum: Float64Array;
  readonly rows: Int32Array;
  readonly B: Float64Array;
}

export interface PassStats {
  readonly m: number;
  readonly k: number;
  /** Disjoint, sorted by `first`. */
  readonly ranges: readonly UnitRange[];
}

/** The union of two sets of ranges; a range from unit 0 absorbs the ranges that continue it, in unit order. */
export function mergePassStats(a: PassStats, b: PassStats): PassStats {
  if (a.m !== b.m || a.k !== b.k) throw new DataError('SHAPE_MISMATCH', `pass statistics of ${a.m}×${a.k} and ${b.m}×${b.k}`, {});
  const ranges = [...a.ranges, ...b.ranges].sort((x, y) => x.first - y.first);
  for (let r = 1; r < ranges.length; r++) {
    if (ranges[r]!.first < ranges[r - 1]!.end) throw new DataError('INVALID_VALUE', `unit ${ranges[r]!.first} appears twice in the pass statistics`, {});
  }
  while (ranges.length > 1 && ranges[0]!.first === 0 && ranges[1]!.first === ranges[0]!.end) {
    ranges.splice(0, 2, appendRange(ranges[0]!, ranges[1]!, a.m, a.k));
  }
  return { m: a.m, k: a.k, ranges };
}

/** prefix + next, entry by entry (a row absent from one side adds nothing there). */
function appendRange(prefix: UnitRange, next: UnitRange, m: number, k: number): UnitRange {
  const B = new Float64Array(m * k);
  const touched = new Int32Array(m);
  for (const range of [prefix, next]) addRows(B, touched, range.rows, range.B, k);
  return {
    first: prefix.first, end: next.end, samples: Math.max(prefix.samples, next.samples), nnz: prefix.nnz + next.nnz,
    normA2: prefix.normA2 + next.normA2,
    S: prefix.S.map((v, q) => v + next.S[q]!), hSum: prefix.hSum.map((v, a) => v + next.hSum[a]!),
    ...gatherRows(B, touched, 1, k),
  };
}

/**
 * A runner's unit: H of the chunk's columns (all in one unit, state.H updated) and that unit's statistics,
 * from zero. The pass totals of `state` are left as they were; call between beginPassL2 and usePassStats.
 * `into`: buffers of m rows for the statistics' AHᵀ (views of them are returned: the caller reuses them once read).
 */
export function unitPassStats(state: L2State, chunk: CscChunk, options: ResolvedOptions, sourceName: string, into?: RowBuffers): PassStats {
  const unit = unitOf(chunk.colStart);
  if (chunk.n === 0 || unitOf(chunk.colStart + chunk.n - 1) !== unit) {
    throw new DataError('INVALID_VALUE', `a unit's chunk must hold samples of one unit (got ${chunk.colStart}..${chunk.colStart + chunk.n - 1})`, { source: sourceName });
  }
  const { passNnz, passSamples } = state;
  resetUnits(state.units);
  stepL2(state, chunk, options, sourceName);
  state.wasmPass?.flush(state);
  const { units, k } = state;
  const range: UnitRange = {
    first: unit, end: unit + 1, samples: chunk.colStart + chunk.n, nnz: state.passNnz - passNnz, normA2: units.normA2,
    S: units.S.slice(), hSum: units.hSum.slice(), ...gatherRows(units.Bu, units.last, unit, k, into),
  };
  state.passNnz = passNnz; state.passSamples = passSamples;
  resetUnits(units);
  return { m: state.m, k, ranges: [range] };
}

/** The statistics of the pass so far, as one range from unit 0 (this thread's runner). */
export function passStatsOf(state: L2State): PassStats {
  state.wasmPass?.flush(state);
  const { m, k } = state;
  foldUnits(state, m, k);
  const end = state.passSamples > 0 ? unitOf(state.passSamples - 1) + 1 : 0;
  const range: UnitRange = {
    first: 0, end, samples: state.passSamples, nnz: state.passNnz, normA2: state.normA2, S: state.S.slice(), hSum: state.hSum.slice(),
    rows: Int32Array.from({ length: m }, (_, i) => i), B: state.B.slice(),
  };
  return { m, k, ranges: [range] };
}

/** A complete pass's statistics (one range from unit 0) as the state's pass totals, for end-pass.ts. */
export function usePassStats(state: L2State, stats: PassStats): void {
  const range = stats.ranges[0];
  if (stats.ranges.length !== 1 || range === undefined || range.first !== 0 || stats.m !== state.m || stats.k !== state.k) {
    throw new DataError('INVALID_VALUE', 'the statistics of a whole pass (one range of units from unit 0, of this model\'s shape)', {});
  }
  const k = state.k;
  state.wasmPass?.flush(state);
  state.S.set(range.S); state.hSum.set(range.hSum); state.normA2 = range.normA2;
  state.B.fill(0);
  scatterRows(state.B, undefined, range.rows, range.B, k);
  state.passNnz = range.nnz; state.passSamples = range.samples;
  resetUnits(state.units);
}

const bytesOf = (a: Float64Array | Int32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
const f64 = (b: Uint8Array): Float64Array => new Float64Array(b.slice().buffer);
const i32 = (b: Uint8Array): Int32Array => new Int32Array(b.slice().buffer);

/** One Arrow IPC stream: a row per range, m and k in the schema's metadata. */
export function passStatsToIPC(stats: PassStats): Uint8Array {
  const { ranges } = stats;
  const column = <T>(pick: (r: UnitRange) => T): T[] => ranges.map(pick);
  const binary = (pick: (r: UnitRange) => Float64Array | Int32Array) => vectorFromArray(column((r) => bytesOf(pick(r))), new Binary());
  const table = new Table({
    first: makeVector(Int32Array.from(column((r) => r.first))), end: makeVector(Int32Array.from(column((r) => r.end))),
    samples: makeVector(Float64Array.from(column((r) => r.samples))), nnz: makeVector(Float64Array.from(column((r) => r.nnz))),
    normA2: makeVector(Float64Array.from(column((r) => r.normA2))),
    S: binary((r) => r.S), hSum: binary((r) => r.hSum), rows: binary((r) => r.rows), B: binary((r) => r.B),
  });
  table.schema.metadata.set('nmflow.m', String(stats.m));
  table.schema.metadata.set('nmflow.k', String(stats.k));
  return tableToIPC(table, 'stream');
}

export function passStatsFromIPC(bytes: Uint8Array): PassStats {
  const table = tableFromIPC(bytes);
  const m = Number(table.schema.metadata.get('nmflow.m')), k = Number(table.schema.metadata.get('nmflow.k'));
  const get = <T>(name: string, row: number): T => table.getChild(name)!.get(row) as T;
  const ranges: UnitRange[] = [];
  for (let r = 0; r < table.numRows; r++) {
    ranges.push({
      first: get<number>('first', r), end: get<number>('end', r), samples: get<number>('samples', r), nnz: get<number>('nnz', r),
      normA2: get<number>('normA2', r), S: f64(get('S', r)), hSum: f64(get('hSum', r)), rows: i32(get('rows', r)), B: f64(get('B', r)),
    });
  }
  return { m, k, ranges };
}
