/** The rows of the SVD start's own entry points, randomizedSvd and nndsvdStart (pipeline/nndsvd-start.ts). */
import type { OptionRow } from './row.js';

const SVD = ['svd'] as const;

export const START_ROWS: readonly OptionRow[] = [
  { name: 'rank', kind: { type: 'integer', min: 1 }, scopes: SVD, required: true, doc: 'the number of singular triplets' },
  { name: 'seed', kind: { type: 'integer' }, scopes: SVD, required: true, doc: 'seed of the random test matrix' },
  // update/svd-sketch.ts DEFAULT_OVERSAMPLE, DEFAULT_POWER_ITERATIONS
  { name: 'oversample', kind: { type: 'integer', min: 0 }, scopes: SVD, default: 10, doc: 'extra columns of the sketch' },
  { name: 'powerIterations', kind: { type: 'integer', min: 0 }, scopes: SVD, default: 1, doc: 'power iterations' },
  { name: 'wasm', kind: { type: 'boolean' }, scopes: SVD, default: true, doc: 'the products in WebAssembly where the runtime has SIMD' },
  { name: 'fill', kind: { type: 'boolean' }, scopes: ['nndsvd'], required: true, doc: 'NNDSVDa (zeros filled with the mean of A) or NNDSVD' },
  { name: 'withH', kind: { type: 'boolean' }, scopes: ['nndsvd'], default: true, doc: 'compute H (an l2 fit, which starts from W alone, does not)' },
];
