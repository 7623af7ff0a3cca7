// 03 — False zeros and the weight λ of weighted L1-NMF, after the matrix-completion experiment of
// arXiv 2603.29715: m = 100, n = 50, r = 20, W and H with entries U(0, 1), X = max(0, WH + Laplace(0, 0.1)).
// Then 60% of the entries are set to 0: first the 30% smallest entries of X, then 30% of all entries
// chosen uniformly at random among the rest (our choice of the split). We fit loss 'l1' with rank 20
// for λ ∈ {0, 0.01, 0.03, 0.05, 0.1, 1} and report the error to the clean matrix WH on ALL entries:
// relative Frobenius ‖WH − model‖_F / ‖WH‖_F and relative L1 Σ|WH − model| / ΣWH (mean over seeds).
// Each λ is fitted from two starts: the default (10 least-squares warm-up iterations, which fit the
// false zeros) and warmupIterations: 0 (the scaled random start alone); at most 200 iterations, tol 1e-6.
// Expected: a small λ > 0 (zeros may be false) beats λ = 1 (every zero is trusted); λ = 0 leaves the
// zeroed entries unconstrained and can blow up; the warm-up start costs accuracy for λ < 1.
// Run: npx tsx examples/03-l1-false-zeros.ts   (about 25 s)
import { fitModel, fromDense, makeRandom, type Model, type Random } from '../src/index.js';

const m = 100, n = 50, r = 20, b = 0.1, lambdas = [0, 0.01, 0.03, 0.05, 0.1, 1], seeds = [1, 2, 3, 4, 5], warmups = [10, 0];

const laplace = (rng: Random, scale: number): number => (rng.uniform() < 0.5 ? -1 : 1) * scale * -Math.log(1 - rng.uniform());

/** Relative Frobenius and relative L1 error of the model W diag(d) H against the clean matrix. */
function errors(clean: Float64Array, model: Model): [number, number] {
  const { W, d, H, rank: k } = model;
  let sq = 0, sqX = 0, abs = 0, absX = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let a = 0; a < k; a++) v += W[i * k + a]! * d[a]! * H![a * n + j]!;
      const x = clean[i * n + j]!, e = x - v;
      sq += e * e; sqX += x * x; abs += Math.abs(e); absX += x;
    }
  }
  return [Math.sqrt(sq / sqX), abs / absX];
}

/** results[w][l]: per seed [rel. Frobenius, rel. L1, iterations, fraction of zeros in H]. */
const results = warmups.map(() => lambdas.map((): number[][] => []));
for (const seed of seeds) {
  const rng = makeRandom(seed);
  const W = Float64Array.from({ length: m * r }, () => rng.uniform());
  const H = Float64Array.from({ length: r * n }, () => rng.uniform());
  const clean = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let a = 0; a < r; a++) for (let j = 0; j < n; j++) clean[i * n + j]! += W[i * r + a]! * H[a * n + j]!;
  const X = clean.map((x) => Math.max(0, x + laplace(rng, b)));
  const order = Array.from(X.keys()).sort((p, q) => X[p]! - X[q]!);
  const third = Math.round(0.3 * m * n);
  for (const p of order.slice(0, third)) X[p] = 0;
  const rest = order.slice(third);
  for (let t = 0; t < third; t++) { // partial Fisher–Yates: `third` random entries of the rest
    const u = t + Math.floor(rng.uniform() * (rest.length - t));
    [rest[t], rest[u]] = [rest[u]!, rest[t]!];
    X[rest[t]!] = 0;
  }
  const source = fromDense(X, m, n, { layout: 'row' });
  for (const [w, warmupIterations] of warmups.entries()) {
    for (const [l, lambda] of lambdas.entries()) {
      const model = await fitModel(source, { rank: r, loss: 'l1', lambda, seed, maxIterations: 200, tol: 1e-6, warmupIterations, keepH: true });
      results[w]![l]!.push([...errors(clean, model), model.iteration, model.diagnostics.zerosH! / (r * n)]);
    }
  }
}
const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
const median = (v: number[]) => v.slice().sort((x, y) => x - y)[(v.length - 1) >> 1]!;
const fmt = (x: number, width: number) => (x < 1e3 ? x.toFixed(4) : x.toExponential(1)).padStart(width);
console.log(`false zeros: 60% of ${m}×${n} (30% smallest + 30% random), rank ${r}, ${seeds.length} seeds`);
console.log('warm-up |     λ | rel. Frobenius: mean   median | rel. L1: mean | iterations | zeros in H');
for (const [w, warmup] of warmups.entries()) {
  for (const [l, lambda] of lambdas.entries()) {
    const runs = results[w]![l]!, col = (c: number) => runs.map((x) => x[c]!);
    console.log(`${String(warmup).padStart(7)} | ${String(lambda).padStart(5)} | ${fmt(mean(col(0)), 20)}  ${fmt(median(col(0)), 7)} | ${fmt(mean(col(1)), 13)} | ${mean(col(2)).toFixed(0).padStart(10)} | ${(mean(col(3)) * 100).toFixed(1).padStart(9)}%`);
  }
}
