/**
 * A unit's PassStats on the wire, and their sum on the coordinator, both cheaper than the general forms they
 * equal (model/l2/pass-stats.ts): on the synthetic 20000 × 200000 matrix Arrow IPC took ~30 ms per unit to write
 * and mergePassStats ~20 ms per unit (a dense m×k copy per merge), against ~70 ms to solve the unit.
 * - encodeStats / decodeStats: a little-endian header (m, k, ranges; per range first, end, rows, samples, nnz,
 *   normA2) then the arrays; decoding copies once. A sum's result of every row is encoded in place (no copy).
 * - makeStatsSum: the totals of a pass, entry by entry prefix + next in unit order — the additions appendRange
 *   makes (a row absent from a unit adds nothing), so the same bytes (test/cluster-stats.test.ts) — with one
 *   dense AHᵀ for the whole pass, rows added as runs of consecutive rows (kernel/row-runs.ts: a unit of that
 *   matrix is one or a few runs); units that arrive early wait until the units before them are in.
 */
import { ClusterError } from '../errors.js';
import { addRows, gatherRows, scatterRows } from '../kernel/row-runs.js';
import type { PassStats, UnitRange } from '../model/l2/pass-stats.js';

/**
 * Buffers laid out as the encoding of one range of m rows (makeStatsSum's: its S, hSum, B and, when every row is
 * touched, its result's rows sit where encodeStats would copy them), so that such a result is encoded in place.
 */
const wireBuffers = new WeakSet<ArrayBuffer>();
/** The byte offsets in the encoding of one range of `rows` rows: the floats (samples, nnz, normA2, S, hSum, B), the rows, the end. */
const oneRange = (k: number, rows: number): { floats: number; ints: number; bytes: number } => {
  const floats = 32, ints = floats + (3 + k * k + k + rows * k) * 8; // a header of 7 ints, padded to 8 bytes
  return { floats, ints, bytes: ints + rows * 4 };
};

export function encodeStats(stats: PassStats): Uint8Array {
  const { m, k, ranges } = stats;
  const one = ranges.length === 1 ? ranges[0]! : undefined;
  if (one !== undefined && wireBuffers.has(one.B.buffer as ArrayBuffer)) {
    const buffer = one.B.buffer as ArrayBuffer, at = oneRange(k, one.rows.length);
    const inPlace = buffer.byteLength === at.bytes && [one.S, one.hSum, one.B, one.rows].every((a) => a.buffer === buffer)
      && one.S.byteOffset === at.floats + 24 && one.hSum.byteOffset === one.S.byteOffset + k * k * 8
      && one.B.byteOffset === one.hSum.byteOffset + k * 8 && one.rows.byteOffset === at.ints;
    if (inPlace) {
      new Int32Array(buffer, 0, 6).set([m, k, 1, one.first, one.end, one.rows.length]); // (int 6 and the padding stay 0)
      new Float64Array(buffer, at.floats, 3).set([one.samples, one.nnz, one.normA2]);
      return new Uint8Array(buffer);
    }
  }
  const head = 3 + ranges.length * 4;
  let floats = 0, ints = 0;
  for (const r of ranges) { floats += 3 + k * k + k + r.rows.length * k; ints += r.rows.length; }
  const headBytes = Math.ceil((head * 4) / 8) * 8;
  const out = new ArrayBuffer(headBytes + floats * 8 + ints * 4);
  const h = new Int32Array(out, 0, head);
  h[0] = m; h[1] = k; h[2] = ranges.length;
  const f = new Float64Array(out, headBytes, floats);
  const i32 = new Int32Array(out, headBytes + floats * 8, ints);
  let fo = 0, io = 0;
  ranges.forEach((r, q) => {
    h.set([r.first, r.end, r.rows.length, 0], 3 + q * 4);
    f[fo++] = r.samples; f[fo++] = r.nnz; f[fo++] = r.normA2;
    f.set(r.S, fo); fo += k * k;
    f.set(r.hSum, fo); fo += k;
    f.set(r.B, fo); fo += r.B.length;
    i32.set(r.rows, io); io += r.rows.length;
  });
  return new Uint8Array(out);
}

/** The statistics in `bytes`: views of its buffer when it is 8-byte aligned and not a pooled Buffer (no copy), else of a copy. */
export function decodeStats(bytes: Uint8Array, what: string): PassStats {
  const own = bytes.byteOffset % 8 === 0 && !Buffer.isBuffer(bytes);
  const buffer = own ? bytes.buffer : new ArrayBuffer(bytes.length);
  const at = own ? bytes.byteOffset : 0;
  if (!own) new Uint8Array(buffer).set(bytes);
  try {
    const [m, k, count] = new Int32Array(buffer, at, 3) as unknown as [number, number, number];
    const head = 3 + count * 4;
    const h = new Int32Array(buffer, at, head);
    const headBytes = Math.ceil((head * 4) / 8) * 8;
    let floats = 0;
    for (let q = 0; q < count; q++) floats += 3 + k * k + k + h[3 + q * 4 + 2]! * k;
    const f = new Float64Array(buffer, at + headBytes, floats);
    const i32 = new Int32Array(buffer, at + headBytes + floats * 8, (bytes.length - headBytes - floats * 8) / 4);
    const ranges: UnitRange[] = [];
    let fo = 0, io = 0;
    for (let q = 0; q < count; q++) {
      const rows = h[3 + q * 4 + 2]!;
      const samples = f[fo++]!, nnz = f[fo++]!, normA2 = f[fo++]!;
      const S = f.subarray(fo, fo += k * k), hSum = f.subarray(fo, fo += k), B = f.subarray(fo, fo += rows * k);
      ranges.push({ first: h[3 + q * 4]!, end: h[3 + q * 4 + 1]!, samples, nnz, normA2, S, hSum, B, rows: i32.subarray(io, io += rows) });
    }
    return { m, k, ranges };
  } catch (error) {
    throw new ClusterError(what, `${what} is not a unit's statistics (${bytes.length} bytes)`, error);
  }
}

/** The pass totals of units added in any order (each once); `result` when all `units` are in. */
export interface StatsSum {
  add(stats: PassStats): void;
  readonly complete: boolean;
  /**
   * The sum as one range from unit 0. `single` (default true): a sum of one unit is that unit as it is
   * (mergePassStats of a one-unit pass); false: always the additions from zero, the form a prefix that later
   * units continue (`seed`) must have to give the bytes of one sum over all the units.
   * Its S, hSum (and B when every row is touched) are the sum's own arrays: add nothing after `result`.
   */
  result(single?: boolean): PassStats;
}

/**
 * `seed`: the sum of units [0, a) as `result(false)` gave it (one range from unit 0): the totals continue from it
 * with unit a — the additions, entry by entry, of one sum from unit 0 (the prefix chain of cluster/prefix-chain.ts).
 */
export function makeStatsSum(m: number, k: number, units: number, seed?: PassStats): StatsSum {
  // S, hSum and B where the encoding of one range of m rows has them: a result of every row is its own encoding
  const at = oneRange(k, m), wire = new ArrayBuffer(at.bytes);
  wireBuffers.add(wire);
  const S = new Float64Array(wire, at.floats + 24, k * k), hSum = new Float64Array(wire, S.byteOffset + k * k * 8, k);
  const B = new Float64Array(wire, hSum.byteOffset + k * 8, m * k), touched = new Int32Array(m);
  let normA2 = 0, nnz = 0, samples = 0, next = 0, added = 0;
  let only: UnitRange | undefined;
  const start = seed?.ranges[0];
  if (seed !== undefined) {
    if (start === undefined || seed.ranges.length !== 1 || start.first !== 0 || seed.m !== m || seed.k !== k) {
      throw new ClusterError('statistics', `a prefix of the pass statistics must be one range from unit 0 of ${m}×${k}`);
    }
    scatterRows(B, touched, start.rows, start.B, k);
    S.set(start.S); hSum.set(start.hSum);
    normA2 = start.normA2; nnz = start.nnz; samples = start.samples; next = start.end; added = 2;
  }
  const waiting = new Map<number, UnitRange>();
  const append = (r: UnitRange): void => {
    only = added++ === 0 ? r : undefined;
    addRows(B, touched, r.rows, r.B, k);
    for (let q = 0; q < S.length; q++) S[q] = S[q]! + r.S[q]!;
    for (let a = 0; a < k; a++) hSum[a] = hSum[a]! + r.hSum[a]!;
    normA2 += r.normA2; nnz += r.nnz; samples = Math.max(samples, r.samples);
    next = r.end;
  };
  return {
    add(stats) {
      if (stats.m !== m || stats.k !== k) throw new ClusterError('statistics', `a unit's statistics of ${stats.m}×${stats.k}, not ${m}×${k}`);
      for (const r of stats.ranges) {
        if (r.first < next || waiting.has(r.first)) throw new ClusterError('statistics', `unit ${r.first} arrived twice`);
        waiting.set(r.first, r);
      }
      for (let r = waiting.get(next); r !== undefined; r = waiting.get(next)) { waiting.delete(r.first); append(r); }
    },
    get complete() { return next >= units && waiting.size === 0; },
    result(single = true) {
      if (single && only !== undefined) return { m, k, ranges: [only] }; // one unit: mergePassStats keeps it as it is
      const totals = { first: 0, end: next, samples, nnz, normA2, S, hSum };
      let all = true;
      for (let i = 0; i < m && all; i++) all = touched[i] === 1;
      if (!all) return { m, k, ranges: [{ ...totals, ...gatherRows(B, touched, 1, k) }] };
      // every row touched (the usual case): B is its own compact form, no copy (and encodeStats copies nothing)
      const rows = new Int32Array(wire, at.ints, m);
      for (let i = 0; i < m; i++) rows[i] = i;
      return { m, k, ranges: [{ ...totals, rows, B }] };
    },
  };
}
