/**
 * Align one model's factors to another's: bipartite matching of the factors (columns of W) on
 * cosine distance 1 − cos, solved exactly by the Hungarian algorithm. The aligned model has its
 * factors (columns of W, entries of d, rows of H) reordered so that its factor a is the one
 * matched to the reference's factor a. The robustness score is the mean matched cosine
 * similarity, 1 − (matching cost)/k — the blog's `1 - bipartiteMatch(1 - cosine(w1, w2))$cost/k`:
 * 1 when the two models hold the same factors in any order, lower as they differ.
 */
import { OptionError } from '../errors.js';
import { cosineSimilarity } from './cosine.js';
import type { FactorModel } from './factor-model.js';
import { assignMaxSimilarity } from './hungarian.js';

export interface ModelMatch<M extends FactorModel> {
  /** permutation[a] = the factor of `model` matched to the reference's factor a. */
  readonly permutation: Int32Array;
  /** Cosine similarity of each matched pair, in the reference's factor order. */
  readonly similarity: Float64Array;
  /** Mean matched cosine similarity, in [0, 1]. */
  readonly robustness: number;
  /** `model` with its factors reordered to follow the reference. */
  readonly aligned: M;
}

/** Matches the factors of `model` to those of `reference` (Hungarian matching on the cosine distance of W's columns); returns the matching and `model` reordered. */
export function matchModels<M extends FactorModel>(reference: FactorModel, model: M): ModelMatch<M> {
  const k = reference.rank, m = reference.features;
  if (model.rank !== k) throw new OptionError('model', `a model of rank ${k} (the reference's)`, `rank ${model.rank}`);
  if (model.features !== m) throw new OptionError('model', `a model with ${m} features (the reference's)`, `${model.features} features`);
  const C = cosineSimilarity(reference.W, k, model.W, k, m);
  const permutation = assignMaxSimilarity(C, k, k);
  const similarity = new Float64Array(k);
  let sum = 0;
  for (let a = 0; a < k; a++) {
    similarity[a] = C[a * k + permutation[a]!]!;
    sum += similarity[a]!;
  }
  return { permutation, similarity, robustness: k > 0 ? sum / k : 0, aligned: permuteFactors(model, permutation) };
}

/** The model with factor a of the result = factor permutation[a] of the input (W columns, d, H rows). */
export function permuteFactors<M extends FactorModel>(model: M, permutation: Int32Array): M {
  const k = model.rank, m = model.features;
  if (permutation.length !== k) throw new OptionError('permutation', `${k} indices`, `${permutation.length}`);
  const W = new Float64Array(m * k);
  const d = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    const from = permutation[a]!;
    d[a] = model.d[from]!;
    for (let i = 0; i < m; i++) W[i * k + a] = model.W[i * k + from]!;
  }
  if (model.H === undefined) return { ...model, W, d };
  const n = model.H.length / k;
  const H = new Float64Array(k * n);
  for (let a = 0; a < k; a++) H.set(model.H.subarray(permutation[a]! * n, (permutation[a]! + 1) * n), a * n);
  return { ...model, W, d, H };
}
