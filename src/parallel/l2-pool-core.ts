/**
 * The state of a least-squares worker pool (l2-pool.ts), named: the shared buffers and their views, the
 * workers, the model state on shared memory, the B phase's row ranges; and its small transitions — run a
 * command on every thread, post new buffers, grow the buffers for a chunk, share out blocks.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { makeRandom } from '../kernel/random.js';
import { NNLS_CD_WARM } from '../kernel/nnls-solve.js';
import type { NnlsSettings } from '../model/l2/phases.js';
import { makeL2State, type L2State } from '../model/l2/state.js';
import { makeWasmBlocksL2, type WasmBlocksL2 } from '../model/l2/wasm-blocks.js';
import type { ResolvedOptions } from '../options.js';
import {
  BLOCK, BLOCKS, BUFFERS, CTRL_LENGTH, NEXT, P_L1H, P_L1W, P_METHOD, P_SWEEPS, P_TOL, P_WASM, THREADS, TIME_LAST, TIME_SLOTS, TIME_WAIT,
  smallBytes, smallViews, type SharedBuffers,
} from './l2-shared.js';
import { makeSharedChunk, sharedBuffer as sab, type SharedChunk } from './shared-chunk.js';
import { runOnAll, startWorkers } from './workers.js';

const MAX_THREADS = 64;

export interface PoolCore {
  readonly T: number;
  readonly k: number;
  readonly options: ResolvedOptions;
  readonly separateBn: boolean;
  buffers: SharedBuffers;
  readonly chunkBuffers: SharedChunk;
  readonly ports: MessagePort[];
  readonly workers: ReturnType<typeof startWorkers>['workers'];
  readonly failures: ReturnType<typeof startWorkers>['failures'];
  readonly ready: Promise<void>;
  flags: Int32Array;
  readonly ctrl: Int32Array;
  readonly params: Float64Array;
  readonly counts: Float64Array;
  readonly times: Float64Array;
  /** The 'fast' solver: every thread runs its share of the phases in WebAssembly, this one too. */
  fast: WasmBlocksL2 | undefined;
  state: L2State;
  Bn: Float64Array;
  readonly nnls: NnlsSettings;
  lastGram: number;
  /** The B phase's row ranges as fractions of m (l2-pool-phases.ts rebalance). */
  readonly cuts: Float64Array;
  readonly target: Float64Array;
}

/** `separateBn`: the W-update writes the normalised AHᵀ to its own array and keeps B (online fitting). */
export function makePoolCore(m: number, options: ResolvedOptions, threads: number, separateBn: boolean): PoolCore {
  const k = options.rank;
  const T = Math.min(threads, MAX_THREADS);
  const chunkBuffers = makeSharedChunk();
  const B0 = sab(8 * m * k);
  const buffers: SharedBuffers = {
    m, k, ctrl: sab(4 * CTRL_LENGTH), params: sab(8 * 8), counts: sab(8 * 3 * T), times: sab(8 * TIME_SLOTS * T),
    W: sab(8 * m * k), Wprev: sab(8 * m * k), B: B0, Bn: separateBn ? sab(8 * m * k) : B0, small: sab(smallBytes(k)), H: sab(8 * 1024 * k),
    Bu: sab(8 * m * k), last: sab(4 * m),
    flags: sab(4 * 1024), ...chunkBuffers.buffers,
  };
  // Workers first: they load and warm up while this thread makes the state (and warms up its kernels).
  const ports: MessagePort[] = [];
  const url = new URL(import.meta.url.endsWith('.ts') ? './l2-worker.ts' : './l2-worker.js', import.meta.url);
  const { workers, failures, ready } = startWorkers(url, T, (t) => {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(buffers);
    ports.push(port1);
    return { workerData: { index: t, port: port2 }, transferList: [port2] };
  });
  const fast = options.nnlsMethod === NNLS_CD_WARM && options.wasm ? makeWasmBlocksL2(m, k) : undefined;
  const state = makeL2State(m, options, makeRandom(options.seed), {
    W: new Float64Array(buffers.W), Wprev: new Float64Array(buffers.Wprev), B: new Float64Array(buffers.B), H: new Float64Array(buffers.H),
    ...smallViews(buffers.small, k), Bu: new Float64Array(buffers.Bu), last: new Int32Array(buffers.last),
  }, { warmUp: fast === undefined });
  const core: PoolCore = {
    T, k, options, separateBn, buffers, chunkBuffers, ports, workers, failures, ready, flags: new Int32Array(buffers.flags),
    ctrl: new Int32Array(buffers.ctrl), params: new Float64Array(buffers.params), counts: new Float64Array(buffers.counts),
    times: new Float64Array(buffers.times), fast, state, Bn: new Float64Array(buffers.Bn),
    nnls: { maxSweeps: options.nnlsMaxSweeps, tol: options.nnlsTol, method: options.nnlsMethod }, lastGram: -1,
    cuts: Float64Array.from({ length: T + 1 }, (_, t) => t / T), target: new Float64Array(T + 1),
  };
  const { params } = core;
  params[P_L1H] = options.l1H; params[P_L1W] = options.l1W;
  params[P_SWEEPS] = options.nnlsMaxSweeps; params[P_TOL] = options.nnlsTol; params[P_METHOD] = options.nnlsMethod;
  params[P_WASM] = fast === undefined ? 0 : 1;
  core.ctrl[THREADS] = T;
  return core;
}

export function clock(core: PoolCore, slot: number, since: number): void {
  core.times[slot] = core.times[slot]! + performance.now() - since;
}

/** Run one command on every worker and the main thread's share; wait at the barrier. */
export function runCommand(core: PoolCore, command: number, mainShare: () => void): void {
  const { times } = core;
  const started = performance.now();
  let shared = started;
  runOnAll(core.ctrl, core.T, command, () => {
    mainShare();
    shared = performance.now();
    clock(core, command, started);
    times[TIME_LAST] = shared - started;
  }, core.failures);
  clock(core, TIME_WAIT + command, shared);
}

/**
 * New buffers for the workers: posted, then BUFFERS counted up; each worker binds them at the start
 * of its next command. No barrier, so a worker still warming up does not hold this thread back.
 */
export function rebind(core: PoolCore): void {
  core.buffers = { ...core.buffers };
  for (const port of core.ports) port.postMessage(core.buffers);
  Atomics.add(core.ctrl, BUFFERS, 1);
}

/** Flags for `blocks` column blocks, H for the chunk's samples, the chunk's buffers: larger ones when needed. */
export function ensureCapacity(core: PoolCore, chunk: CscChunk, blocks: number): void {
  const { state, k } = core;
  let changed = false;
  if (core.flags.length < blocks) {
    core.buffers = { ...core.buffers, flags: sab(4 * Math.max(blocks, core.flags.length * 2)) };
    core.flags = new Int32Array(core.buffers.flags);
    changed = true;
  }
  const needH = (chunk.colStart + chunk.n) * k * 8;
  // H is replaced by a larger shared one when it is too small, and also when it is not the shared
  // one any more (resuming from a checkpoint sets state.H to an ordinary array).
  if (state.H.byteLength < needH || state.H.buffer !== core.buffers.H) {
    const next = sab(Math.max(needH, state.H.byteLength * 2));
    const view = new Float64Array(next);
    view.set(state.H);
    state.H = view;
    core.buffers = { ...core.buffers, H: next };
    changed = true;
  }
  if (core.chunkBuffers.reserve(chunk)) { core.buffers = { ...core.buffers, ...core.chunkBuffers.buffers }; changed = true; }
  if (changed) rebind(core);
}

/** Blocks of `size` out of `count` columns or rows: the counter at 0, the sizes in the control block. */
export function share(core: PoolCore, count: number, size: number): number {
  const blocks = Math.ceil(count / size);
  core.ctrl[BLOCK] = size;
  core.ctrl[BLOCKS] = blocks;
  Atomics.store(core.ctrl, NEXT, 0);
  return blocks;
}
