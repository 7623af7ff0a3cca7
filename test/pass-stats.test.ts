import { describe, expect, it } from 'vitest';
import { makeRandom, type Random } from '../src/kernel/random.js';
import { makeL2Engine } from '../src/model/l2/engine.js';
import {
  mergePassStats, passStatsFromIPC, passStatsToIPC, unitPassStats, usePassStats, type PassStats,
} from '../src/model/l2/pass-stats.js';
import { UNIT_SAMPLES } from '../src/model/l2/units.js';
import { resolveOptions, withSolver, type FitOptions } from '../src/options.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromCsc, splitColumns } from '../src/source/from-csc.js';
import { seededSparse } from './helpers/seeded-sparse.js';

const same = (a: Float64Array, b: Float64Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random.uniform() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const A = seededSparse(50, 2 * UNIT_SAMPLES + 500, 0.06, 3); // 3 units, the last one partial
const base = { rank: 4, seed: 5, maxIterations: 5, tol: 0, threads: 1 } as const;

/**
 * The fit with every pass's units computed one by one in a shuffled order, each unit's statistics serialised
 * (Arrow IPC), dealt to `workers` simulated workers that merge what they get in the order it arrives and send
 * their merged statistics back serialised, merged again in a shuffled order, then the end of the pass.
 */
function fitByUnits(options: FitOptions, workers: number, random: Random): { W: Float64Array; d: Float64Array; losses: number[] } {
  const resolved = withSolver(resolveOptions(options), options);
  const engine = makeL2Engine(A.m, resolved, { sourceName: 'units', featureNames: undefined, threads: 1 });
  const units = splitColumns(A, UNIT_SAMPLES);
  const empty: PassStats = { m: A.m, k: resolved.rank, ranges: [] };
  const losses: number[] = [];
  let summary;
  for (let pass = 0; pass < resolved.maxIterations; pass++) {
    engine.beginPass();
    const pieces = shuffled(units, random).map((chunk) => passStatsToIPC(unitPassStats(engine.state, chunk, resolved, 'units')));
    const sent = Array.from({ length: workers }, (_, w) =>
      passStatsToIPC(pieces.filter((_, p) => p % workers === w).map(passStatsFromIPC).reduce(mergePassStats, empty)));
    usePassStats(engine.state, shuffled(sent, random).map(passStatsFromIPC).reduce(mergePassStats, empty));
    summary = engine.endPass(0).summary!;
    losses.push(summary.relativeLoss);
  }
  const model = engine.snapshot(summary!, true, []);
  engine.close();
  return { W: model.W, d: model.d, losses };
}

describe('pass statistics in the canonical order (model/l2/units.ts, model/l2/pass-stats.ts)', () => {
  for (const solver of ['exact', 'fast'] as const) {
    it(`${solver}: units computed apart, serialised, shuffled and merged on 1–3 simulated workers give the plain fit's bytes`, async () => {
      const plain = await fitModel(fromCsc(A, { chunkSize: 3000 }), { ...base, solver });
      const random = makeRandom(11);
      for (const workers of [1, 2, 3]) {
        const byUnits = fitByUnits({ ...base, solver }, workers, random);
        expect({ workers, losses: byUnits.losses }).toEqual({ workers, losses: plain.trace.map((t) => t.relativeLoss) });
        expect(same(byUnits.W, plain.W) && same(byUnits.d, plain.d)).toBe(true);
      }
    });

    it(`${solver}: one thread and the worker pool give the same bytes for any chunk size across units`, async () => {
      const one = await fitModel(fromCsc(A), { ...base, solver, keepH: true });
      for (const [threads, chunkSize] of [[1, 1333], [1, UNIT_SAMPLES], [2, 2000], [3, 5000]] as const) {
        const other = await fitModel(fromCsc(A, { chunkSize }), { ...base, solver, threads, keepH: true });
        expect({ threads, chunkSize, losses: other.trace.map((t) => t.relativeLoss) })
          .toEqual({ threads, chunkSize, losses: one.trace.map((t) => t.relativeLoss) });
        expect(same(other.W, one.W) && same(other.d, one.d) && same(other.H!, one.H!)).toBe(true);
      }
    });
  }

  it('merging is order- and grouping-free, survives Arrow IPC, and refuses a unit given twice', () => {
    const resolved = withSolver(resolveOptions({ ...base, solver: 'exact' }), { ...base, solver: 'exact' });
    const engine = makeL2Engine(A.m, resolved, { sourceName: 'units', featureNames: undefined, threads: 1 });
    engine.beginPass();
    const [u0, u1, u2] = splitColumns(A, UNIT_SAMPLES).map((chunk) => unitPassStats(engine.state, chunk, resolved, 'units')) as [PassStats, PassStats, PassStats];
    const left = mergePassStats(mergePassStats(u0, u1), u2);
    const right = mergePassStats(u0, mergePassStats(u2, u1));
    const bytes = (s: PassStats): Buffer => Buffer.from(passStatsToIPC(s));
    expect(left.ranges.map((r) => [r.first, r.end])).toEqual([[0, 3]]);
    expect(bytes(right).equals(bytes(left))).toBe(true);
    expect(bytes(passStatsFromIPC(passStatsToIPC(left))).equals(bytes(left))).toBe(true);
    // units 1 and 2 alone stay apart until unit 0 arrives: their sum would be another order
    expect(mergePassStats(u2, u1).ranges.map((r) => [r.first, r.end])).toEqual([[1, 2], [2, 3]]);
    expect(() => mergePassStats(left, u1)).toThrow(/unit 1 appears twice/);
    expect(left.ranges[0]!.nnz).toBe(A.colPtr[A.n]);
    engine.close();
  });
});
