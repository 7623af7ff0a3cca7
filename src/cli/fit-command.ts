/**
 * `nmflow fit <input> --rank K …`: fit a model to a file and report progress.
 * With --json: one JSON object per line, one per iteration, then a final `{"done":true,…}` line.
 */
import type { Command } from 'commander';
import { EMPTY, tap } from 'rxjs';
import { OptionError } from '../errors.js';
import { writeFactorsH, writeModel, modelFormatOf } from '../io/model-file.js';
import { resolveOptions, type FitOptions, type InitMethod } from '../options.js';
import { fit } from '../pipeline/fit.js';
import { fitOnline, type OnlineOptions } from '../pipeline/fit-online.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';
import { fitBudget, resolveMemoryLimit } from '../memory-limit.js';
import { addInputFlags, openInput } from './open-input.js';
import { untilInterrupted } from './interrupt.js';
import { jsonProgress } from './pass-progress.js';
import { makeFitProgress } from './progress.js';
import { addTableFlags, parseInteger } from './parse-flags.js';
import { autoRank, checkNatsFlags, losses, maskOf, maskSourceOf, readInit, type MaskFlags } from './fit-flag-values.js';
import { formatsFor } from '../format/registry.js';
import { addClusterFitFlags, fitOnNatsCli, type ClusterFlags } from './cluster-commands.js';

export interface FitFlags extends MaskFlags, ClusterFlags {
  rank: number | 'auto';
  rankRange?: string;
  loss?: 'l2' | 'l1';
  lambda?: number;
  l1?: [number, number];
  l2?: [number, number];
  maxIterations?: number;
  tol?: number;
  seed?: number;
  init?: string;
  initW?: string;
  initH?: string;
  warmup?: number;
  out?: string;
  outH?: string;
  nnls?: 'active-set' | 'cd';
  solver?: 'exact' | 'fast';
  threads?: number;
  diag?: boolean;
  tempDir?: string;
  checkpoint?: string;
  checkpointEvery?: number;
  checkpointChunks?: number;
  resume?: string;
  online?: boolean;
  forgetting?: number;
  window?: number;
  sweeps?: number;
  emitEvery?: number;
  json?: boolean;
  progressEvery?: number;
  quiet?: boolean;
}

export function addFitCommand(program: Command, print: (line: string) => void): void {
  const command = program.command('fit')
    .description('fit a nonnegative matrix factorization A ≈ W diag(d) H to a file (features × samples)')
    .argument('<input>', `the data (features × samples): ${formatsFor('matrix')}`);
  // The options' flags: names, parsers and help from the options table (options/table-fit.ts)
  addTableFlags(command, 'fitOnline', FIT_FLAGS)
    .option('--rank-range <from:to>', 'with --rank auto: the ranks searched (default 1:20)')
    .option('--init-w <W0.csv>', 'start from W0: m lines of k comma-separated numbers')
    .option('--init-h <H0.csv>', 'l1: start from H0: k lines of n comma-separated numbers (needs --init-w)')
    .option('--out <model>', `write the model (W with feature names, d): ${formatsFor('model')}`)
    .option('--out-h <H>', `write H (rank × samples): ${formatsFor('model')}`)
    .option('--online', 'one pass, chunk by chunk (fitOnline): W is updated after every chunk; one JSON line per snapshot')
    .option('--json', 'print one JSON object per iteration and a final summary line')
    .option('--progress-every <seconds>', 'with --json: also a {"progress":true,…} line (pass, chunk, rate, ETA) at most every this many seconds during a pass',
      (v: string) => { const x = Number(v); if (!(x > 0)) throw new OptionError('--progress-every', 'a number of seconds > 0', v); return x; })
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', `
Examples:
  nmflow fit examples/data/hawaiibirds.mtx.gz --rank 10 --out model.csv              # writes model.csv and model.csv.json
  nmflow fit filtered_feature_bc_matrix/ --rank 20 --out model.parquet --out-h H.parquet  # a 10x folder: gene and cell names
  nmflow fit digits.mtx --transpose --feature-names pixels.txt --rank 10 --out model.csv  # a samples × features file
  nmflow fit counts.parquet --layout long --feature gene --sample cell --value umi --rank 20 --out model.parquet
  nmflow fit table.parquet --layout wide --features f0,f1,f2 --rank 2 --json
  nmflow fit data.mtx.gz --rank 20 --l1 0.1,0 --json
  nmflow fit data.mtx --rank 10 --init nndsvd --json
  nmflow fit ratings.parquet --rank 10 --missing nan --test-fraction 0.05 --json   # NaN and NULL values are missing
  nmflow fit data.mtx --rank 10 --mask missing.mtx --json                # the entries of missing.mtx are missing
  nmflow fit big.mtx --rank 20 --checkpoint ckpt/ --out model.arrow     # killed? then: … --resume ckpt/
  nmflow fit huge.parquet --rank 20 --online --window 4 --sweeps 3 --emit-every 50 --json --out model.arrow
  nmflow fit data.mtx --rank 5 --loss l1 --lambda 0.1 --init-w W0.csv --init-h H0.csv --json`)
    .action(async (input: string, flags: FitFlags) => {
      await runFit(input, flags.rank === 'auto' ? { ...flags, rank: await autoRank(input, flags, print) } : flags, print);
    });
  // --rank auto: searched on the cross-validation curve (pipeline/auto-rank.ts) before the fit
  const rankFlag = command.options.find((o) => o.long === '--rank')!;
  const integer = parseInteger('--rank');
  rankFlag.argParser((value: string) => (value === 'auto' ? 'auto' : integer(value)));
  rankFlag.description += "; 'auto': the one-standard-error choice of a cross-validation search over --rank-range";
  addTableFlags(command, 'source', ['chunkSize', 'readAhead', 'memoryBudget']);
  addInputFlags(command);
  addClusterFitFlags(command);
}

/** The options of fit and fitOnline that have a flag here (`keepH` follows --out-h; `init.W`/`init.H` come from --init-w/--init-h). */
const FIT_FLAGS = [
  'rank', 'loss', 'lambda', 'l1', 'l2', 'maxIterations', 'tol', 'seed', 'init', 'warmupIterations', 'tempDir', 'solver', 'nnlsMethod', 'diag',
  'threads', 'checkpoint.dir', 'checkpoint.every', 'checkpoint.chunks', 'resumeFrom', 'forgetting', 'window', 'sweeps', 'emitEvery',
  'mask', 'missing', 'testFraction', 'testSeed', 'testZeros', 'earlyStop',
];

async function runFit(input: string, flags: FitFlags, print: (line: string) => void): Promise<void> {
  if (flags.out) modelFormatOf(flags.out);
  if (flags.outH) modelFormatOf(flags.outH);
  const base: FitOptions = {
    rank: flags.rank as number, ...maskOf(flags), ...(flags.loss === undefined ? {} : { loss: flags.loss }),
    ...(flags.lambda === undefined ? {} : { lambda: flags.lambda }),
    ...(flags.l1 === undefined ? {} : { l1: flags.l1 }),
    ...(flags.l2 === undefined ? {} : { l2: flags.l2 }),
    ...(flags.maxIterations === undefined ? {} : { maxIterations: flags.maxIterations }),
    ...(flags.tol === undefined ? {} : { tol: flags.tol }),
    ...(flags.seed === undefined ? {} : { seed: flags.seed }),
    ...(flags.init === undefined ? {} : { init: flags.init as InitMethod }),
    ...(flags.warmup === undefined ? {} : { warmupIterations: flags.warmup }),
    ...(flags.nnls === undefined ? {} : { nnlsMethod: flags.nnls }),
    ...(flags.solver === undefined ? {} : { solver: flags.solver }),
    keepH: flags.outH !== undefined,
    ...(flags.threads === undefined ? {} : { threads: flags.threads }),
    ...(flags.diag === false ? { diag: false } : {}),
    ...(flags.tempDir === undefined ? {} : { tempDir: flags.tempDir }),
    ...(flags.memoryLimit === undefined ? {} : { memoryLimit: flags.memoryLimit }),
    ...(flags.checkpoint === undefined ? {} : {
      checkpoint: {
        dir: flags.checkpoint, ...(flags.checkpointEvery === undefined ? {} : { every: flags.checkpointEvery }),
        ...(flags.checkpointChunks === undefined ? {} : { chunks: flags.checkpointChunks }),
      },
    }),
    ...(flags.resume === undefined ? {} : { resumeFrom: flags.resume }),
  };
  if (flags.checkpointEvery !== undefined && flags.checkpoint === undefined) throw new OptionError('--checkpoint-every', '--checkpoint as well', flags.checkpointEvery);
  if (flags.checkpointChunks !== undefined && flags.checkpoint === undefined) throw new OptionError('--checkpoint-chunks', '--checkpoint as well', flags.checkpointChunks);
  // the flag names the methods only (explicit arrays come from --init-w / --init-h)
  if (flags.init !== undefined && flags.init !== 'random' && flags.init !== 'nndsvd' && flags.init !== 'nndsvda') {
    throw new OptionError('--init', "'random', 'nndsvd' or 'nndsvda'", flags.init);
  }
  if (flags.init !== undefined && flags.init !== 'random' && (flags.initW || flags.initH)) {
    throw new OptionError('--init', "'random' or nothing with --init-w/--init-h (an explicit start)", flags.init);
  }
  resolveOptions(base); // bad flags are usage errors, reported before any file is read
  if (flags.initH && !flags.initW) throw new OptionError('--init-h', '--init-w as well', flags.initH);
  const online: OnlineOptions | undefined = flags.online ? {
    ...base,
    ...(flags.forgetting === undefined ? {} : { forgetting: flags.forgetting }),
    ...(flags.window === undefined ? {} : { window: flags.window }),
    ...(flags.sweeps === undefined ? {} : { sweeps: flags.sweeps }),
    ...(flags.emitEvery === undefined ? {} : { emitEvery: flags.emitEvery }),
  } : undefined;
  for (const [flag, value] of [['--forgetting', flags.forgetting], ['--window', flags.window], ['--sweeps', flags.sweeps], ['--emit-every', flags.emitEvery]] as const) {
    if (value !== undefined && !flags.online) throw new OptionError(flag, '--online as well', value);
  }
  if (online) {
    for (const [flag, value] of [['--max-iterations', flags.maxIterations], ['--tol', flags.tol], ['--out-h', flags.outH], ['--checkpoint-chunks', flags.checkpointChunks]] as const) {
      if (value !== undefined) throw new OptionError(flag, 'nothing with --online (one pass; each chunk is an iteration)', value);
    }
    fitOnline(EMPTY, online); // bad online flags are usage errors, before anything is read (nothing is subscribed)
  }
  checkNatsFlags(flags, online !== undefined);
  const loadStart = performance.now();
  // An .mtx is read now: its declared shape is checked against what this fit will need (memory-limit.ts).
  const budget = fitBudget(resolveMemoryLimit(flags.memoryLimit), { rank: flags.rank as number, loss: flags.loss ?? 'l2', threads: flags.threads });
  if (flags.nats !== undefined) {
    // the coordinator of a fit on NATS: the workers read the files (cli/cluster-commands.ts)
    const init = await readInit(flags, {}); // explicit starts: their shapes are checked by the coordinator
    const fitStart = performance.now();
    const model = await fitOnNatsCli(input, flags, init.W || init.H ? { ...base, init } : base, (p) => {
      if (flags.json && !flags.quiet) print(JSON.stringify({ iteration: p.iteration, relativeLoss: p.relativeLoss, objective: p.objective, tol: p.tol, seconds: p.seconds }));
    });
    await finishFit(input, flags, model, { loadSeconds: 0, fitSeconds: (performance.now() - fitStart) / 1000, online: false }, print);
    return;
  }
  const source = await openInput(input, { ...flags, budget });
  const init = await readInit(flags, source);
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const maskSource = await maskSourceOf(flags);
  const options: FitOptions = { ...base, ...maskSource, ...(init.W || init.H ? { init } : {}) };
  const progress = process.stderr.isTTY && !flags.json && !flags.quiet && !online
    ? makeFitProgress(flags.maxIterations ?? 100, source.samples) : undefined;
  const fitStart = performance.now();
  const report = (s: Snapshot): void => {
    if (s.final || flags.quiet) return;
    progress?.onSnapshot(s);
    if (flags.json) {
      print(JSON.stringify({ iteration: s.iteration, relativeLoss: s.relativeLoss, objective: s.objective, tol: s.tol, seconds: s.elapsedSeconds, ...losses(s) }));
    }
  };
  // Without a progress bar the batch fit emits only its final snapshot (no per-iteration copies of W); the
  // JSON lines come from its trace points, which have the same fields.
  const line = (p: TracePoint): void => {
    if (flags.json && !flags.quiet) print(JSON.stringify({ iteration: p.iteration, relativeLoss: p.relativeLoss, objective: p.objective, tol: p.tol, seconds: p.seconds, ...losses(p) }));
  };
  const fit$ = online ? fitOnline(source, { ...online, ...options }).pipe(tap(report))
    : progress ? fit(source, { ...options, onChunk: progress.onChunk }).pipe(tap(report))
      : fit(source, { ...options, emit: 'final', onIteration: line,
        ...(flags.json && !flags.quiet && flags.progressEvery ? { onChunk: jsonProgress(flags.maxIterations ?? 100, flags.progressEvery, print) } : {}) });
  let model: Snapshot;
  try {
    model = await untilInterrupted(fit$, () => {
      progress?.stop();
      const where = flags.checkpoint ? `; resume with --resume ${flags.checkpoint}` : '';
      process.stderr.write(`nmflow: interrupted, stopped cleanly${where}\n`);
    });
  } finally {
    progress?.stop();
  }
  await finishFit(input, flags, model, { loadSeconds, fitSeconds: (performance.now() - fitStart) / 1000, online: online !== undefined }, print);
}

/** Writes the model and H asked for and prints the summary (JSON or words). */
async function finishFit(input: string, flags: FitFlags, model: Snapshot, times: { loadSeconds: number; fitSeconds: number; online: boolean },
  print: (line: string) => void): Promise<void> {
  const { loadSeconds, fitSeconds, online } = times;
  const hParts = (model as Snapshot & { hParts?: readonly string[] }).hParts; // --out-h-parts with --nats
  if (flags.out) await writeModel(flags.out, model);
  if (flags.outH && model.H) await writeFactorsH(flags.outH, model.H, model.rank, model.samples, model.sampleNames);
  if (flags.quiet) return;
  if (flags.json) {
    print(JSON.stringify({
      done: true, iterations: model.iteration, relativeLoss: model.relativeLoss, objective: model.objective, ...losses(model),
      converged: model.converged, features: model.features, samples: model.samples, nnz: model.nnz, rank: model.rank,
      loss: model.loss, loadSeconds, fitSeconds, ...(model.initSeconds === undefined ? {} : { initSeconds: model.initSeconds }), ...(online ? { online: true } : {}), ...(flags.out ? { out: flags.out } : {}),
      ...(hParts === undefined ? {} : { hParts: flags.outHParts, hPartFiles: hParts.length }),
    }));
    return;
  }
  print(`nmflow fit ${input}: ${model.features} features × ${model.samples} samples, ${model.nnz} nonzeros, rank ${model.rank}, loss ${model.loss}`);
  print((online ? `  one online pass in ${model.iteration} chunks, running relative loss ${model.relativeLoss.toPrecision(6)}`
    : `  ${model.iteration} iterations (${model.converged ? 'converged' : 'stopped at --max-iterations'}), relative loss ${model.relativeLoss.toPrecision(6)}`)
    + (model.loss === 'l1' ? `, objective ${model.objective.toPrecision(6)}` : '') + `, tol ${model.tol.toExponential(2)}`);
  print(`  load ${loadSeconds.toFixed(3)} s, fit ${fitSeconds.toFixed(3)} s${model.initSeconds === undefined ? '' : ` (start ${flags.init} ${model.initSeconds.toFixed(3)} s)`} (${(fitSeconds / Math.max(1, model.iteration) * 1000).toFixed(1)} ms per ${online ? 'chunk' : 'iteration'})`);
  if (flags.out) print(`  wrote ${flags.out}`);
  if (flags.outH) print(`  wrote ${flags.outH}`);
  if (hParts !== undefined) print(`  the workers wrote H: ${hParts.length} Parquet parts in ${flags.outHParts} (${hParts[0]} …)`);
}
