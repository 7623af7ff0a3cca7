/**
 * The canonical summation order of the least-squares pass statistics (HHᵀ, hSum, ‖A‖², AHᵀ): samples
 * fall into units of UNIT_SAMPLES consecutive samples (by global index, whatever the chunking); each
 * unit's statistics are summed in sample order from zero, and units are added to the pass totals in
 * unit order. The order depends on the data alone, so one thread, the worker pool
 * (parallel/l2-pool.ts), a runner that computes units elsewhere and merges them (model/l2/pass-stats.ts)
 * and any chunk size give the same bytes (test/pass-stats.test.ts).
 * HHᵀ, hSum and ‖A‖² of the open unit live in `UnitSums`; AHᵀ's per-row unit sums in Bu with `last`
 * (kernel/unit-rows.ts: a row adds its unit sum to B when the row is next touched by a later unit, or
 * at the end of the pass).
 */
import { foldUnitRows } from '../../kernel/unit-rows.js';

/**
 * Samples per unit. A unit costs one k×k merge plus one k-vector add per row it touches (at most
 * min(m, its nonzeros)); 4096 keeps that at ~2.5 % of the AHᵀ scatter on the synthetic 20000 × 5000
 * matrix (1024: ~10 %). One-thread 'fast' pass, process CPU ms, before → after (bench/README.md, pass-time).
 */
export const UNIT_SAMPLES = 4096;

export interface UnitSums {
  /** The open unit (−1: none). */
  unit: number;
  /** Its HHᵀ (upper triangle), hSum and ‖A‖², from zero. */
  readonly S: Float64Array;
  readonly hSum: Float64Array;
  normA2: number;
  /** m×k: each row's sum over its last unit `last[i]` (not yet in B); −1: none. */
  readonly Bu: Float64Array;
  readonly last: Int32Array;
}

export function makeUnitSums(m: number, k: number, shared?: { readonly Bu: Float64Array; readonly last: Int32Array }): UnitSums {
  const last = shared?.last ?? new Int32Array(m);
  last.fill(-1);
  return { unit: -1, S: new Float64Array(k * k), hSum: new Float64Array(k), normA2: 0, Bu: shared?.Bu ?? new Float64Array(m * k), last };
}

/** The pass totals a unit is folded into. */
export interface PassTotals {
  readonly S: Float64Array;
  readonly hSum: Float64Array;
  normA2: number;
  readonly B: Float64Array;
  readonly units: UnitSums;
}

/** The unit of global sample j. */
export const unitOf = (j: number): number => Math.floor(j / UNIT_SAMPLES);

/** Calls visit(unit, j0, j1) for the pieces of chunk columns [0, n) (global start colStart) that lie in one unit. */
export function forEachUnit(colStart: number, n: number, visit: (unit: number, j0: number, j1: number) => void): void {
  for (let j0 = 0; j0 < n;) {
    const unit = unitOf(colStart + j0);
    const j1 = Math.min(n, (unit + 1) * UNIT_SAMPLES - colStart);
    visit(unit, j0, j1);
    j0 = j1;
  }
}

/** Makes `unit` the open unit: the previous one (if another) is added to the totals, the new one starts at zero. */
export function openUnit(totals: PassTotals, unit: number): UnitSums {
  const u = totals.units;
  if (u.unit === unit) return u;
  closeUnit(totals);
  u.S.fill(0);
  u.hSum.fill(0);
  u.normA2 = 0;
  u.unit = unit;
  return u;
}

/** The open unit's HHᵀ, hSum and ‖A‖² added to the totals (AHᵀ rows stay pending: foldUnits). */
export function closeUnit(totals: PassTotals): void {
  const u = totals.units;
  if (u.unit < 0) return;
  const { S, hSum } = totals;
  for (let q = 0; q < S.length; q++) S[q] = S[q]! + u.S[q]!;
  for (let a = 0; a < hSum.length; a++) hSum[a] = hSum[a]! + u.hSum[a]!;
  totals.normA2 += u.normA2;
  u.unit = -1;
}

/** Everything into the totals: the open unit and every row's pending AHᵀ sum (end of a pass). */
export function foldUnits(totals: PassTotals, m: number, k: number): void {
  closeUnit(totals);
  foldUnitRows(k, totals.B, totals.units.Bu, totals.units.last, 0, m);
}

/** No unit open, no row pending (the start of a pass, or totals replaced). */
export function resetUnits(units: UnitSums): void {
  units.unit = -1;
  units.last.fill(-1);
}

/** The open unit and pending rows as checkpoint numbers and arrays (a mid-pass checkpoint, model/l2/engine.ts). */
export function exportUnits(units: UnitSums): { numbers: Record<string, number>; arrays: Record<string, Float64Array> } {
  return {
    numbers: { unit: units.unit, unitNormA2: units.normA2 },
    arrays: { unitS: units.S.slice(), unitHSum: units.hSum.slice(), unitB: units.Bu.slice(), unitRows: Float64Array.from(units.last) },
  };
}

/** Back from exportUnits's numbers and arrays (absent in a checkpoint without an open unit: none). */
export function importUnits(units: UnitSums, saved: { readonly numbers: Readonly<Record<string, number>>; readonly arrays: Readonly<Record<string, Float64Array>> }): void {
  const { unitS, unitHSum, unitB, unitRows } = saved.arrays;
  resetUnits(units);
  if (!unitS || !unitHSum || !unitB || !unitRows || unitB.length !== units.Bu.length || unitRows.length !== units.last.length) return;
  units.S.set(unitS); units.hSum.set(unitHSum); units.Bu.set(unitB);
  for (let i = 0; i < unitRows.length; i++) units.last[i] = unitRows[i]!;
  units.unit = saved.numbers.unit ?? -1;
  units.normA2 = saved.numbers.unitNormA2 ?? 0;
}
