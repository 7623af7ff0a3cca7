/**
 * The four contenders of bench/peers.ts, each run as its own process on a Matrix Market file:
 * nmflow's CLI (default exact active-set NNLS, and `--nnls cd`), RcppML 0.3.7 through
 * ../shared/peers/rcppml_nmf.R and scikit-learn's NMF (solver 'cd') through
 * ../shared/peers/sklearn_nmf.py. Every runner returns the same record; a failure is a record
 * with `ok: false` and the tool's stderr, never an exception.
 */
import { jsonLines, runCommand, tail } from './run-command.js';

export type ToolName = 'nmflow' | 'nmflow-cd' | 'rcppml' | 'sklearn';

export const TOOL_LABELS: Record<ToolName, string> = {
  nmflow: 'nmflow',
  'nmflow-cd': 'nmflow --nnls cd',
  rcppml: 'RcppML',
  sklearn: 'sklearn',
};

export interface FitRequest {
  file: string;
  rank: number;
  maxIterations: number;
  tol: number;
  seed: number;
  /** Fits in this call: nmflow runs this many processes, a peer gets `--repeat` this. */
  repeat: number;
  /** Threads for nmflow (`--threads`) and RcppML (its threads argument and OMP_NUM_THREADS). Default 1. */
  threads?: number;
}

export interface ToolRun {
  tool: ToolName;
  ok: boolean;
  error?: string;
  /** Wall seconds of each fit (input reading excluded). */
  fitSeconds: number[];
  /** CPU seconds of each fit, where the tool reports them (the peers). */
  cpuSeconds: number[];
  iterations?: number;
  relativeLoss?: number;
  converged?: boolean;
  /** nmflow only: wall seconds of iteration 1 (JIT warm-up and the cold start), per fit. */
  firstIterationSeconds: number[];
  /** nmflow only: (t_N − t_1)/(N − 1), seconds per iteration after the first, per fit. */
  laterSecondsPerIteration: number[];
  /** Wall seconds of the processes, start-up and input reading included. */
  processSeconds: number;
  details: Record<string, unknown>;
}

export interface Environment {
  repoRoot: string;
  peersDir: string;
  env: NodeJS.ProcessEnv;
  timeoutSeconds: number;
}

export function runTool(tool: ToolName, request: FitRequest, environment: Environment): ToolRun {
  switch (tool) {
    case 'nmflow': return runNmflow(tool, request, environment, []);
    case 'nmflow-cd': return runNmflow(tool, request, environment, ['--nnls', 'cd']);
    case 'rcppml': return runRcppml(request, environment);
    case 'sklearn': return runSklearn(request, environment);
  }
}

function emptyRun(tool: ToolName): ToolRun {
  return { tool, ok: false, fitSeconds: [], cpuSeconds: [], firstIterationSeconds: [], laterSecondsPerIteration: [], processSeconds: 0, details: {} };
}

function failed(run: ToolRun, error: string, stderr: string): ToolRun {
  const message = stderr.trim() === '' ? error : `${error}\n${tail(stderr)}`;
  return { ...run, ok: false, error: message };
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
/** R's jsonlite unboxes a length-1 vector: accept a number or an array of numbers. */
const numbers = (value: unknown): number[] =>
  (Array.isArray(value) ? value : [value]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));

function runNmflow(tool: ToolName, request: FitRequest, environment: Environment, extra: string[]): ToolRun {
  const run = emptyRun(tool);
  const args = [
    `${environment.repoRoot}/bin/nmflow.js`, 'fit', request.file, '--rank', String(request.rank),
    '--max-iterations', String(request.maxIterations), '--tol', String(request.tol), '--seed', String(request.seed),
    '--json', '--threads', String(request.threads ?? 1), ...extra,
  ];
  const losses = new Set<number>();
  for (let r = 0; r < request.repeat; r++) {
    const result = runCommand(process.execPath, args, { env: environment.env, cwd: environment.repoRoot, timeoutSeconds: environment.timeoutSeconds });
    run.processSeconds += result.seconds;
    if (!result.ok) return failed(run, result.error ?? 'failed', result.stderr);
    const lines = jsonLines(result.stdout);
    const done = lines.find((line) => line['done'] === true);
    const fitSeconds = num(done?.['fitSeconds']);
    if (done === undefined || fitSeconds === undefined) return failed(run, 'nmflow printed no final {"done":true,…} line with fitSeconds', result.stderr);
    run.fitSeconds.push(fitSeconds);
    const iterations = num(done['iterations']);
    const loss = num(done['relativeLoss']);
    if (iterations !== undefined) run.iterations = iterations;
    if (loss !== undefined) { run.relativeLoss = loss; losses.add(loss); }
    if (typeof done['converged'] === 'boolean') run.converged = done['converged'];
    run.details = { loadSeconds: done['loadSeconds'], features: done['features'], samples: done['samples'], nnz: done['nnz'] };
    const times = lines.filter((line) => typeof line['iteration'] === 'number').map((line) => num(line['seconds']) ?? NaN);
    const first = times[0];
    const last = times[times.length - 1];
    if (first !== undefined) run.firstIterationSeconds.push(first);
    if (first !== undefined && last !== undefined && times.length > 1) run.laterSecondsPerIteration.push((last - first) / (times.length - 1));
  }
  // The same seed must give the same model: a difference means the runs are not comparable.
  if (losses.size > 1) run.details['warning'] = `relative loss differs between runs: ${[...losses].join(', ')}`;
  return { ...run, ok: true };
}

function runRcppml(request: FitRequest, environment: Environment): ToolRun {
  const run = emptyRun('rcppml');
  const args = [
    `${environment.peersDir}/rcppml_nmf.R`, request.file, String(request.rank), String(request.maxIterations),
    String(request.tol), '0', '0', String(request.seed), String(request.threads ?? 1), `--repeat=${request.repeat}`,
  ];
  const env = { ...environment.env, OMP_NUM_THREADS: String(request.threads ?? 1) };
  const result = runCommand('Rscript', args, { env, timeoutSeconds: environment.timeoutSeconds });
  run.processSeconds = result.seconds;
  if (!result.ok) return failed(run, result.error ?? 'failed', result.stderr);
  const out = jsonLines(result.stdout)[0];
  if (out === undefined) return failed(run, 'rcppml_nmf.R printed no JSON line', result.stderr);
  run.fitSeconds = numbers(out['fit_seconds_all']);
  run.cpuSeconds = numbers(out['cpu_seconds_all']);
  const iterations = num(out['iterations']);
  const loss = num(out['rel_loss']);
  const finalTol = num(out['final_tol']);
  if (iterations !== undefined) run.iterations = iterations;
  if (loss !== undefined) run.relativeLoss = loss;
  if (finalTol !== undefined && request.tol > 0) run.converged = finalTol < request.tol;
  run.details = {
    version: out['version'], iterReported: out['iter_reported'], finalTol: out['final_tol'],
    ompNumThreadsEnv: out['omp_num_threads_env'], threads: out['threads'],
  };
  if (run.fitSeconds.length === 0 || loss === undefined) return failed(run, 'rcppml_nmf.R output lacks fit_seconds_all or rel_loss', result.stderr);
  return { ...run, ok: true };
}

function runSklearn(request: FitRequest, environment: Environment): ToolRun {
  const run = emptyRun('sklearn');
  const args = [
    `${environment.peersDir}/sklearn_nmf.py`, request.file, String(request.rank), String(request.maxIterations),
    String(request.tol), '0', '0', String(request.seed), '--repeat', String(request.repeat), '--threads', '1',
  ];
  const result = runCommand('/usr/bin/python3', args, { env: environment.env, timeoutSeconds: environment.timeoutSeconds });
  run.processSeconds = result.seconds;
  if (!result.ok) return failed(run, result.error ?? 'failed', result.stderr);
  const out = jsonLines(result.stdout)[0];
  if (out === undefined) return failed(run, 'sklearn_nmf.py printed no JSON line', result.stderr);
  run.fitSeconds = numbers(out['fit_seconds_all']);
  run.cpuSeconds = numbers(out['cpu_seconds_all']);
  const iterations = num(out['iterations']);
  const loss = num(out['rel_loss']);
  if (iterations !== undefined) run.iterations = iterations;
  if (loss !== undefined) run.relativeLoss = loss;
  if (typeof out['converged'] === 'boolean') run.converged = out['converged'];
  run.details = { version: out['version'], solver: out['solver'], init: out['init'], tolSemantics: out['tol_semantics'] };
  if (run.fitSeconds.length === 0 || loss === undefined) return failed(run, 'sklearn_nmf.py output lacks fit_seconds_all or rel_loss', result.stderr);
  return { ...run, ok: true };
}
