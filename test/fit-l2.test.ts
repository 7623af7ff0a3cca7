import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { fit, fitModel } from '../src/pipeline/fit.js';
import { fromCsc, fromDense, type CscMatrix } from '../src/source/from-csc.js';
import { makeRandom } from '../src/kernel/random.js';
import type { Snapshot } from '../src/snapshot/snapshot.js';
import { cscToDense, denseAls } from './reference/dense-als.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';

function randomW(m: number, k: number, seed: number): Float64Array {
  const rnd = makeRandom(seed);
  return Float64Array.from({ length: m * k }, () => rnd.uniform());
}

async function snapshots(source: ReturnType<typeof fromCsc>, options: Parameters<typeof fit>[1]): Promise<Snapshot[]> {
  return await lastValueFrom(fit(source, options).pipe(toArray()));
}

/** Mean cosine similarity between distinct columns of a row-major m×k W. */
function meanCosine(W: Float64Array, m: number, k: number): number {
  let total = 0, pairs = 0;
  for (let a = 0; a < k; a++) for (let c = a + 1; c < k; c++) {
    let ab = 0, aa = 0, cc = 0;
    for (let i = 0; i < m; i++) { const x = W[i * k + a]!, y = W[i * k + c]!; ab += x * y; aa += x * x; cc += y * y; }
    if (aa > 0 && cc > 0) { total += ab / Math.sqrt(aa * cc); pairs++; }
  }
  return total / pairs;
}

/** A = W·H with W (m×r) and H (r×n) nonnegative and sparse, so the factors are identifiable. */
function planted(m: number, n: number, r: number, seed: number): { A: CscMatrix; W: Float64Array } {
  const rnd = makeRandom(seed);
  const W = Float64Array.from({ length: m * r }, () => (rnd.uniform() < 0.5 ? 0 : rnd.uniform()));
  for (let a = 0; a < r; a++) W[a * r + a] = 1; // each factor owns an anchor feature
  const H = Float64Array.from({ length: r * n }, () => (rnd.uniform() < 0.5 ? 0 : rnd.uniform()));
  const dense = new Float64Array(m * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) {
    let s = 0;
    for (let a = 0; a < r; a++) s += W[i * r + a]! * H[a * n + j]!;
    dense[j * m + i] = s;
  }
  return { A: fromDense(dense, m, n).matrix, W };
}

describe('least-squares fit', () => {
  for (const name of ['pbmc_small', 'hawaiibirds', 'aml']) {
    it(`matches a dense exact ALS iteration by iteration (1e-6 relative) on ${name}`, async () => {
      const A = loadSharedMtx(name);
      const k = name === 'pbmc_small' ? 5 : 4;
      const W0 = randomW(A.m, k, 3);
      const iterations = 6;
      const ours = await snapshots(fromCsc(A, { chunkSize: 97 }), { rank: k, init: { W: W0 }, maxIterations: iterations, tol: 0, solver: 'exact' });
      const ref = denseAls(cscToDense(A.m, A.n, A.colPtr, A.rowIdx, A.values), A.m, A.n, W0, k, iterations);
      const perIteration = ours.filter((s) => !s.final);
      expect(perIteration.map((s) => s.iteration)).toEqual([1, 2, 3, 4, 5, 6]);
      perIteration.forEach((s, t) => expect(Math.abs(s.relativeLoss - ref.losses[t]!) / ref.losses[t]!).toBeLessThan(1e-6));
    });
  }

  it('matches the dense ALS with L1 and L2 penalties on both factors', async () => {
    const A = loadSharedMtx('pbmc_small');
    const W0 = randomW(A.m, 4, 5);
    const ours = await snapshots(fromCsc(A), { rank: 4, init: { W: W0 }, maxIterations: 4, tol: 0, l1: [0.05, 0.1], l2: [0.2, 0.01], solver: 'exact' });
    const ref = denseAls(cscToDense(A.m, A.n, A.colPtr, A.rowIdx, A.values), A.m, A.n, W0, 4, 4, [0.05, 0.1], [0.2, 0.01]);
    ours.filter((s) => !s.final).forEach((s, t) => expect(Math.abs(s.relativeLoss - ref.losses[t]!) / ref.losses[t]!).toBeLessThan(1e-6));
  });

  it('keeps W, d and H nonnegative, W and H with unit sums, and the loss never increases without penalties', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const all = await snapshots(fromCsc(A, { chunkSize: 200 }), { rank: 6, seed: 11, maxIterations: 25, tol: 0, keepH: true, solver: 'exact' });
    const losses = all.filter((s) => !s.final).map((s) => s.relativeLoss);
    for (let t = 1; t < losses.length; t++) expect(losses[t]!).toBeLessThanOrEqual(losses[t - 1]! * (1 + 1e-12));
    const final = all.at(-1)!;
    expect(final.final).toBe(true);
    expect(final.W.every((v) => v >= 0) && final.d.every((v) => v >= 0) && final.H!.every((v) => v >= 0)).toBe(true);
    for (let a = 0; a < 6; a++) {
      let sw = 0, sh = 0;
      for (let i = 0; i < A.m; i++) sw += final.W[i * 6 + a]!;
      for (let j = 0; j < A.n; j++) sh += final.H![a * A.n + j]!;
      expect(sw).toBeCloseTo(1, 12);
      expect(sh).toBeCloseTo(1, 12);
    }
    for (let a = 1; a < 6; a++) expect(final.d[a]!).toBeLessThanOrEqual(final.d[a - 1]!);
  });

  it('gives the same bytes for one chunk and for many chunks (sums run in the same order)', async () => {
    const A = loadSharedMtx('movielens');
    const one = await fitModel(fromCsc(A), { rank: 5, seed: 2, maxIterations: 5, tol: 0, keepH: true });
    for (const chunkSize of [1, 37, 500]) {
      const many = await fitModel(fromCsc(A, { chunkSize }), { rank: 5, seed: 2, maxIterations: 5, tol: 0, keepH: true });
      expect(Buffer.from(many.W.buffer).equals(Buffer.from(one.W.buffer))).toBe(true);
      expect(Buffer.from(many.H!.buffer).equals(Buffer.from(one.H!.buffer))).toBe(true);
      expect(many.relativeLoss).toBe(one.relativeLoss);
    }
  });

  it('gives the same bytes for the same seed and a different model for another seed', async () => {
    const A = loadSharedMtx('pbmc_small');
    const a = await fitModel(fromCsc(A), { rank: 3, seed: 9 });
    const b = await fitModel(fromCsc(A), { rank: 3, seed: 9 });
    const c = await fitModel(fromCsc(A), { rank: 3, seed: 10 });
    expect(Buffer.from(a.W.buffer).equals(Buffer.from(b.W.buffer))).toBe(true);
    expect(Buffer.from(a.W.buffer).equals(Buffer.from(c.W.buffer))).toBe(false);
  });

  it('recovers planted factors of an exactly low-rank matrix', async () => {
    const r = 4;
    const { A, W } = planted(60, 80, r, 1);
    const model = await fitModel(fromCsc(A), { rank: r, seed: 4, tol: 1e-10, maxIterations: 500 });
    expect(model.relativeLoss).toBeLessThan(1e-6);
    // every planted column is matched by a fitted column with cosine similarity > 0.999
    for (let a = 0; a < r; a++) {
      let best = 0;
      for (let c = 0; c < r; c++) {
        let xy = 0, xx = 0, yy = 0;
        for (let i = 0; i < 60; i++) { const x = W[i * r + a]!, y = model.W[i * r + c]!; xy += x * y; xx += x * x; yy += y * y; }
        best = Math.max(best, xy / Math.sqrt(xx * yy));
      }
      expect(best).toBeGreaterThan(0.999);
    }
  });

  it('on hawaiibirds, L1 raises the sparsity of W and L2 raises the mean cosine similarity between factors', async () => {
    const A = loadSharedMtx('hawaiibirds');
    const k = 10;
    const base = { rank: k, maxIterations: 50, tol: 1e-5 } as const;
    let zeros0 = 0, zerosL1 = 0, cos0 = 0, cosL2 = 0;
    for (const seed of [1, 2, 3]) {
      const plain = await fitModel(fromCsc(A), { ...base, seed });
      const sparse = await fitModel(fromCsc(A), { ...base, seed, l1: [0.1, 0] });
      const dense = await fitModel(fromCsc(A), { ...base, seed, l2: [0.2, 0] });
      zeros0 += plain.diagnostics.zerosW; zerosL1 += sparse.diagnostics.zerosW;
      cos0 += meanCosine(plain.W, A.m, k); cosL2 += meanCosine(dense.W, A.m, k);
    }
    expect(zerosL1).toBeGreaterThan(zeros0 * 1.2);
    expect(cosL2).toBeGreaterThan(cos0 * 1.1);
  });
});

describe('least-squares fit without the diagonal (diag: false)', () => {
  it('gives the unpenalised losses of the scaled fit, presents W with unit column sums, and lets L1 act on the unscaled factors', async () => {
    const A = loadSharedMtx('pbmc_small');
    const k = 3;
    const W0 = randomW(A.m, k, 6);
    const all = await snapshots(fromCsc(A), { rank: k, init: { W: W0 }, maxIterations: 5, tol: 0, diag: false, keepH: true, solver: 'exact' });
    const withDiag = await snapshots(fromCsc(A), { rank: k, init: { W: W0 }, maxIterations: 5, tol: 0, keepH: true, solver: 'exact' });
    // Without penalties the scaling does not change the product: the losses agree to rounding.
    all.forEach((s, t) => expect(Math.abs(s.relativeLoss - withDiag[t]!.relativeLoss)).toBeLessThan(1e-9));
    const final = all.at(-1)!;
    for (let a = 0; a < k; a++) {
      let sw = 0;
      for (let i = 0; i < A.m; i++) sw += final.W[i * k + a]!;
      expect(sw).toBeCloseTo(1, 12);
    }
    // With an L1 penalty the two differ: without the diagonal the penalty acts on unscaled factors.
    const l1 = await fitModel(fromCsc(A), { rank: k, init: { W: W0 }, maxIterations: 5, tol: 0, l1: 0.1, diag: false, solver: 'exact' });
    const l1d = await fitModel(fromCsc(A), { rank: k, init: { W: W0 }, maxIterations: 5, tol: 0, l1: 0.1, solver: 'exact' });
    expect(l1.relativeLoss).not.toBe(l1d.relativeLoss);
  });
});
