/**
 * The cluster's wire form of a unit's PassStats and its pass sum (cluster/stats-codec.ts) give the bytes of
 * passStatsToIPC / mergePassStats (model/l2/pass-stats.ts) whatever the order the units arrive in.
 */
import { describe, expect, it } from 'vitest';
import { blockCount, equalBlocks, ownerOf } from '../src/cluster/dispatch.js';
import { decodeStats, encodeStats, makeStatsSum } from '../src/cluster/stats-codec.js';
import { ClusterError } from '../src/errors.js';
import { makeL2Engine } from '../src/model/l2/engine.js';
import { mergePassStats, passStatsToIPC, unitPassStats, type PassStats } from '../src/model/l2/pass-stats.js';
import { UNIT_SAMPLES } from '../src/model/l2/units.js';
import { resolveOptions, withSolver } from '../src/options.js';
import { splitColumns } from '../src/source/from-csc.js';
import { seededSparse } from './helpers/seeded-sparse.js';

describe('cluster/stats-codec.ts', () => {
  it('encode/decode round-trips, and the sum of units in any order is mergePassStats\'s bytes', () => {
    // 300 features, 4 units: sparse enough that units touch different rows
    const A = seededSparse(300, 3 * UNIT_SAMPLES + 100, 0.004, 9);
    const options = { rank: 3, seed: 2, solver: 'fast' } as const;
    const resolved = withSolver(resolveOptions(options), options);
    const engine = makeL2Engine(A.m, resolved, { sourceName: 'units', featureNames: undefined, threads: 1 });
    engine.beginPass();
    const units = splitColumns(A, UNIT_SAMPLES).map((chunk) => unitPassStats(engine.state, chunk, resolved, 'units'));
    const ipc = (s: PassStats): Buffer => Buffer.from(passStatsToIPC(s));
    for (const u of units) expect(ipc(decodeStats(encodeStats(u), 'unit')).equals(ipc(u))).toBe(true);
    expect(units.some((u) => u.ranges[0]!.rows.length < A.m)).toBe(true);
    const merged = units.reduce(mergePassStats, { m: A.m, k: 3, ranges: [] });
    for (const order of [[0, 1, 2, 3], [3, 1, 0, 2], [2, 3, 1, 0]]) {
      const sum = makeStatsSum(A.m, 3, units.length);
      for (const u of order) { expect(sum.complete).toBe(false); sum.add(decodeStats(encodeStats(units[u]!), `unit ${u}`)); }
      expect(sum.complete).toBe(true);
      expect(ipc(sum.result()).equals(ipc(merged))).toBe(true);
    }
    // the prefix chain (cluster/prefix-chain.ts): blocks of consecutive units, each continuing the stored prefix before it
    for (const cuts of [[[0, 1], [1, 2], [2, 4]], [[0, 3], [3, 4]], [[0, 2], [2, 3], [3, 4]], [[0, 4]]]) {
      let prefix: PassStats | undefined;
      for (const [a, b] of cuts as [number, number][]) {
        const sum = makeStatsSum(A.m, 3, units.length, prefix);
        for (let u = a; u < b; u++) sum.add(units[u]!);
        prefix = decodeStats(encodeStats(sum.result(b >= units.length)), `prefix ${b}`);
      }
      expect({ cuts, same: ipc(prefix!).equals(ipc(merged)) }).toEqual({ cuts, same: true });
    }
    expect(() => makeStatsSum(A.m, 3, units.length, units[1]!)).toThrow(ClusterError); // a seed must start at unit 0
    const twice = makeStatsSum(A.m, 3, units.length);
    twice.add(units[1]!);
    expect(() => twice.add(units[1]!)).toThrow(ClusterError);
    engine.close();
  });
});

describe('cluster/dispatch.ts equalBlocks', () => {
  it('cuts the units into consecutive blocks of nearly equal size, as many as asked (at most one per unit)', () => {
    for (const [units, count] of [[49, 4], [49, 2], [49, 6], [1, 2], [5, 8], [4883, 400], [3, 3]] as const) {
      const blocks = equalBlocks(units, count);
      expect(blocks.length).toBe(Math.min(units, count));
      expect(blocks[0]![0]).toBe(0);
      expect(blocks.at(-1)![1]).toBe(units);
      const sizes = blocks.map(([a, b]) => b - a);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      blocks.forEach(([a], i) => { if (i > 0) expect(a).toBe(blocks[i - 1]![1]); });
    }
    expect(equalBlocks(49, 4)).toEqual([[0, 12], [12, 24], [24, 36], [36, 49]]);
  });
});

describe('cluster/dispatch.ts blockCount and ownerOf', () => {
  it('one block per worker while a block\'s unit statistics fit the bound, else a multiple of the workers below it', () => {
    // the bench matrix: 49 units of 20000 × 10 × 8 bytes (1.6 MB each) — one block per worker
    expect([1, 2, 3].map((w) => blockCount(49, w, 20000, 10))).toEqual([1, 2, 3]);
    // 1 M features × k 50 (400 MB a unit): one unit per block
    expect(blockCount(49, 2, 1_000_000, 50)).toBe(50);
    for (const [units, workers, bytes] of [[10, 2, 120], [49, 3, 400], [7, 4, 40]] as const) {
      const count = blockCount(units, workers, 5, 1, bytes);
      expect(count % workers).toBe(0);
      const perBlock = Math.floor(bytes / 40);
      expect(Math.ceil(units / Math.min(units, count))).toBeLessThanOrEqual(Math.max(perBlock, Math.ceil(units / workers)));
    }
  });

  it('gives each worker a run of consecutive blocks, the runs in worker order and of nearly equal length', () => {
    for (const [count, workers] of [[4, 2], [6, 3], [7, 2], [3, 3], [2, 1]] as const) {
      const owners = Array.from({ length: count }, (_, i) => ownerOf(i, count, workers));
      expect(owners).toEqual([...owners].sort((a, b) => a - b));
      expect(new Set(owners).size).toBe(Math.min(count, workers));
      const runs = Array.from({ length: workers }, (_, w) => owners.filter((o) => o === w).length);
      expect(Math.max(...runs) - Math.min(...runs)).toBeLessThanOrEqual(1);
    }
    expect(Array.from({ length: 4 }, (_, i) => ownerOf(i, 4, 2))).toEqual([0, 0, 1, 1]);
  });
});
