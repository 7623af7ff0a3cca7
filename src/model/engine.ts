/**
 * The contract between the RxJS driver (pipeline/fit.ts) and a model family: one call per pass
 * start, one per chunk, one at the pass end. No RxJS here; the driver owns subscriptions.
 */
import type { CscChunk } from '../chunk/csc-chunk.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';

export interface PassSummary extends TracePoint {
  /** True when this pass met the stopping rule (the driver then emits the final snapshot). */
  readonly converged: boolean;
}

export interface Engine {
  /** True when the next iteration needs a pass over the data (false: the driver calls endPass directly). */
  readsData(): boolean;
  beginPass(): void;
  step(chunk: CscChunk): void;
  /** Ends a pass. `early`: snapshots to emit first (l1's iteration 0); `summary`: the iteration this
   * pass completed, absent for an internal pass (out-of-core l1: copying the data, warm-up). */
  endPass(elapsedSeconds: number): { readonly early: readonly Snapshot[]; readonly summary?: PassSummary };
  snapshot(summary: PassSummary, final: boolean, trace: readonly TracePoint[]): Snapshot;
  /** The full state after the last completed iteration (copies), for checkpoints. */
  exportState(): EngineState;
  /** Continue from an exported state: call right after the engine is made, before any pass. */
  importState(state: EngineState): void;
  /**
   * Mid-pass checkpoints (l2): the state after `chunks` chunks of the current pass — the state of the
   * last iteration plus the pass's partial statistics and H. Its `numbers.passChunks` tells the driver
   * how many chunks of that pass to skip when it resumes; `importState` takes it like any other.
   */
  exportPassState?(chunks: number): EngineState;
  /** Release threads and buffers (completion, error, unsubscribe). */
  close(): void;
  /** After an internal pass: a promise the driver awaits before the next pass (workers starting). */
  whenReady?(): Promise<void> | undefined;
}

/** An engine's state as plain numbers and Float64 arrays (see io/checkpoint.ts). */
export interface EngineState {
  readonly loss: 'l1' | 'l2';
  readonly numbers: Readonly<Record<string, number>>;
  readonly arrays: Readonly<Record<string, Float64Array>>;
}

export interface EngineContext {
  readonly sourceName: string;
  readonly featureNames: readonly string[] | undefined;
  /** Threads for the engine (1 = the calling thread only). */
  readonly threads: number;
}

/** One chunk of an online fit: the trace point it completes (tol: the change the family measures). */
export interface OnlineStep {
  readonly relativeLoss: number;
  readonly objective: number;
  /** Absent: the driver takes the objective's decrease since the last chunk. */
  readonly tol?: number;
  /** A masked online fit (issue #15): the losses over the observed and the held-out entries the family reports. */
  readonly trainLoss?: number;
  readonly testLoss?: number;
}

/** Worker threads of an online fit (parallel/l2-pool.ts, parallel/l1-pool.ts): started, then attached once ready. */
export interface OnlineRunner {
  readonly ready: Promise<void>;
  close(): void;
}

/**
 * The contract between pipeline/fit-online.ts and a model family's online fit: one call per chunk, a
 * snapshot on request, checkpoints at chunk boundaries. No RxJS here.
 */
export interface OnlineEngine {
  /** m so far (a chunk with more features grows the model: `grow`). */
  readonly features: number;
  readonly chunks: number;
  grow(m: number): void;
  step(chunk: CscChunk, sourceName: string): OnlineStep;
  snapshot(summary: TracePoint & { converged: boolean }, final: boolean, trace: readonly TracePoint[], featureNames: readonly string[] | undefined): Snapshot;
  exportState(): EngineState;
  /**
   * Continue from an exported state. The input then delivers the chunks the checkpoint had consumed
   * again: pass each to `remember` (the data of the saved window).
   */
  importState(saved: EngineState): void;
  remember(chunk: CscChunk): void;
  /** From now on, steps run on `runner` (its workers ready): the same bytes. */
  attach(runner: OnlineRunner): void;
}

/** The online settings every family reads (pipeline/fit-online.ts resolves them). */
export interface OnlineSettings {
  readonly window: number;
  readonly sweeps: number;
  readonly forgetting: number;
  /** l2 'fast': CD sweeps of the W re-solves after the warm-up. */
  readonly wSweeps: number;
}
