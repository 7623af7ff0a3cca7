// 01 — Fit the bundled hawaiibirds matrix (183 species × 1183 grid cells) and print, for each
// factor, its weight d and the species that load on it most. Run: npx tsx examples/01-fit-hawaiibirds.ts
import { fileURLToPath } from 'node:url';
import { fit, loadMtx, type Snapshot } from '../src/index.js';

const path = fileURLToPath(new URL('./data/hawaiibirds.mtx.gz', import.meta.url));
const source = await loadMtx(path, { chunkSize: 256 });

let model: Snapshot | undefined;
fit(source, { rank: 8, seed: 1, tol: 1e-5 }).subscribe({
  next: (snapshot) => {
    if (snapshot.final) model = snapshot;
    else if (snapshot.iteration % 5 === 0) {
      console.log(`iteration ${snapshot.iteration}: relative loss ${snapshot.relativeLoss.toFixed(5)}, tol ${snapshot.tol.toExponential(2)}`);
    }
  },
  complete: () => {
    if (!model) return;
    console.log(`converged=${model.converged} after ${model.iteration} iterations, relative loss ${model.relativeLoss.toFixed(5)}`);
    const { W, d, rank, features } = model;
    for (let a = 0; a < rank; a++) {
      const top = Array.from({ length: features }, (_, i) => i)
        .sort((x, y) => W[y * rank + a]! - W[x * rank + a]!)
        .slice(0, 5)
        .map((i) => `species ${i} (${(W[i * rank + a]! * 100).toFixed(1)}%)`);
      console.log(`factor ${a}: d = ${d[a]!.toFixed(1)}; ${top.join(', ')}`);
    }
  },
  error: (error: unknown) => { console.error(String(error)); process.exitCode = 1; },
});
