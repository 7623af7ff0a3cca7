/**
 * The fit command's mask, test-set and `--rank auto` flags (issue #15): the options they give, the rank searched on
 * the cross-validation curve before the fit, and the train/test losses of the JSON lines.
 */
import type { FitOptions } from '../options.js';
import { searchRank } from '../pipeline/auto-rank.js';
import { parseRanks } from '../pipeline/cv-table.js';
import type { FitFlags } from './fit-command.js';
import { openInput } from './open-input.js';

/** --rank auto: the rank chosen by searchRank on the input (one line: JSON with --json). */
export async function autoRank(input: string, flags: FitFlags, print: (line: string) => void): Promise<number> {
  const [from, to] = flags.rankRange === undefined ? [undefined, undefined] : parseRanks(flags.rankRange, '--rank-range').filter((_, q, all) => q === 0 || q === all.length - 1);
  const source = await openInput(input, flags);
  const { rank, table } = await searchRank(source, {
    ...(from === undefined ? {} : { range: [from, to ?? from] as const }), ...maskOf(flags),
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

/** The mask and test-set flags as options. */
export function maskOf(flags: FitFlags): Partial<FitOptions> {
  const out: Record<string, unknown> = {};
  for (const key of ['mask', 'missing', 'testFraction', 'testSeed', 'testZeros', 'earlyStop'] as const) if (flags[key] !== undefined) out[key] = flags[key];
  return out as Partial<FitOptions>;
}
