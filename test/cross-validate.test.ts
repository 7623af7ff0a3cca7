import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { OptionError } from '../src/errors.js';
import { makeRandom } from '../src/kernel/random.js';
import { crossValidate, type CvEvent, type CvTable } from '../src/pipeline/cross-validate.js';
import { cvTable, parseRanks, type CvFit } from '../src/pipeline/cv-table.js';
import { coarseRanks, fitAutoRank } from '../src/pipeline/auto-rank.js';
import { fromDense } from '../src/source/from-csc.js';
import { nmflow } from './helpers/cli.js';

/** A planted rank-r matrix m×n (column-major): sparse nonnegative W and H, plus uniform noise of relative size `noise`, clipped at 0. */
function planted(seed: number, m: number, n: number, r: number, noise: number): Float64Array {
  const rnd = makeRandom(seed);
  const W = Float64Array.from({ length: m * r }, () => (rnd.uniform() < 0.5 ? 0 : rnd.uniform()));
  const H = Float64Array.from({ length: r * n }, () => (rnd.uniform() < 0.5 ? 0 : rnd.uniform()));
  const A = new Float64Array(m * n);
  let mean = 0;
  for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) {
    let s = 0;
    for (let a = 0; a < r; a++) s += W[i * r + a]! * H[a * n + j]!;
    A[j * m + i] = s; mean += s / (m * n);
  }
  for (let p = 0; p < A.length; p++) A[p] = Math.max(0, A[p]! + noise * mean * (2 * rnd.uniform() - 1));
  return A;
}

const tableOf = async (events: Promise<CvEvent[]>): Promise<CvTable> => (await events).find((e): e is CvTable => e.kind === 'table')!;

describe('crossValidate (issue #15)', () => {
  for (const [r, noise] of [[3, 0.05], [3, 0.3], [5, 0.1], [7, 0.2]] as const) {
    it(`the CV curve's minimum is the planted rank ${r} (noise ${noise})`, async () => {
      const m = 80, n = 100;
      const source = fromDense(planted(r * 11 + 1, m, n, r, noise), m, n);
      const events = lastValueFrom(crossValidate(source, { ranks: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], replicates: 2, testFraction: 0.1, maxIterations: 200, tol: 1e-6 }).pipe(toArray()));
      const table = await tableOf(events);
      expect(table.minRank).toBe(r);
      expect(table.bestRank).toBeLessThanOrEqual(r);
      const all = await events;
      // a line per iteration and per fit, then the table
      expect(all.filter((e) => e.kind === 'fit')).toHaveLength(20);
      expect(all.filter((e) => e.kind === 'iteration').every((e) => e.kind === 'iteration' && e.testLoss >= 0 && e.trainLoss >= 0)).toBe(true);
    }, 120_000);
  }

  it('the one-standard-error rule picks the smallest rank within one standard error of the minimum', () => {
    const fit = (rank: number, replicate: number, testLoss: number): CvFit => ({ kind: 'fit', rank, replicate, iterations: 1, trainLoss: 0, testLoss, seconds: 0 });
    const fits = [fit(2, 0, 10), fit(2, 1, 12), fit(3, 0, 5.2), fit(3, 1, 5.6), fit(4, 0, 4.8), fit(4, 1, 5.4), fit(5, 0, 6), fit(5, 1, 6)];
    const t = cvTable(fits, [5, 4, 3, 2], 2, 0.05);
    expect(t.ranks).toEqual([2, 3, 4, 5]);
    expect(t.testLoss).toEqual([11, 5.4, 5.1, 6]);
    expect(t.testLossSe[2]).toBeCloseTo(0.3, 12); // sd 0.4243 / √2
    expect(t.minRank).toBe(4);
    expect(t.bestRank).toBe(3); // 5.4 ≤ 5.1 + 0.3
  });

  it('bad input: ranks above min(m, n), a test fraction outside (0, 1), bad replicates — typed errors naming the option', () => {
    const source = fromDense(planted(1, 6, 9, 2, 0), 6, 9);
    const optionOf = (call: () => unknown): string | undefined => { try { call(); } catch (e) { expect(e).toBeInstanceOf(OptionError); return (e as OptionError).option; } return undefined; };
    expect(optionOf(() => crossValidate(source, { ranks: [2, 7] }))).toBe('ranks');
    expect(optionOf(() => crossValidate(source, { ranks: [] }))).toBe('ranks');
    expect(optionOf(() => crossValidate(source, { ranks: [2], testFraction: 1 }))).toBe('testFraction');
    expect(optionOf(() => crossValidate(source, { ranks: [2], testFraction: 0 }))).toBe('testFraction');
    expect(optionOf(() => crossValidate(source, { ranks: [2], replicates: 0 }))).toBe('replicates');
    expect(parseRanks('2:6')).toEqual([2, 3, 4, 5, 6]);
    expect(parseRanks('2:10:4')).toEqual([2, 6, 10]);
    expect(parseRanks('3,5')).toEqual([3, 5]);
    expect(optionOf(() => parseRanks('5:2'))).toBe('--ranks');
  });

  it('nmflow cv --json: a line per (rank, replicate) and a final line with bestRank, minRank, ranks, testLoss, testLossSe; bad ranks exit 2', async () => {
    const { code, stdout } = await nmflow('cv', '../shared/data/pbmc_small.mtx', '--ranks', '1:3', '--replicates', '2', '--max-iterations', '20', '--json');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(7);
    expect(lines.slice(0, 6).map((l) => [l.rank, l.replicate])).toEqual([[1, 0], [1, 1], [2, 0], [2, 1], [3, 0], [3, 1]]);
    const last = lines[6]!;
    expect(last.done).toBe(true);
    expect(last.ranks).toEqual([1, 2, 3]);
    for (const key of ['testLoss', 'testLossSe', 'trainLoss']) expect((last[key] as number[]).length).toBe(3);
    expect([1, 2, 3]).toContain(last.bestRank);
    expect([1, 2, 3]).toContain(last.minRank);
    const bad = await nmflow('cv', '../shared/data/pbmc_small.mtx', '--ranks', '2:100', '--json');
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stderr.trim()).error.option).toBe('ranks');
  }, 60_000);

  it("rank 'auto' finds the planted rank without fitting every rank, then fits it on all entries", async () => {
    const m = 80, n = 100, r = 6;
    const source = fromDense(planted(r * 11 + 1, m, n, r, 0.1), m, n);
    const rounds: number[][] = [];
    const result = await fitAutoRank(source, { range: [1, 20], replicates: 2, testFraction: 0.1, maxIterations: 200, tol: 1e-6, onRound: (t) => rounds.push([...t.ranks]) });
    expect(coarseRanks(1, 20)).toEqual([1, 6, 11, 15, 20]);
    expect(result.table.minRank).toBe(r);
    expect(result.rank).toBeLessThanOrEqual(r);
    expect(result.rank).toBeGreaterThanOrEqual(r - 2);
    expect(result.table.ranks.length).toBeLessThan(12);
    expect(result.model.rank).toBe(result.rank);
    expect(result.model.testLoss).toBeUndefined();
  }, 120_000);

  it('the report plots train/test loss against rank with the chosen rank marked (nmflow report --cv)', async () => {
    const { buildReport } = await import('../src/report/build-report.js');
    const fit = (rank: number, replicate: number, testLoss: number): CvFit => ({ kind: 'fit', rank, replicate, iterations: 1, trainLoss: testLoss / 2, testLoss, seconds: 0 });
    const table = cvTable([fit(1, 0, 3), fit(1, 1, 3.2), fit(2, 0, 2), fit(2, 1, 2.1), fit(3, 0, 2.05), fit(3, 1, 2.2)], [1, 2, 3], 2, 0.05);
    const html = await buildReport([], { cv: table });
    expect(html).toContain('Choosing the rank');
    expect(html).toContain('chosen rank 2');
    expect(html.match(/<svg/g)).toHaveLength(1);
  }, 60_000);
});
