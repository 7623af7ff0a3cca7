/**
 * Diagnostics of fitted models (the RcppML blog's measures, and more), as plain functions over
 * W (features × rank, row-major), d and H: sparsity, cosine similarity between factors, optimal
 * matching of two models' factors (Hungarian) with a robustness score, similarity to a k-means
 * clustering and to the rank-1 model, relative losses, and the L1/L2 sweep summary.
 */
export type { FactorModel } from './factor-model.js';
export { sparsity, columnSparsity, factorSparsity, type FactorSparsity } from './sparsity.js';
export { cosineSimilarity, factorCosine, meanFactorCosine, type MeanCosineOptions } from './cosine.js';
export { assignMinCost, assignMaxSimilarity, assignmentCost } from './hungarian.js';
export { matchModels, permuteFactors, type ModelMatch } from './match-models.js';
export { kmeans, kmeansSimilarity, type KMeansOptions, type KMeansResult } from './kmeans.js';
export { rankOne, rankOneSimilarity, type RankOneOptions, type RankOneResult } from './rank-one.js';
export { relativeLoss, relativeL1Objective, type Factors } from './loss.js';
export { solveH, type SolveHOptions } from './solve-h.js';
export { evaluateModel, type EvaluateOptions, type ModelEvaluation } from './evaluate.js';
export {
  sweepRows, summarizeSweep, formatSweepTable, penaltyOf,
  type Penalty, type SweepEntry, type SweepRow, type SweepOptions, type SweepSummaryRow,
} from './sweep.js';
