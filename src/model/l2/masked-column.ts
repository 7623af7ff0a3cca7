/**
 * One sample's entries split by a mask (issue #15; docs/architecture.md, Masks and held-out entries): which
 * stored entries are fitted (observed), which rows are left out of the fit (masked: held-out nonzeros, NaN
 * entries, held-out zeros), and which entries are tested (held-out, with weights). A pure function of the
 * sample's global index, its stored entries and the mask, so any chunking gives the same split.
 */
import { entryUniform, forEachHeldOutZero } from '../../kernel/holdout.js';
import type { ResolvedMask } from '../../options.js';

/** Scratch lists of one sample, grown as needed; `n*` are the lengths of this sample's lists. */
export interface ColumnSplit {
  /** Observed nonzeros: their rows and values. */
  obsRows: Int32Array;
  obsValues: Float64Array;
  nObs: number;
  /** Rows of the entries left out of the fit (zeros observed: the Gram correction). */
  maskedRows: Int32Array;
  nMasked: number;
  /** Held-out entries: rows, values (0 for zeros), weights. */
  testRows: Int32Array;
  testValues: Float64Array;
  testWeights: Float64Array;
  nTest: number;
  /** Σ of the observed nonzeros' squares, and the observed entries counted (zeros included when they are data). */
  normA2: number;
  observed: number;
  /** The weight of this sample's held-out zeros, and the one visitor that lists them (made once: no allocation per sample). */
  zeroWeight: number;
  readonly pushZero: (i: number) => void;
}

export function makeColumnSplit(): ColumnSplit {
  const cap = 64;
  const s: ColumnSplit = {
    obsRows: new Int32Array(cap), obsValues: new Float64Array(cap), nObs: 0, maskedRows: new Int32Array(cap), nMasked: 0,
    testRows: new Int32Array(cap), testValues: new Float64Array(cap), testWeights: new Float64Array(cap), nTest: 0, normA2: 0, observed: 0,
    zeroWeight: 0,
    pushZero: (i) => {
      if (s.nTest >= s.testRows.length) {
        s.testRows = grow(s.testRows, s.nTest + 1); s.testValues = grow(s.testValues, s.nTest + 1); s.testWeights = grow(s.testWeights, s.nTest + 1);
      }
      s.testRows[s.nTest] = i; s.testValues[s.nTest] = 0; s.testWeights[s.nTest] = s.zeroWeight; s.nTest++;
    },
  };
  return s;
}

function grow<T extends Int32Array | Float64Array>(a: T, need: number): T {
  if (a.length >= need) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

/** Room for a sample of `stored` entries (held-out zeros grow the lists as they come). */
function reserve(s: ColumnSplit, stored: number): void {
  const need = stored + 1;
  s.obsRows = grow(s.obsRows, need); s.obsValues = grow(s.obsValues, need); s.maskedRows = grow(s.maskedRows, need);
  s.testRows = grow(s.testRows, need); s.testValues = grow(s.testValues, need); s.testWeights = grow(s.testWeights, need);
}

/**
 * Splits sample j (global index) with stored entries p ∈ [p0, p1) of rowIdx/values (rows ascending) in a model of
 * m features. Held-out zeros (zeros are data, testZeros not 'none'): 'all' draws each zero with the test
 * fraction f; 'sampled' draws zeros at rate r = f·nnz_j/(m − nnz_j) (as many as the expected held-out nonzeros)
 * and weighs each f/r, so their weighted loss estimates the one of 'all'.
 */
export function splitColumn(
  s: ColumnSplit, mask: ResolvedMask, m: number, j: number, rowIdx: Int32Array, values: Float64Array, p0: number, p1: number,
): void {
  reserve(s, p1 - p0);
  const f = mask.testFraction;
  let nObs = 0, nMasked = 0, nTest = 0, normA2 = 0, finite = 0;
  for (let p = p0; p < p1; p++) {
    const i = rowIdx[p]!, v = values[p]!;
    if (v !== v) { s.maskedRows[nMasked++] = i; continue; } // NaN: missing (checkChunk let it through with missing: 'nan')
    if (v === 0 && mask.zeros) continue; // an explicit zero is a zero
    finite++;
    if (f > 0 && entryUniform(i, j, mask.testSeed) < f) {
      s.maskedRows[nMasked++] = i;
      s.testRows[nTest] = i; s.testValues[nTest] = v; s.testWeights[nTest] = 1; nTest++;
      continue;
    }
    s.obsRows[nObs] = i; s.obsValues[nObs] = v; nObs++;
    normA2 += v * v;
  }
  s.nTest = nTest;
  if (!mask.zeros && f > 0 && mask.testZeros !== 'none') {
    const zeros = m - (p1 - p0);
    const rate = mask.testZeros === 'all' ? f : zeros > 0 ? Math.min(1, f * finite / zeros) : 0;
    s.zeroWeight = mask.testZeros === 'all' ? 1 : rate > 0 ? f / rate : 0;
    forEachHeldOutZero(j, mask.testSeed, rate, m, rowIdx, p0, p1, s.pushZero);
    s.maskedRows = grow(s.maskedRows, nMasked + s.nTest - nTest);
    for (let t = nTest; t < s.nTest; t++) s.maskedRows[nMasked++] = s.testRows[t]!;
  }
  s.nObs = nObs; s.nMasked = nMasked; s.normA2 = normA2;
  s.observed = mask.zeros ? nObs : m - nMasked;
}
