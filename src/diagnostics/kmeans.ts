/**
 * Seeded k-means (Lloyd's algorithm from a k-means++ start) on the samples of A — the columns of
 * the m×n matrix, each a point in feature space, as the blog's `kmeans(t(A), k)` — so the centroids
 * are m-vectors comparable with the factors of W. Distances use the sparse form
 * ‖x − c‖² = ‖x‖² − 2xᵀc + ‖c‖², so one iteration costs O(nnz·k + m·k). Randomness only from
 * makeRandom(seed). An emptied cluster is re-seeded with the point farthest from its centroid.
 * Reference: Arthur & Vassilvitskii, "k-means++: the advantages of careful seeding" (2007).
 */
import { OptionError } from '../errors.js';
import { makeRandom } from '../kernel/random.js';
import type { CscMatrix } from '../source/from-csc.js';
import { assignMaxSimilarity } from './hungarian.js';
import { cosineSimilarity } from './cosine.js';
import type { FactorModel } from './factor-model.js';

export interface KMeansOptions {
  /** Seed of the k-means++ start. Default 42. */
  readonly seed?: number;
  /** Maximum Lloyd iterations. Default 100. */
  readonly maxIterations?: number;
}

export interface KMeansResult {
  /** Centroids: features × k, row-major (the layout of W). */
  readonly centers: Float64Array;
  /** Cluster of each sample. */
  readonly assignment: Int32Array;
  readonly iterations: number;
  /** Σ of squared distances of the samples to their centroids. */
  readonly inertia: number;
}

/** Seeded k-means (k-means++ start) of the matrix's columns: assignments, centers and inertia. */
export function kmeans(matrix: CscMatrix, k: number, options: KMeansOptions = {}): KMeansResult {
  const { m, n, colPtr, rowIdx, values } = matrix;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new OptionError('k', `an integer in [1, samples = ${n}]`, k);
  const maxIterations = options.maxIterations ?? 100;
  const random = makeRandom(options.seed ?? 42);
  const sq = new Float64Array(n);
  for (let j = 0; j < n; j++) for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) sq[j] = sq[j]! + values[p]! * values[p]!;
  const C = new Float64Array(m * k);
  const cNorm = new Float64Array(k);
  const dist = new Float64Array(n);
  const setCenter = (c: number, j: number): void => {
    for (let i = 0; i < m; i++) C[i * k + c] = 0;
    for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) C[rowIdx[p]! * k + c] = values[p]!;
    cNorm[c] = sq[j]!;
  };
  const distance = (j: number, c: number): number => {
    let dot = 0;
    for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) dot += values[p]! * C[rowIdx[p]! * k + c]!;
    return Math.max(0, sq[j]! - 2 * dot + cNorm[c]!);
  };
  // k-means++: first centre uniform, then each with probability ∝ squared distance to the nearest.
  setCenter(0, Math.floor(random.uniform() * n));
  for (let j = 0; j < n; j++) dist[j] = distance(j, 0);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let j = 0; j < n; j++) total += dist[j]!;
    let pick = n - 1;
    if (total > 0) {
      let target = random.uniform() * total;
      for (let j = 0; j < n; j++) { target -= dist[j]!; if (target < 0) { pick = j; break; } }
    } else pick = Math.floor(random.uniform() * n);
    setCenter(c, pick);
    for (let j = 0; j < n; j++) dist[j] = Math.min(dist[j]!, distance(j, c));
  }
  const assignment = new Int32Array(n).fill(-1);
  const counts = new Float64Array(k);
  let iterations = 0, inertia = 0;
  for (let it = 0; it < maxIterations; it++) {
    iterations = it + 1;
    let changed = 0;
    inertia = 0;
    for (let j = 0; j < n; j++) {
      let best = 0, bestD = Infinity;
      for (let c = 0; c < k; c++) { const dc = distance(j, c); if (dc < bestD) { bestD = dc; best = c; } }
      if (assignment[j] !== best) { assignment[j] = best; changed++; }
      dist[j] = bestD;
      inertia += bestD;
    }
    if (changed === 0) break;
    C.fill(0); counts.fill(0);
    for (let j = 0; j < n; j++) {
      const c = assignment[j]!;
      counts[c] = counts[c]! + 1;
      for (let p = colPtr[j]!; p < colPtr[j + 1]!; p++) C[rowIdx[p]! * k + c] = C[rowIdx[p]! * k + c]! + values[p]!;
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) { reseed(c); continue; }
      let s = 0;
      for (let i = 0; i < m; i++) { const v = C[i * k + c]! / counts[c]!; C[i * k + c] = v; s += v * v; }
      cNorm[c] = s;
    }
  }
  return { centers: C, assignment, iterations, inertia };

  function reseed(c: number): void {
    let far = 0;
    for (let j = 1; j < n; j++) if (dist[j]! > dist[far]!) far = j;
    setCenter(c, far);
    dist[far] = 0;
  }
}

/**
 * Similarity of a model to a k-means clustering: the mean cosine similarity of the factors of W and
 * the centroids after matching them one to one (Hungarian). The blog reports the matching *cost*
 * `bipartiteMatch(1 - cosine(centers, w))$cost / k`; this is 1 minus that, so higher = more alike.
 */
export function kmeansSimilarity(model: FactorModel, centers: Float64Array, clusters: number): number {
  const k = model.rank, m = model.features;
  if (centers.length !== m * clusters) throw new OptionError('centers', `${m}×${clusters} numbers`, `${centers.length}`);
  const S = cosineSimilarity(centers, clusters, model.W, k, m);
  const match = assignMaxSimilarity(S, clusters, k);
  let sum = 0, count = 0;
  for (let c = 0; c < clusters; c++) if (match[c]! >= 0) { sum += S[c * k + match[c]!]!; count++; }
  return count > 0 ? sum / count : 0;
}
