/**
 * What some of the fit command's flags give: the mask and test-set options and the rank searched by `--rank auto`
 * on the cross-validation curve before the fit (issue #15), the train/test losses of the JSON lines, and the
 * explicit starts of --init-w / --init-h.
 */
import { OptionError } from '../errors.js';
import type { FitOptions } from '../options.js';
import { searchRank } from '../pipeline/auto-rank.js';
import { parseRanks } from '../pipeline/cv-table.js';
import type { FitFlags } from './fit-command.js';
import { openInput, type InputFlags } from './open-input.js';
import { readCsvMatrix } from '../source/read-csv-matrix.js';

/** --rank auto: the rank chosen by searchRank on the input (one line: JSON with --json). */
export async function autoRank(input: string, flags: FitFlags, print: (line: string) => void): Promise<number> {
  const [from, to] = flags.rankRange === undefined ? [undefined, undefined] : parseRanks(flags.rankRange, '--rank-range').filter((_, q, all) => q === 0 || q === all.length - 1);
  const source = await openInput(input, flags);
  const { rank, table } = await searchRank(source, {
    ...(from === undefined ? {} : { range: [from, to ?? from] as const }), ...maskOf(flags), ...await maskSourceOf(flags),
    ...(flags.maxIterations === undefined ? {} : { maxIterations: flags.maxIterations }), ...(flags.tol === undefined ? {} : { tol: flags.tol }),
    ...(flags.seed === undefined ? {} : { seed: flags.seed }), ...(flags.solver === undefined ? {} : { solver: flags.solver }),
  });
  const found = { autoRank: rank, minRank: table.minRank, ranks: table.ranks, testLoss: table.testLoss, testLossSe: table.testLossSe };
  if (!flags.quiet) print(flags.json ? JSON.stringify(found) : `rank auto: ${rank} (1-SE rule; minimum at ${table.minRank}; ranks evaluated ${table.ranks.join(', ')})`);
  return rank;
}

/** A masked fit's train and test loss, for the JSON lines. */
export const losses = (p: { trainLoss?: number; testLoss?: number }): object =>
  (p.trainLoss === undefined ? {} : { trainLoss: p.trainLoss, ...(p.testLoss === undefined ? {} : { testLoss: p.testLoss }) });

/** The mask and test-set flags as options (`--mask FILE`, anything but 'zeros', is the mask source: maskSourceOf). */
export function maskOf(flags: MaskFlags): Partial<FitOptions> {
  const out: Record<string, unknown> = {};
  for (const key of ['mask', 'missing', 'testFraction', 'testSeed', 'testZeros', 'earlyStop'] as const) if (flags[key] !== undefined) out[key] = flags[key];
  if (maskFile(flags) !== undefined) delete out.mask;
  return out as Partial<FitOptions>;
}

/** The flags of the mask and test set (fit, cv). */
export interface MaskFlags extends InputFlags {
  /** 'zeros', or a matrix file whose entries are missing (maskSource). */
  mask?: string;
  missing?: 'error' | 'nan';
  testFraction?: number;
  testSeed?: number;
  testZeros?: 'sampled' | 'all' | 'none';
  earlyStop?: boolean;
}

/** `--mask FILE`: the path, when the flag is not the keyword 'zeros'. */
const maskFile = (flags: MaskFlags): string | undefined => (flags.mask === undefined || flags.mask === 'zeros' ? undefined : flags.mask);

/**
 * `--mask FILE`: the mask source (maskSource), opened as an input of any format with the data's layout flags and
 * orientation (not --missing: a NaN in the mask is an error); nothing for `--mask zeros` or no --mask.
 */
export async function maskSourceOf(flags: MaskFlags): Promise<Partial<FitOptions>> {
  const path = maskFile(flags);
  if (path === undefined) return {};
  const { missing: _missing, sampleNames: _names, budget: _budget, ...layout } = flags;
  return { maskSource: await openInput(path, layout) };
}

/** --init-w / --init-h as arrays, checked against the shape where it is known. */
export async function readInit(flags: FitFlags, shape: { features?: number | undefined; samples?: number | undefined }): Promise<{ W?: Float64Array; H?: Float64Array }> {
  const k = flags.rank as number;
  return {
    ...(flags.initW ? { W: (await readCsvMatrix(flags.initW, { cols: k, ...(shape.features === undefined ? {} : { rows: shape.features }) })).data } : {}),
    ...(flags.initH ? { H: (await readCsvMatrix(flags.initH, { rows: k, ...(shape.samples === undefined ? {} : { cols: shape.samples }) })).data } : {}),
  };
}

/** The flags that need --nats, and those --nats refuses: usage errors before anything is read. */
export function checkNatsFlags(flags: FitFlags, online: boolean): void {
  for (const [flag, value] of [['--replicas', flags.replicas], ['--ack-wait', flags.ackWait], ['--idle-timeout', flags.idleTimeout], ['--codes-every', flags.codesEvery], ['--out-h-parts', flags.outHParts]] as const) {
    if (value !== undefined && flags.nats === undefined) throw new OptionError(flag, flag === '--out-h-parts' ? 'with --nats only (in one process: --out-h FILE)' : '--nats as well', value);
  }
  if (flags.nats !== undefined && online) throw new OptionError('--online', 'nothing with --nats (the fit on NATS is the batch fit)', true);
  if (flags.codesEvery !== undefined && flags.codesEvery < 1) throw new OptionError('--codes-every', 'a whole number of passes, 1 or more', flags.codesEvery);
  if (flags.nats !== undefined && flags.mask !== undefined && flags.mask !== 'zeros') {
    throw new OptionError('--mask', 'nothing but zeros with --nats (the fit on NATS refuses masks)', flags.mask);
  }
}
