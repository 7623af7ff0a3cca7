// 04 — A live stream whose true factors drift, fitted online. A timer emits a chunk of 200 samples
// every few ms from a planted rank-3 model whose factors (bumps on a ring of 60 features) slowly move;
// two online fits read the same stream: ρ = 0.9 forgets old chunks, ρ = 1 remembers everything.
// Every 15 chunks we print how close each model is to the *current* true factors (mean matched
// cosine, Hungarian matching). The forgetting model tracks the drift; the cumulative one lags behind.
// Run: npx tsx examples/04-live-stream.ts
import { interval, map, share, take, zip } from 'rxjs';
import { fitOnline, makeCscChunk, makeRandom, matchModels, type CscChunk } from '../src/index.js';

const features = 60, rank = 3, samplesPerChunk = 200, chunks = 150, drift = 0.1; // features moved per chunk
const random = makeRandom(7);

/** True W at chunk t: factor a is a Gaussian bump (width 4) centred at 20a + drift·t on a ring. */
function trueW(t: number): Float64Array {
  const W = new Float64Array(features * rank);
  for (let a = 0; a < rank; a++) {
    const centre = 20 * a + drift * t;
    for (let i = 0; i < features; i++) {
      const d = Math.min(Math.abs(i - centre) % features, features - (Math.abs(i - centre) % features));
      W[i * rank + a] = Math.exp(-(d * d) / 32);
    }
  }
  return W;
}

/** Chunk t: each sample mixes one or two factors, with 10% multiplicative noise; tiny entries dropped. */
function chunkAt(t: number): CscChunk {
  const W = trueW(t);
  const colPtr = new Int32Array(samplesPerChunk + 1);
  const rows: number[] = [], values: number[] = [];
  for (let j = 0; j < samplesPerChunk; j++) {
    const h = new Float64Array(rank);
    h[Math.floor(random.uniform() * rank)] = 0.5 + random.uniform();
    if (random.uniform() < 0.3) h[Math.floor(random.uniform() * rank)]! += random.uniform();
    for (let i = 0; i < features; i++) {
      let v = 0;
      for (let a = 0; a < rank; a++) v += W[i * rank + a]! * h[a]!;
      v *= 0.95 + 0.1 * random.uniform();
      if (v > 0.02) { rows.push(i); values.push(v); }
    }
    colPtr[j + 1] = rows.length;
  }
  return makeCscChunk({ m: features, colStart: t * samplesPerChunk, colPtr, rowIdx: Int32Array.from(rows), values: Float64Array.from(values), position: t });
}

const live$ = interval(2).pipe(take(chunks), map(chunkAt), share());
const truth = (t: number) => ({ rank, features, W: trueW(t), d: new Float64Array(rank).fill(1) });

const forgetting$ = fitOnline(live$, { rank, seed: 1, forgetting: 0.9, emitEvery: 15 });
const cumulative$ = fitOnline(live$, { rank, seed: 1, forgetting: 1, emitEvery: 15 });

console.log('chunk  true factors moved  ρ=0.9 vs truth  ρ=1 vs truth   (mean matched cosine)');
zip(forgetting$, cumulative$).subscribe({
  next: ([fast, slow]) => {
    const now = truth(fast.iteration - 1);
    const score = (W: Float64Array) => matchModels(now, { rank, features, W, d: fast.d }).robustness.toFixed(3);
    const moved = `${(drift * (fast.iteration - 1)).toFixed(1)} features`;
    console.log(`${String(fast.iteration).padStart(5)}  ${moved.padStart(19)}  ${score(fast.W).padStart(14)}  ${score(slow.W).padStart(12)}${fast.final ? '   (final)' : ''}`);
  },
  error: (error: unknown) => { console.error(String(error)); process.exitCode = 1; },
});
