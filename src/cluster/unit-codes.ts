/**
 * A unit's codes (its columns of H) on a worker. The warm start of a unit's solve is its codes of the pass
 * before, wherever the unit runs. The worker that solved it holds them; the codes are stored in the broker only
 * every `codesEvery` passes (FitMeta; and at the last pass: the WorkItem says `codes`), and W of every pass since
 * the last stored codes stays (in its slot: protocol.ts blobSlot). A worker that gets a unit it does not hold (another
 * worker went, one joined, the coordinator resumed) takes the stored codes of the last such pass — zeros before the
 * first: every fit starts from them — and solves the unit again with the W of each pass since (its statistics
 * dropped): the same operations on the same operands, so the same codes, bytes for bytes.
 * Through the broker per pass: the codes (n·k·8 bytes) once in `codesEvery` passes instead of every pass.
 */
import type { RowBuffers } from '../kernel/row-runs.js';
import type { makeL2Engine } from '../model/l2/engine.js';
import { unitPassStats } from '../model/l2/pass-stats.js';
import { ensureHCapacity } from '../model/l2/state.js';
import { UNIT_SAMPLES } from '../model/l2/units.js';
import type { ResolvedOptions } from '../options.js';
import { getBlob, watchBlob, type FitBlobs, type IncomingBlob } from './blobs.js';
import type { Broker } from './broker.js';
import { bytesF64, hName, wName, type FitMeta } from './protocol.js';
import type { UnitReader } from './unit-data.js';

/** One fit as a worker knows it: its engine (W of `wPass`), its data, the pass of the codes it holds of each unit. */
export interface FitContext {
  readonly meta: FitMeta;
  readonly options: ResolvedOptions;
  readonly engine: ReturnType<typeof makeL2Engine>;
  readonly reader: UnitReader;
  readonly store: FitBlobs;
  wPass: number;
  readonly held: Map<number, number>;
  /** W of the next pass as the coordinator writes it (watched once this worker's units of the pass before are solved). */
  nextW?: { readonly pass: number; readonly incoming: IncomingBlob } | undefined;
  /** Buffers of unit statistics read and given back (worker.ts: used again by the next units). */
  readonly spare: RowBuffers[];
  /** The coordinator run it was made for. */
  readonly run: string | undefined;
  /** When this worker last took an item of the fit (worker.ts lets go of fits it no longer works for). */
  usedAt?: number;
}

/** The last pass ≤ `pass` whose codes are stored (0: none — the zeros of the start). */
export const lastStoredCodes = (meta: Pick<FitMeta, 'codesEvery'>, pass: number): number => pass - (pass % (meta.codesEvery ?? 1));

/** From now on, W of `pass` is received as the coordinator writes it (the coordinator writes it only after this call). */
export function watchW(broker: Broker, ctx: FitContext, pass: number): void {
  if (ctx.nextW?.pass === pass || ctx.wPass >= pass) return;
  ctx.nextW?.incoming.stop();
  ctx.nextW = { pass, incoming: watchBlob(broker.nc, ctx.store, wName(pass)) };
}

/** W of `pass` (and its Gram) in the worker's engine: as it was received (watchW), else read. */
export async function useW(broker: Broker, ctx: FitContext, pass: number): Promise<void> {
  if (ctx.wPass === pass) return;
  const state = ctx.engine.state, k = state.k, m = ctx.meta.m;
  const early = ctx.nextW?.pass === pass ? ctx.nextW.incoming : undefined;
  // (the item may come before W's last part: the coordinator writes both at once)
  if (early !== undefined) await early.wait(2000);
  const w = bytesF64(early?.bytes() ?? await getBlob(broker, ctx.store, wName(pass)));
  if (early !== undefined) { early.stop(); ctx.nextW = undefined; }
  state.W.set(w.subarray(0, m * k));
  state.warmScale.set(w.subarray(m * k, m * k + k));
  state.iteration = pass - 1;
  ctx.engine.beginPass(); // the Gram of this W (no extrapolation here: the coordinator's W is already this pass's)
  ctx.wPass = pass;
}

/** The unit's columns of the engine's H as its codes of pass `target`: held, or the stored ones replayed to it. */
export async function restoreCodes(broker: Broker, ctx: FitContext, unit: number, target: number, working: () => void): Promise<void> {
  if (ctx.held.get(unit) === target) return;
  const state = ctx.engine.state, k = state.k;
  const chunk = await ctx.reader.read(unit);
  ensureHCapacity(state, chunk.colStart + chunk.n);
  const from = chunk.colStart * k;
  const stored = lastStoredCodes(ctx.meta, target);
  if (stored === 0) state.H.fill(0, from, from + chunk.n * k);
  else state.H.set(bytesF64(await getBlob(broker, ctx.store, hName(stored, unit))), from);
  for (let pass = stored + 1; pass <= target; pass++) {
    await useW(broker, ctx, pass);
    unitPassStats(state, chunk, ctx.options, ctx.meta.files[0]!.path);
    working();
  }
  ctx.held.set(unit, target);
}

/** The raw codes this worker holds of `unit` (of the pass `held` says). */
export function heldCodes(ctx: FitContext, unit: number): Float64Array {
  const k = ctx.engine.state.k, from = unit * UNIT_SAMPLES * k;
  return ctx.engine.state.H.subarray(from, Math.min(ctx.meta.n, (unit + 1) * UNIT_SAMPLES) * k);
}
