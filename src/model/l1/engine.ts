/**
 * Weighted L1-NMF (docs/architecture.md, Weighted L1) as an Engine. The first pass gathers the matrix in memory (or
 * takes the in-memory source's matrix as is) and builds the transposed index once; then each
 * iteration is one sCD sweep (W then H) over the in-memory problem, so later passes read no data.
 * Start: an explicit W0/H0 exactly (iteration 0 is reported), or the paper's recipe — seeded
 * random W, H, the best scalar α, balanced pairs — followed by `warmupIterations` least-squares
 * iterations. Stops when F_{t−1} − F_t < tol (relative objective). Snapshots present the model as
 * W diag(d) H with unit column sums of W and unit row sums of H (the product is unchanged).
 */
import { makeCscBuilder, type CscBuilder } from '../../chunk/csc-builder.js';
import type { CscChunk } from '../../chunk/csc-chunk.js';
import { makeRandom } from '../../kernel/random.js';
import { ensureScdWorkspace, makeScdWorkspace } from '../../kernel/scd-workspace.js';
import type { ResolvedOptions } from '../../options.js';
import type { Snapshot, TracePoint } from '../../snapshot/snapshot.js';
import type { CscMatrix } from '../../chunk/csc-matrix.js';
import { OptionError } from '../../errors.js';
import type { Engine, EngineContext, EngineState, PassSummary } from '../engine.js';
import { makeL1Problem, type L1Problem } from './problem.js';
import { l1Start } from './start.js';
import { leastSquaresWarmup } from './least-squares-start.js';
import { l1Objective, scdIteration } from './iteration.js';
import { l1Snapshot, squaredLoss } from './snapshot.js';
import { makeMaskedL1Problem, maskedLambda, maskedTestLoss, scdIterationMasked, type MaskedL1Problem } from './masked-problem.js';
import { maskedObjective } from './masked-lines.js';
import { splitL1Chunk } from './masked-split.js';
import { factorSums } from './iteration.js';

/**
 * A multi-threaded executor of the sCD iteration (parallel/l1-pool.ts implements it): `bind` copies
 * the problem and the factors to shared memory and returns the shared W and H, which the engine
 * uses from then on; `iterate` runs one iteration there and returns the absolute objective.
 */
export interface L1Runner {
  readonly threads: number;
  /**
   * Shares a problem and its factors with the workers (again for each new problem); returns the shared W and H.
   * With `masked` (a masked fit: its `problem` is masked.problem) the iteration is masked-problem.ts scdIterationMasked.
   */
  bind(problem: L1Problem, W: Float64Array, H: Float64Array, masked?: MaskedL1Problem): { W: Float64Array; H: Float64Array };
  /** Resolves when the workers (started with the runner) are ready; `iterate` needs them. */
  readonly ready: Promise<void>;
  iterate(): number;
  close(): void;
}

export function makeL1Engine(m: number, options: ResolvedOptions, context: EngineContext, matrix?: CscMatrix, runner?: L1Runner): Engine {
  const k = options.rank;
  let builder: CscBuilder | undefined = matrix ? undefined : makeCscBuilder(m);
  let problem: L1Problem | undefined;
  let W: Float64Array = new Float64Array(0);
  let H: Float64Array = new Float64Array(0);
  let previous = Infinity;
  let iteration = 0;
  let samplesSeen = 0;
  let nnzSeen = 0;
  const ws = makeScdWorkspace(k, 16);
  let resumed: EngineState | undefined;
  // a masked fit (issue #15): the observed problem, its masked entries and test set; losses per iteration
  const mask = options.mask;
  let masked: MaskedL1Problem | undefined;
  const base = new Float64Array(k);
  let fCols = new Float64Array(0), lastTest: number | undefined;

  const summaryOf = (objective: number, tol: number, seconds: number, absolute = 0): PassSummary => {
    if (masked === undefined) {
      return { iteration, relativeLoss: squaredLoss(problem!, W, H, k), objective, tol, seconds, converged: options.tol > 0 && iteration > 0 && tol < options.tol };
    }
    const testLoss = maskedTestLoss(masked, W, H, k);
    const rose = mask!.earlyStop && lastTest !== undefined && testLoss !== undefined && testLoss > lastTest;
    lastTest = testLoss;
    return {
      iteration, relativeLoss: objective, objective, tol, seconds, converged: rose || (options.tol > 0 && iteration > 0 && tol < options.tol),
      trainLoss: masked.observedCount > 0 ? absolute / masked.observedCount : 0, ...(testLoss === undefined ? {} : { testLoss }),
    };
  };

  const startObjective = (mp: MaskedL1Problem, W0: Float64Array, H0: Float64Array): number => {
    ensureScdWorkspace(ws, k, mp.problem.maxLine);
    factorSums(W0, mp.problem.m, k, base);
    return maskedObjective(mp.cols, mp.problem.n, 0, H0, W0, k, mp.problem.lambda, ws, base);
  };

  const snapshot = (summary: PassSummary, final: boolean, trace: readonly TracePoint[]): Snapshot =>
    l1Snapshot(W, H, problem!.m, problem!.n, k, problem!.nnz, summary, final, trace,
      { samplesSeen, nnzSeen, keepH: options.keepH, featureNames: context.featureNames });

  return {
    readsData: () => problem === undefined,
    beginPass: () => undefined,
    step: (chunk: CscChunk) => {
      builder?.append(chunk, context.sourceName);
      samplesSeen += chunk.n;
      nnzSeen += chunk.colPtr[chunk.n]!;
    },
    endPass: (seconds: number) => {
      const early: Snapshot[] = [];
      if (problem === undefined) {
        const whole = matrix ?? builder!.finish();
        builder = undefined;
        if (mask !== undefined) {
          masked = makeMaskedL1Problem([splitL1Chunk({ ...whole, colStart: 0, position: 0 }, mask)], whole.m, maskedLambda(mask, options.lambda));
          problem = masked.problem;
          fCols = new Float64Array(problem.n);
        } else {
          problem = makeL1Problem(whole, options.lambda);
        }
        const data = masked === undefined ? whole : problem; // a masked fit starts from its observed values alone
        if (resumed) {
          const { W: w, H: h } = resumed.arrays;
          if (!w || !h || w.length !== problem.m * k || h.length !== problem.n * k) {
            throw new OptionError('resume', `a checkpoint of an l1 fit of this ${problem.m}×${problem.n} matrix with rank ${k}`, 'another checkpoint');
          }
          W = Float64Array.from(w);
          H = Float64Array.from(h);
          previous = resumed.numbers.previous ?? Infinity;
          iteration = resumed.numbers.iteration ?? 0;
          samplesSeen += resumed.numbers.samplesSeen ?? 0;
          nnzSeen += resumed.numbers.nnzSeen ?? 0;
        } else if (options.initW && options.initH) {
          W = Float64Array.from(options.initW);
          H = transposeToSampleMajor(options.initH, k, problem.n);
          const f0 = masked === undefined ? l1Objective(problem, W, H, k, ws) : startObjective(masked, W, H);
          previous = f0 / (problem.sumA || 1);
          const start = summaryOf(previous, 0, seconds, f0);
          early.push(snapshot(start, false, []));
        } else {
          const start = l1Start(data, k, makeRandom(options.seed));
          W = start.W;
          H = start.H;
          if (options.initW) W = Float64Array.from(options.initW);
          if (options.warmupIterations > 0 || options.initW) {
            ({ W, H } = leastSquaresWarmup(data, W, k, Math.max(1, options.warmupIterations), options));
          }
        }
        if (runner) {
          // The driver waits for the workers (whenReady) before the first iteration.
          ({ W, H } = runner.bind(problem, W, H, masked));
          return { early };
        }
      }
      const absolute = runner ? runner.iterate()
        : masked ? scdIterationMasked(masked, W, H, k, ws, base, fCols) : scdIteration(problem, W, H, k, ws);
      const f = absolute / (problem.sumA || 1);
      iteration += 1;
      const tol = previous === Infinity ? Infinity : previous - f;
      previous = f;
      return { early, summary: summaryOf(f, tol, seconds, absolute) };
    },
    snapshot,
    exportState: (): EngineState => ({
      loss: 'l1',
      numbers: { iteration, previous, samplesSeen, nnzSeen },
      arrays: { W: W.slice(), H: H.slice() },
    }),
    close: () => runner?.close(),
    whenReady: () => runner?.ready,
    importState: (saved: EngineState) => {
      if (saved.loss !== 'l1') throw new OptionError('resume', 'a checkpoint of an l1 fit', 'an l2 checkpoint');
      resumed = saved;
    },
  };
}


/** k×n row-major (the public H layout) → n×k sample-major (the sCD layout). */
function transposeToSampleMajor(Hkn: Float64Array, k: number, n: number): Float64Array {
  const H = new Float64Array(n * k);
  for (let a = 0; a < k; a++) for (let j = 0; j < n; j++) H[j * k + a] = Hkn[a * n + j]!;
  return H;
}
