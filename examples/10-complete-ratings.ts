// 10 — Complete a ratings matrix: movielens (3867 movies × 610 users, ratings 0.5–5; ../shared/data) with
// `mask: 'zeros'` (an unrated entry is missing, not a zero rating). 10 % of the ratings are held out (the same
// set as the fit's: isHeldOut); the held-out error of the factorization is compared with the mean rating of the
// training set (a constant baseline) and, when bench:cv has been run, with RcppML 1.0's test loss (its
// mask = "zeros", bench/results/cv-*.json). Run: npx tsx examples/10-complete-ratings.ts
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fitModel, isHeldOut, loadMtx } from '../src/index.js';

const path = fileURLToPath(new URL('../../shared/data/movielens.mtx', import.meta.url));
const source = await loadMtx(path);
const { colPtr, rowIdx, values, n } = source.matrix;
const testFraction = 0.1, testSeed = 1;

// The baseline: the mean of the training ratings, scored on the held-out ratings.
let sum = 0, count = 0;
for (let j = 0; j < n; j++) for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) if (!isHeldOut(rowIdx[p]!, j, testSeed, testFraction)) { sum += values[p]!; count++; }
const mean = sum / count;
let sse = 0, held = 0;
for (let j = 0; j < n; j++) for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) if (isHeldOut(rowIdx[p]!, j, testSeed, testFraction)) { sse += (values[p]! - mean) ** 2; held++; }
const baseline = sse / held;
console.log(`${count} training ratings (mean ${mean.toFixed(3)}), ${held} held out; mean-rating baseline: test MSE ${baseline.toFixed(4)} (RMSE ${Math.sqrt(baseline).toFixed(4)})`);

// RcppML 1.0's mean test loss per rank on the same data with mask = "zeros", if bench:cv recorded it.
const results = (() => {
  try { return readdirSync('bench/results').filter((f) => /^cv-.*\.json$/.test(f)).sort().at(-1); } catch { return undefined; }
})();
const peer = results === undefined ? undefined : (JSON.parse(readFileSync(`bench/results/${results}`, 'utf8')) as { results: { data: string; rcppml: { ranks: number[]; testLoss: number[] } }[] })
  .results.find((r) => r.data === 'movielens')?.rcppml;

let best = Infinity;
for (const rank of [1, 2, 3]) {
  const model = await fitModel(source, { rank, mask: 'zeros', testFraction, testSeed, maxIterations: 100, tol: 1e-4 });
  best = Math.min(best, model.testLoss!);
  const rcppml = peer?.testLoss[peer.ranks.indexOf(rank)];
  console.log(`rank ${rank}: train MSE ${model.trainLoss!.toFixed(4)}, test MSE ${model.testLoss!.toFixed(4)} (RMSE ${Math.sqrt(model.testLoss!).toFixed(4)})`
    + (rcppml === undefined ? '' : `; RcppML 1.0 (its own 5 % held-out set, ${results}): test MSE ${rcppml.toFixed(4)}`));
}
console.log(`best test MSE ${best.toFixed(4)} ${best < baseline ? '<' : '≥'} mean baseline ${baseline.toFixed(4)}`);
