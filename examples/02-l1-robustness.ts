// 02 — Robustness of L1-NMF. A planted rank-5 nonnegative matrix (200 × 150, factors with about half
// of their entries zero) is observed with Laplace(0, 0.01) noise (clipped at 0) and salt outliers:
// 5% of the entries are replaced by a large value, uniform in [s, 2s] × the clean maximum, for
// s = 1 and s = 5. We fit least squares (loss 'l2') and L1-NMF (loss 'l1', λ = 1, default start:
// 10 least-squares warm-up iterations) with rank 5 and the same seeds, and measure the error to the
// CLEAN matrix X: relative Frobenius ‖X − WDH‖_F / ‖X‖_F and relative L1 Σ|X − WDH| / ΣX.
// Expected: l1 ignores the outliers and recovers X to the noise level, l2 bends towards them. With
// s = 5 the warm-up start is badly skewed and sCD sometimes stops in a poorer local minimum.
// Run: npx tsx examples/02-l1-robustness.ts   (about 10 s)
import { fitModel, fromDense, makeRandom, type Loss, type Model, type Random } from '../src/index.js';

const m = 200, n = 150, r = 5, outlierRate = 0.05, noise = 0.01, scales = [1, 5], seeds = [1, 2, 3, 4, 5];

/** Laplace(0, b): an exponential with a random sign. */
const laplace = (rng: Random, b: number): number => (rng.uniform() < 0.5 ? -1 : 1) * b * -Math.log(1 - rng.uniform());

/** Dense row-major product W diag(d) H of a fitted model. */
function reconstruct(model: Model): Float64Array {
  const { W, d, H, rank: k } = model;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let a = 0; a < k; a++) {
      const w = W[i * k + a]! * d[a]!;
      if (w !== 0) for (let j = 0; j < n; j++) out[i * n + j]! += w * H![a * n + j]!;
    }
  }
  return out;
}

/** Relative Frobenius and relative L1 error of `fit` against the clean matrix. */
function errors(clean: Float64Array, fit: Float64Array): [number, number] {
  let sq = 0, sqX = 0, abs = 0, absX = 0;
  for (let p = 0; p < clean.length; p++) {
    const e = clean[p]! - fit[p]!;
    sq += e * e; sqX += clean[p]! ** 2; abs += Math.abs(e); absX += clean[p]!;
  }
  return [Math.sqrt(sq / sqX), abs / absX];
}

console.log('outliers  seed | l2: rel. Frobenius  rel. L1 | l1: rel. Frobenius  rel. L1');
const cell = (e: readonly number[]) => `${e[0]!.toFixed(4).padStart(17)}  ${e[1]!.toFixed(4).padStart(7)}`;
for (const s of scales) {
  const sums: Record<Loss, [number, number]> = { l2: [0, 0], l1: [0, 0] };
  for (const seed of seeds) {
    const rng = makeRandom(seed);
    const factor = (len: number) => Float64Array.from({ length: len }, () => (rng.uniform() < 0.5 ? 0 : rng.uniform()));
    const W = factor(m * r), H = factor(r * n);
    const clean = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let a = 0; a < r; a++) for (let j = 0; j < n; j++) clean[i * n + j]! += W[i * r + a]! * H[a * n + j]!;
    const max = clean.reduce((x, y) => Math.max(x, y), 0);
    const observed = clean.map((x) => (rng.uniform() < outlierRate ? max * s * (1 + rng.uniform()) : Math.max(0, x + laplace(rng, noise))));
    const source = fromDense(observed, m, n, { layout: 'row' });
    const line: string[] = [];
    for (const loss of ['l2', 'l1'] as const) {
      const model = await fitModel(source, { rank: r, loss, seed, keepH: true, maxIterations: loss === 'l2' ? 200 : 100 });
      const e = errors(clean, reconstruct(model));
      sums[loss][0] += e[0] / seeds.length; sums[loss][1] += e[1] / seeds.length;
      line.push(cell(e));
    }
    console.log(`${`×[${s}, ${2 * s}]`.padEnd(8)}  ${String(seed).padStart(4)} | ${line.join(' | ')}`);
  }
  console.log(`${`×[${s}, ${2 * s}]`.padEnd(8)}  mean | ${cell(sums.l2)} | ${cell(sums.l1)}`);
}
