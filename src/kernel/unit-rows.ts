/**
 * The canonical order of B = A Hᵀ (model/l2/units.ts): the samples fall into units of a fixed size;
 * each unit sums its own rows from zero in Bu, and a row's unit sums are added to B in unit order.
 *   openUnitRows: before the nonzeros p ∈ [p0, p1) of unit `unit` are scattered into Bu, every row i they
 *                 touch (i ∈ [i0, i1)) that still holds an earlier unit's sum adds it to B (B_i += Bu_i)
 *                 and restarts from zero; last[i] is the unit Bu_i belongs to (−1: none).
 *   foldUnitRows: every row's pending sum into B (the end of a pass), rows [i0, i1).
 * B, Bu m×k row-major (row i at i·k), last length m. Cost O(p1 − p0) plus O(k) per (row, unit).
 * Allocates nothing. The same operations as wasm/fast.ts openUnitRows.
 */
export function openUnitRows(
  rowIdx: Int32Array, p0: number, p1: number, unit: number, k: number,
  B: Float64Array, Bu: Float64Array, last: Int32Array, i0: number, i1: number,
): void {
  for (let p = p0; p < p1; p++) {
    const i = rowIdx[p]!;
    if (i < i0 || i >= i1) continue;
    const seen = last[i]!;
    if (seen === unit) continue;
    const o = i * k;
    if (seen >= 0) for (let a = 0; a < k; a++) B[o + a] = B[o + a]! + Bu[o + a]!;
    for (let a = 0; a < k; a++) Bu[o + a] = 0;
    last[i] = unit;
  }
}

export function foldUnitRows(k: number, B: Float64Array, Bu: Float64Array, last: Int32Array, i0: number, i1: number): void {
  for (let i = i0; i < i1; i++) {
    if (last[i]! < 0) continue;
    const o = i * k;
    for (let a = 0; a < k; a++) B[o + a] = B[o + a]! + Bu[o + a]!;
    last[i] = -1;
  }
}
