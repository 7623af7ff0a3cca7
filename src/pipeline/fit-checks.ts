/**
 * What a fit must never report as a model (issue #13): data without one positive value (EMPTY_INPUT),
 * a loss that is NaN or infinite, and a model whose every component is zero (NUMERICAL). Before these
 * checks an all-zero matrix, an all-zero start and values whose squares overflow all ended "converged"
 * with a loss of NaN or a model of zeros. The drivers (fit.ts, fit-online.ts) call them once per chunk,
 * per iteration and on the final model; none allocates.
 */
import type { CscChunk } from '../chunk/csc-chunk.js';
import { DataError, NmfError } from '../errors.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';

/** True when the chunk holds a value > 0 (stored zeros do not count). Usually settled by its first value. */
export function hasPositive(chunk: CscChunk): boolean {
  const nnz = chunk.colPtr[chunk.n]!;
  for (let p = 0; p < nnz; p++) if (chunk.values[p]! > 0) return true;
  return false;
}

/** EMPTY_INPUT for a pass that read samples but not one positive value. */
export function checkSomeValue(sawPositive: boolean, source: string): void {
  if (!sawPositive) {
    throw new DataError('EMPTY_INPUT', 'every value of the data is zero (no nonzero entry): there is nothing to factorize', { source });
  }
}

/** NUMERICAL when an iteration's loss is NaN or infinite (it can never be a converged fit). */
export function checkFiniteLoss(point: TracePoint, source: string): void {
  if (!Number.isFinite(point.relativeLoss) || !Number.isFinite(point.objective)) {
    throw new NmfError('NUMERICAL', `iteration ${point.iteration} gave a loss of ${point.relativeLoss} (objective ${point.objective}), `
      + 'not a finite number: values whose squares overflow or underflow (beyond about 1e±150) cannot be fitted', { location: { source } });
  }
}

/** NUMERICAL when every component of the model is zero (d all 0) or d is not finite. */
export function checkModelNotZero(snapshot: Snapshot, source: string): void {
  const d = snapshot.d;
  let positive = false;
  for (let c = 0; c < d.length; c++) {
    const x = d[c]!;
    if (!Number.isFinite(x)) {
      throw new NmfError('NUMERICAL', `component ${c} of the model has scale d = ${x} after iteration ${snapshot.iteration}`, { location: { source } });
    }
    if (x > 0) positive = true;
  }
  if (!positive) {
    throw new NmfError('NUMERICAL', `every component of the model became zero by iteration ${snapshot.iteration}: the start `
      + '(init W / H) leaves nothing to fit, or the penalties or the scale of the values drive all factors to 0', { location: { source } });
  }
}
