import { makeFactorCache, type FactorCache } from './nnls-support.js';

/**
 * Scratch arrays for one NNLS solver of rank k, made once per fit (per thread) and reused for
 * every column and row. Nothing in the solve allocates.
 */
export interface NnlsWorkspace {
  readonly k: number;
  /** Residual r = b − Gx (length k). */
  readonly r: Float64Array;
  /** Cholesky factor of G_PP (k×k, stride k). */
  readonly L: Float64Array;
  /** Solution on the passive set (length k). */
  readonly z: Float64Array;
  /** Coordinates of the passive set (length k). */
  readonly idx: Int32Array;
  /** Passive-set mask (length k). */
  readonly passive: Uint8Array;
  /** Cholesky factors by support (k ≤ 12); clear it whenever G changes. */
  readonly cache: FactorCache | undefined;
  /** Scratch vector (length k). */
  readonly scratch: Float64Array;
  /** Counters for diagnostics: solves, CD sweeps, solves settled by the support step alone. */
  readonly counts: Float64Array;
}

export const COUNT_SOLVES = 0;
export const COUNT_SWEEPS = 1;
export const COUNT_SUPPORT_HITS = 2;

export function makeNnlsWorkspace(k: number): NnlsWorkspace {
  return {
    k,
    r: new Float64Array(k),
    L: new Float64Array(k * k),
    z: new Float64Array(k),
    idx: new Int32Array(k),
    passive: new Uint8Array(k),
    scratch: new Float64Array(k),
    cache: makeFactorCache(k),
    counts: new Float64Array(3),
  };
}
