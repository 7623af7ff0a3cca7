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
  /** Snapshots to emit before the first pass (l1 with an explicit start emits iteration 0). */
  initialSnapshots(elapsedSeconds: number): Snapshot[];
  /** True when the next pass is a data pass (false: the engine has finished). */
  beginPass(): void;
  step(chunk: CscChunk): void;
  endPass(elapsedSeconds: number): PassSummary;
  snapshot(summary: PassSummary, final: boolean, trace: readonly TracePoint[]): Snapshot;
}

export interface EngineContext {
  readonly sourceName: string;
  readonly featureNames: readonly string[] | undefined;
}
