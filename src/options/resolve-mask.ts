/**
 * The options of masked fits and held-out test sets (issue #15): their types as users write them and as the
 * engines read them (`ResolvedMask`, undefined when the fit has no mask, no missing values and no test set).
 * Kinds, ranges and defaults are rows of the options table (table-fit.ts); the relations are checked here.
 */
import { OptionError } from '../errors.js';
import type { Values } from './row.js';

/** How held-out zeros are chosen when zeros are data (no `mask: 'zeros'`). */
export type TestZeros = 'sampled' | 'all' | 'none';

export interface MaskFitOptions {
  /**
   * 'zeros': the zero entries are missing — neither fitted nor tested (ratings, completion). With loss 'l1' this is
   * the zero breakpoint's weight λ set to 0 (the weighted L1 objective with λ = 0 already ignores zeros).
   */
  readonly mask?: 'zeros';
  /** 'error' (default): a NaN value is a DataError; 'nan': a NaN entry is missing (neither fitted nor tested). */
  readonly missing?: 'error' | 'nan';
  /**
   * Hold out this fraction in (0, 1) of the entries: a nonzero (i, j) is held out iff a hash of (i, j, testSeed)
   * is below it (kernel/holdout.ts), the same set for any chunking, pass or machine. Snapshots then carry
   * `trainLoss` and `testLoss`: l2, mean squared errors over the fitted and the held-out entries; l1, the mean
   * weighted L1 loss per entry (|a − â| for a nonzero, λ·â for a zero) over them.
   */
  readonly testFraction?: number;
  /** Seed of the held-out set. Integer. Default 1. */
  readonly testSeed?: number;
  /**
   * Held-out zeros when zeros are data: 'sampled' (default: per sample as many zeros as its expected held-out
   * nonzeros, weighted so the test loss estimates the one of 'all'; cost ∝ nnz, never m·n), 'all' (each zero
   * with probability testFraction, RcppML's semantics; cost ∝ testFraction·m·n) or 'none'.
   */
  readonly testZeros?: TestZeros;
  /** With testFraction: stop when the test loss rises from one iteration to the next. Default false. */
  readonly earlyStop?: boolean;
}

/** What a masked engine reads (model/l2/masked-*.ts, model/l1/masked-*.ts). */
export interface ResolvedMask {
  /** Zeros are missing: each sample's Gram is built from its observed nonzeros. */
  readonly zeros: boolean;
  /** NaN values are missing entries. */
  readonly nan: boolean;
  /** 0: no test set. */
  readonly testFraction: number;
  readonly testSeed: number;
  readonly testZeros: TestZeros;
  readonly earlyStop: boolean;
}

/** The mask of validated option values (undefined: an ordinary fit); `loss` and the other options for the relations. */
export function resolveMask(v: Values): ResolvedMask | undefined {
  const zeros = v.mask === 'zeros', nan = v.missing === 'nan', testFraction = (v.testFraction as number | undefined) ?? 0;
  if (!zeros && !nan && testFraction === 0) {
    if (v.earlyStop === true) throw new OptionError('earlyStop', 'testFraction as well (the test loss it watches)', true);
    return undefined;
  }
  const named = v.mask !== undefined ? 'mask' : nan ? 'missing' : 'testFraction';
  if (v.checkpoint !== undefined || v.resumeFrom !== undefined) {
    throw new OptionError(v.checkpoint !== undefined ? 'checkpoint' : 'resumeFrom', `nothing with ${named} (masked fits keep no checkpoints)`, 'a checkpoint');
  }
  if (v.earlyStop === true && testFraction === 0) throw new OptionError('earlyStop', 'testFraction as well (the test loss it watches)', true);
  return { zeros, nan, testFraction, testSeed: v.testSeed as number, testZeros: v.testZeros as TestZeros, earlyStop: v.earlyStop === true };
}

/** The mask's part of a fit's fingerprint. */
export function maskFingerprint(mask: ResolvedMask | undefined): Record<string, unknown> {
  return mask === undefined ? {} : { mask: { ...mask } };
}
