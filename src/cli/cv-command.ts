/**
 * `nmflow cv <input> --ranks 2:20 [--replicates 3] [--test-fraction 0.05] [--json]`: cross-validation over ranks
 * (pipeline/cross-validate.ts). A progress bar over the fits on a terminal; with --json one line per (rank,
 * replicate) and a final line `{"done":true,"bestRank",…,"minRank","ranks","testLoss","testLossSe","trainLoss"}`;
 * otherwise a table. `--out cv.json` writes the final table (the report's CV plot reads it: nmflow report --cv).
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { tap } from 'rxjs';
import { formatsFor } from '../format/registry.js';
import { fitBudget, resolveMemoryLimit } from '../memory-limit.js';
import { crossValidate, CV_TEST_FRACTION, type CrossValidateOptions, type CvTable } from '../pipeline/cross-validate.js';
import { parseRanks } from '../pipeline/cv-table.js';
import { untilInterrupted } from './interrupt.js';
import { addInputFlags, openInput, type InputFlags } from './open-input.js';
import { addTableFlags, parseInteger } from './parse-flags.js';
import { maskOf, maskSourceOf } from './fit-flag-values.js';

interface CvFlags extends InputFlags {
  ranks: string;
  replicates?: number;
  testFraction?: number;
  testSeed?: number;
  testZeros?: 'sampled' | 'all' | 'none';
  /** 'zeros', or a matrix file whose entries are missing (maskSource). */
  mask?: string;
  loss?: 'l2' | 'l1';
  lambda?: number;
  warmup?: number;
  tempDir?: string;
  missing?: 'error' | 'nan';
  earlyStop?: boolean;
  maxIterations?: number;
  tol?: number;
  seed?: number;
  solver?: 'exact' | 'fast';
  l1?: [number, number];
  l2?: [number, number];
  out?: string;
  report?: string;
  json?: boolean;
  quiet?: boolean;
}

/** The fit options with a flag on `nmflow cv` (their names, parsers and help: the options table). */
const CV_FLAGS = [
  'loss', 'lambda', 'warmupIterations', 'tempDir', 'testFraction', 'testSeed', 'testZeros', 'mask', 'missing', 'earlyStop', 'maxIterations', 'tol', 'seed', 'solver', 'l1', 'l2',
];

export function addCvCommand(program: Command, print: (line: string) => void): void {
  const command = program.command('cv')
    .description('cross-validate the rank: the loss of held-out entries per rank and replicate, and the chosen rank')
    .argument('<input>', `the data (features × samples): ${formatsFor('matrix')}`)
    .requiredOption('--ranks <ranks>', 'the ranks to compare: FROM:TO[:STEP] or a comma-separated list')
    .option('--replicates <N>', 'fits per rank, each with its own held-out set (default: 3)', parseInteger('--replicates'))
    .option('--out <cv.json>', 'write the final table as JSON (for nmflow report --cv)')
    .option('--report <cv.html>', 'write an HTML report with the plot of train/test loss against rank, the chosen rank marked')
    .option('--json', 'print one JSON object per (rank, replicate) and a final line with bestRank, minRank, ranks, testLoss, testLossSe')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', `
The test loss is the mean loss per entry over a speckled held-out set (--test-fraction, default ${CV_TEST_FRACTION}):
the squared error with --loss l2, the weighted L1 loss (|a − â| for a nonzero, λ·â for a zero) with --loss l1.
bestRank: the smallest rank whose mean test loss is within one standard error of the minimum (minRank).
Examples:
  nmflow cv examples/data/hawaiibirds.mtx.gz --ranks 2:20 --json
  nmflow cv ratings.mtx --ranks 1:10 --mask zeros --replicates 3 --out cv.json
  nmflow cv data.mtx --ranks 2:10 --mask missing.mtx        # the entries of missing.mtx are missing in data.mtx
  nmflow cv examples/data/hawaiibirds.mtx.gz --ranks 2:8 --loss l1 --lambda 0.5`)
    .action(async (input: string, flags: CvFlags) => { await runCv(input, flags, print); });
  addTableFlags(command, 'fit', CV_FLAGS);
  addTableFlags(command, 'source', ['chunkSize']);
  addInputFlags(command);
}

async function runCv(input: string, flags: CvFlags, print: (line: string) => void): Promise<void> {
  const ranks = parseRanks(flags.ranks);
  const pick = <K extends keyof CvFlags>(key: K): Partial<Pick<CvFlags, K>> => (flags[key] === undefined ? {} : { [key]: flags[key] } as Pick<CvFlags, K>);
  const options: CrossValidateOptions = {
    ranks, ...pick('replicates'), ...pick('testFraction'), ...pick('testSeed'), ...pick('testZeros'), ...maskOf(flags),
    ...pick('loss'), ...pick('lambda'), ...(flags.warmup === undefined ? {} : { warmupIterations: flags.warmup }), ...pick('tempDir'),
    ...pick('earlyStop'), ...pick('maxIterations'), ...pick('tol'), ...pick('seed'), ...pick('solver'), ...pick('l1'), ...pick('l2'), ...pick('memoryLimit'),
  };
  const budget = fitBudget(resolveMemoryLimit(flags.memoryLimit), { rank: Math.max(...ranks), loss: flags.loss ?? 'l2' });
  const source = await openInput(input, { ...flags, budget });
  const cv$ = crossValidate(source, { ...options, ...await maskSourceOf(flags) }); // bad options throw here, before anything is fitted
  const total = ranks.length * (flags.replicates ?? 3);
  const bar = process.stderr.isTTY && !flags.json && !flags.quiet ? new SingleBar({
    format: 'fits {value}/{total} |{bar}| rank {rank} replicate {replicate} iteration {iteration} | test loss {test} | ETA {eta_formatted}',
    stream: process.stderr, hideCursor: true, clearOnComplete: true, fps: 10,
  }) : undefined;
  bar?.start(total, 0, { rank: ranks[0], replicate: 1, iteration: 0, test: '–' });
  let done = 0;
  let table: CvTable | undefined;
  try {
    await untilInterrupted(cv$.pipe(tap((e) => {
      if (e.kind === 'iteration') bar?.update(done, { rank: e.rank, replicate: e.replicate + 1, iteration: e.iteration, test: e.testLoss.toPrecision(5) });
      else if (e.kind === 'fit') {
        bar?.update(++done);
        if (flags.json && !flags.quiet) print(JSON.stringify({ rank: e.rank, replicate: e.replicate, iterations: e.iterations, trainLoss: e.trainLoss, testLoss: e.testLoss, seconds: e.seconds }));
      } else table = e;
    })), () => { bar?.stop(); process.stderr.write('nmflow: interrupted\n'); });
  } finally {
    bar?.stop();
  }
  const t = table!;
  if (flags.out) await writeFile(flags.out, JSON.stringify({ ...t, fits: t.fits }, null, 1));
  if (flags.report) {
    const { buildReport } = await import('../report/build-report.js'); // Vega loads only when a report is made
    await writeFileAtomic(flags.report, await buildReport([], { cv: t, title: `nmflow cv: ${basename(input)}` }));
  }
  if (flags.quiet) return;
  if (flags.json) {
    const { kind: _kind, fits: _fits, ...summary } = t;
    print(JSON.stringify({ done: true, ...summary, ...(flags.out ? { out: flags.out } : {}), ...(flags.report ? { report: flags.report } : {}) }));
    return;
  }
  print(`nmflow cv ${input}: test fraction ${t.testFraction}, ${t.replicates} replicate(s) per rank`);
  print('  rank   train loss    test loss      ± SE');
  t.ranks.forEach((r, q) => {
    const mark = r === t.bestRank ? '  ← bestRank (1-SE rule)' : r === t.minRank ? '  ← minRank' : '';
    print(`  ${String(r).padStart(4)}  ${t.trainLoss[q]!.toExponential(4)}  ${t.testLoss[q]!.toExponential(4)}  ${t.testLossSe[q]!.toExponential(2)}${mark}`);
  });
  print(`  bestRank ${t.bestRank} (minimum at rank ${t.minRank})`);
  for (const path of [flags.out, flags.report]) if (path) print(`  wrote ${path}`);
}
