/**
 * The options of masked fits and held-out test sets (issue #15): their types as users write them and as the
 * engines read them (`ResolvedMask`, undefined when the fit has no mask, no missing values and no test set).
 * Kinds, ranges and defaults are rows of the options table (table-fit.ts); the relations are checked here.
 */
import { OptionError } from '../errors.js';
import type { Values } from './row.js';

/** How held-out zeros are chosen when zeros are data (no `mask: 'zeros'`). */
export type TestZeros = 'sampled' | 'all' | 'none';

/** A MatrixSource (source/matrix-source.ts) as options/ sees it (it does not import source/). */
export interface MaskSource {
  readonly name: string;
  readonly rereadable: boolean;
  readonly features?: number | undefined;
  readonly samples?: number | undefined;
  chunks(): unknown;
}

export interface MaskFitOptions {
  /**
   * 'zeros': the zero entries are missing — neither fitted nor tested (ratings, completion). With loss 'l1' this is
   * the zero breakpoint's weight λ set to 0 (the weighted L1 objective with λ = 0 already ignores zeros).
   */
  readonly mask?: 'zeros';
  /** 'error' (default): a NaN value is a DataError; 'nan': a NaN entry is missing (neither fitted nor tested). */
  readonly missing?: 'error' | 'nan';
  /**
   * The missing entries as another sparse matrix of the data's shape, in any format (fromMtx, fromParquet, fromCsc, …):
   * each entry it stores is missing in the data (neither fitted nor tested), as a NaN there would be with `missing:
   * 'nan'` (source/mask-source.ts). Read alongside the data on every pass. Least squares.
   */
  readonly maskSource?: MaskSource;
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
  /** `maskSource`: its entries come as NaN entries of the data (source/mask-source.ts). */
  readonly source: MaskSource | undefined;
  /** 0: no test set. */
  readonly testFraction: number;
  readonly testSeed: number;
  readonly testZeros: TestZeros;
  readonly earlyStop: boolean;
}

/** The mask of validated option values (undefined: an ordinary fit); `loss` and the other options for the relations. */
export function resolveMask(v: Values): ResolvedMask | undefined {
  const zeros = v.mask === 'zeros', nan = v.missing === 'nan', testFraction = (v.testFraction as number | undefined) ?? 0;
  const source = v.maskSource as MaskSource | undefined;
  if (!zeros && !nan && testFraction === 0 && source === undefined) {
    if (v.earlyStop === true) throw new OptionError('earlyStop', 'testFraction as well (the test loss it watches)', true);
    return undefined;
  }
  const named = v.mask !== undefined ? 'mask' : source !== undefined ? 'maskSource' : nan ? 'missing' : 'testFraction';
  if (source !== undefined && v.loss !== 'l2') throw new OptionError('maskSource', "loss 'l2' (a mask source for weighted L1 is not built yet: give its entries as NaN with missing: 'nan')", v.loss);
  if (v.loss !== 'l2' && (v.checkpoint !== undefined || v.resumeFrom !== undefined)) {
    throw new OptionError(v.checkpoint !== undefined ? 'checkpoint' : 'resumeFrom', `nothing with ${named} and loss 'l1' (masked weighted L1 fits keep no checkpoints)`, 'a checkpoint');
  }
  if (v.earlyStop === true && testFraction === 0) throw new OptionError('earlyStop', 'testFraction as well (the test loss it watches)', true);
  return { zeros, nan, source, testFraction, testSeed: v.testSeed as number, testZeros: v.testZeros as TestZeros, earlyStop: v.earlyStop === true };
}

/** The mask's part of a fit's fingerprint (a mask source as `source: true`: what it holds is in the data's fingerprint). */
export function maskFingerprint(mask: ResolvedMask | undefined): Record<string, unknown> {
  return mask === undefined ? {} : { mask: { ...mask, source: mask.source !== undefined } };
}
