/**
 * The masked parts of online weighted L1 (online.ts; issue #15): a new chunk's codes with the masked entries left
 * out, and the losses of the window. A chunk is split once when it arrives (masked-split.ts, by its global sample
 * indices: the same held-out set for any chunking); the window's problem is its chunks' splits side by side
 * (masked-problem.ts), so the sCD sweeps over the window are the masked ones.
 */
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { makeScdWorkspace } from '../../kernel/scd-workspace.js';
import { factorSums } from './iteration.js';
import { maskedSweep, type MaskedLines } from './masked-lines.js';
import { maskedTestLoss, type MaskedL1Problem } from './masked-problem.js';
import type { L1MaskedChunk } from './masked-split.js';
import { projectL1Columns } from './project.js';

/**
 * Codes (n×k, sample-major) of a split chunk with W fixed: the least-squares start on the observed values
 * (projection's start), then masked sCD sweeps per sample until a sweep leaves it unchanged or `maxSweeps`.
 */
export function maskedCodes(W: Float64Array, m: number, k: number, lambda: number, maxSweeps: number, split: L1MaskedChunk): Float64Array {
  const chunk: CscChunk = split.observed, n = chunk.n;
  const start = projectL1Columns(W, m, k, lambda, 0, chunk, new Float64Array(k * n));
  const H = new Float64Array(n * k);
  for (let a = 0; a < k; a++) for (let j = 0; j < n; j++) H[j * k + a] = start[a * n + j]!;
  let longest = 1;
  for (let j = 0; j < n; j++) longest = Math.max(longest, chunk.colPtr[j + 1]! - chunk.colPtr[j]!);
  const ws = makeScdWorkspace(k, longest), base = new Float64Array(k), before = new Float64Array(k);
  factorSums(W, m, k, base);
  const lines: MaskedLines = { ptr: chunk.colPtr, idx: chunk.rowIdx, values: chunk.values, maskPtr: split.maskPtr, maskIdx: split.maskRows };
  for (let j = 0; j < n; j++) {
    for (let sweep = 0; sweep < maxSweeps; sweep++) {
      before.set(H.subarray(j * k, j * k + k));
      maskedSweep(lines, j, j + 1, 0, H, W, k, lambda, ws, base);
      let same = true;
      for (let a = 0; a < k; a++) if (H[j * k + a] !== before[a]) { same = false; break; }
      if (same) break;
    }
  }
  return H;
}

/** The online step's numbers for a masked window: objective f/ΣA_observed (also relativeLoss), trainLoss, testLoss. */
export function maskedWindowLosses(mp: MaskedL1Problem, f: number, W: Float64Array, H: Float64Array, k: number) {
  const objective = f / (mp.problem.sumA || 1), testLoss = maskedTestLoss(mp, W, H, k);
  return {
    objective, relativeLoss: objective, trainLoss: mp.observedCount > 0 ? f / mp.observedCount : 0, ...(testLoss === undefined ? {} : { testLoss }),
  };
}
