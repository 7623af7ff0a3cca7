// 05 — The RcppML blog's L1/L2 experiment ("Statistical properties of L1- and L2-regularized NMF",
// Z. DeBruine, 2021) on the bundled hawaiibirds matrix: rank 10, three seeds, the blog's penalties
// α ∈ {1, 3, 5, 9} × 10^{-3..-1}, as L1 and as L2 on both W and H. For every model: sparsity of W,
// mean cosine between factors, robustness (matched cosine to the unpenalised model of the same
// seed), replicate agreement (matched cosine between seeds), similarity to k-means centroids and to
// the rank-1 model. Expected: L1 raises sparsity and lowers the mean cosine, L2 does the opposite;
// nmflow always fits with the diagonal scaling, so the sparsity of replicates agrees (small sd).
// Writes every model as .arrow and an HTML report of the sweep.
// Run: npx tsx examples/05-l1-l2-sweep.ts [out-dir]   (about a minute)
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { factorSparsity, fitModel, formatSweepTable, loadMtx, matchModels, summarizeSweep, sweepRows, writeModel } from '../src/index.js';
import { modelFileStem, writeReport, type ReportModel } from '../src/report/index.js'; // nmflow/report

const data = fileURLToPath(new URL('./data/hawaiibirds.mtx.gz', import.meta.url));
const outDir = process.argv[2] ?? 'l1-l2-sweep';
await mkdir(outDir, { recursive: true });
const source = await loadMtx(data);

const alphas = [1, 3, 5, 9].flatMap((c) => [1e-3, 1e-2, 1e-1].map((e) => Number((c * e).toPrecision(2)))).sort((a, b) => a - b);
const seeds = [123, 456, 789];
const settings = seeds.flatMap((seed) => [
  { seed, l1: 0, l2: 0 },
  ...alphas.map((alpha) => ({ seed, l1: alpha, l2: 0 })),
  ...alphas.map((alpha) => ({ seed, l1: 0, l2: alpha })),
]);

const models: ReportModel[] = [];
const started = performance.now();
for (const { seed, l1, l2 } of settings) {
  const model = await fitModel(source, { rank: 10, seed, l1: [l1, l1], l2: [l2, l2] });
  const file = join(outDir, `hawaiibirds-${modelFileStem({ l1, l2, seed })}.arrow`);
  await writeModel(file, model);
  models.push({ label: `hawaiibirds-${modelFileStem({ l1, l2, seed })}`, model, l1, l2, seed });
}
console.log(`${models.length} fits in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const rows = sweepRows(models, { matrix: source.matrix });
console.log(formatSweepTable(summarizeSweep(rows)));

// With and without the diagonal scaling (diag: false leaves the scale in W and H, so the same L1
// weighs each replicate differently): agreement between replicates, as matched cosine similarity.
for (const diag of [true, false]) {
  const replicates = await Promise.all(seeds.map((seed) => fitModel(source, { rank: 10, seed, l1: [0.01, 0.01], diag })));
  const agreement = replicates.slice(1).map((model) => matchModels(replicates[0]!, model).robustness);
  const sparsity = replicates.map((model) => factorSparsity(model).W);
  console.log(`L1 = 0.01, diag ${diag ? 'on ' : 'off'}: replicate agreement ${agreement.map((a) => a.toFixed(3)).join(', ')}; sparsity of W ${sparsity.map((v) => v.toFixed(3)).join(', ')}`);
}

const report = join(outDir, 'report.html');
await writeReport(report, models, { data: source.matrix, dataName: 'hawaiibirds', details: 1, title: 'L1/L2 sweep on hawaiibirds (rank 10)' });
console.log(`wrote ${models.length} models and ${report}`);
console.log(`the same report from the command line: nmflow report ${outDir}/*.arrow --data ${data} --details 1 --out ${report}`);
