// 09 — Choose the rank by cross-validation: hold out a speckled 5 % of the entries of hawaiibirds (183 species ×
// 1183 grid cells; ../shared/data), fit ranks 1–12 on the rest (2 replicates each, each with its own held-out set)
// and print the test loss per rank, with the minimum and the one-standard-error choice.
// Run: npx tsx examples/09-choose-rank.ts        (CLI: nmflow cv ../shared/data/hawaiibirds.mtx --ranks 1:12)
import { fileURLToPath } from 'node:url';
import { crossValidate, loadMtx, type CvTable } from '../src/index.js';

const path = fileURLToPath(new URL('../../shared/data/hawaiibirds.mtx', import.meta.url));
const source = await loadMtx(path);
let table: CvTable | undefined;
crossValidate(source, { ranks: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], replicates: 2, testFraction: 0.05, maxIterations: 100, tol: 1e-4 }).subscribe({
  next: (event) => {
    if (event.kind === 'fit') console.log(`rank ${String(event.rank).padStart(2)} replicate ${event.replicate}: train ${event.trainLoss.toExponential(3)}, test ${event.testLoss.toExponential(3)} (${event.iterations} iterations)`);
    if (event.kind === 'table') table = event;
  },
  complete: () => {
    if (!table) return;
    const t = table;
    const top = Math.max(...t.testLoss.filter(Number.isFinite));
    console.log('\nrank  mean test loss ± SE        (bar: test loss)');
    t.ranks.forEach((rank, q) => {
      const bar = '#'.repeat(Math.round((40 * t.testLoss[q]!) / top));
      console.log(`${String(rank).padStart(4)}  ${t.testLoss[q]!.toExponential(3)} ± ${t.testLossSe[q]!.toExponential(1)}  ${bar}${rank === t.bestRank ? '  ← bestRank' : ''}${rank === t.minRank ? '  ← minRank' : ''}`);
    });
    console.log(`bestRank ${t.bestRank} minRank ${t.minRank}`);
  },
  error: (error: unknown) => { console.error(String(error)); process.exitCode = 1; },
});
