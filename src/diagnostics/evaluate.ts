/**
 * Every diagnostic of one model at once (what `nmflow eval` prints): sparsity of W (and of H),
 * cosine similarities between factors and their mean, and — given the data — relative loss,
 * the relative weighted L1 objective (l1 models), similarity to a seeded k-means clustering of
 * the samples (k = rank) and to the rank-1 model. H is the model's own when it fits the data,
 * else solved for the data (solve-h.ts).
 */
import type { CscMatrix } from '../source/from-csc.js';
import { factorCosine, meanOfCosine } from './cosine.js';
import type { FactorModel } from './factor-model.js';
import { kmeans, kmeansSimilarity } from './kmeans.js';
import { relativeL1Objective, relativeLoss } from './loss.js';
import { rankOne, rankOneSimilarity } from './rank-one.js';
import { solveH } from './solve-h.js';
import { factorSparsity, sparsity } from './sparsity.js';

export interface EvaluateOptions {
  /** l1 models: weight of the zero entries in the objective. Default 1. */
  readonly lambda?: number;
  /** Seed of the k-means++ start. Default 42. */
  readonly kmeansSeed?: number;
  /** Compute the k-means similarity (needs the data; O(nnz·k) per Lloyd iteration). Default true. */
  readonly kmeans?: boolean;
  /** The k-means centroids of the data at this rank (m × k, as `kmeans(…).centers`), when already computed: shared by models of one rank. */
  readonly kmeansCenters?: Float64Array;
}

export interface ModelEvaluation {
  readonly rank: number;
  readonly features: number;
  readonly samples?: number;
  readonly sparsityW: number;
  readonly sparsityPerFactor: readonly number[];
  readonly sparsityH?: number;
  readonly deadFactors: number;
  /** Mean cosine similarity between distinct factors. */
  readonly meanCosine: number;
  /** The same with the diagonal counted (the blog's `mean(cosine(w))`). */
  readonly meanCosineWithDiagonal: number;
  /** rank × rank cosine similarities, as nested arrays. */
  readonly cosine: readonly (readonly number[])[];
  readonly relativeLoss?: number;
  readonly relativeL1Objective?: number;
  /** Mean matched cosine similarity of the factors to k-means centroids (k = rank). */
  readonly kmeansSimilarity?: number;
  /** Mean cosine similarity of the factors to the first singular vector. */
  readonly rankOneSimilarity?: number;
}

/** Diagnostics of one model: sparsity, factor angles, dead factors and, with the data, relative loss, k-means / rank-1 similarity of the codes. */
export function evaluateModel(model: FactorModel, matrix?: CscMatrix, options: EvaluateOptions = {}): ModelEvaluation {
  const k = model.rank;
  const s = factorSparsity(model);
  const C = factorCosine(model);
  const cosine = Array.from({ length: k }, (_, a) => Array.from(C.subarray(a * k, (a + 1) * k)));
  const base = {
    rank: k, features: model.features, sparsityW: s.W, sparsityPerFactor: Array.from(s.perFactor),
    deadFactors: s.deadFactors, meanCosine: meanOfCosine(C, k, false), meanCosineWithDiagonal: meanOfCosine(C, k, true), cosine,
  };
  if (matrix === undefined) return { ...base, ...(s.H === undefined ? {} : { sparsityH: s.H }) };
  const lambda = options.lambda ?? 1;
  const H = model.H !== undefined && model.H.length === k * matrix.n
    ? model.H
    : solveH(matrix, model, { lambda, ...(model.loss === undefined ? {} : { loss: model.loss }) });
  const factors = { W: model.W, d: model.d, H, rank: k };
  const centers = options.kmeans === false || k > matrix.n ? undefined : options.kmeansCenters ?? kmeans(matrix, k, { seed: options.kmeansSeed ?? 42 }).centers;
  return {
    ...base,
    samples: matrix.n,
    sparsityH: sparsity(H),
    relativeLoss: relativeLoss(matrix, factors),
    ...(model.loss === 'l1' ? { relativeL1Objective: relativeL1Objective(matrix, factors, lambda) } : {}),
    ...(centers === undefined ? {} : { kmeansSimilarity: kmeansSimilarity(model, centers, k) }),
    rankOneSimilarity: rankOneSimilarity(model, rankOne(matrix).u),
  };
}
