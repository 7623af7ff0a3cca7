/**
 * `nmflow worker --nats URL`: says it is alive (`nmflow.beat`, every HEARTBEAT_MS), takes the work items (pass, a
 * block of units) the coordinator addressed to it from its own consumer (protocol.ts, dispatch.ts),
 * solves each unit's codes with the pass's W (model/l2/pass-stats.ts unitPassStats: the in-process fit's own step)
 * and stores them, adds their statistics to the prefix of the units before the block once that is in hand
 * (prefix-chain.ts; meanwhile it takes the next block), stores the block's prefix and only then acks; at the end it writes H parts
 * (h-parts.ts). Any number of workers,
 * started and stopped at any time: one with no work waits; a unit given to a worker that does not
 * hold its codes of the last pass replays them from the stored ones (unit-codes.ts: the same bytes wherever a unit runs).
 * A work item of another nmflow version is refused and reported to its coordinator.
 */
import { hostname } from 'node:os';
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import { NmfError } from '../errors.js';
import { makeL2Engine } from '../model/l2/engine.js';
import { unitPassStats, type PassStats } from '../model/l2/pass-stats.js';
import type { RowBuffers } from '../kernel/row-runs.js';
import { prefixStored, startBlock, type Block, type BlockReduction } from './prefix-chain.js';
import { storeUnitCodes, writeHPart } from './h-parts.js';
import { resolveOptions, withSolver, type FitOptions } from '../options.js';
import { dropWorkConsumer, fitObjects, getValue, openBroker, putValue, workConsumer, type Broker } from './broker.js';
import { putBlob } from './blobs.js';
import { connectCluster } from './connect.js';
import { sayGone, startHeartbeat } from './heartbeat.js';
import {
  decodeJson, encodeJson, f64Bytes, hName, nmflowVersion, retry, sleep, workerSlug,
  type FitMeta, type WorkerReport, type WorkItem,
} from './protocol.js';
import { makeUnitReader } from './unit-data.js';
import { heldCodes, restoreCodes, useW, watchW, type FitContext } from './unit-codes.js';

export interface WorkerOptions {
  readonly servers: string | readonly string[];
  /** Stops the worker: the item in hand is finished first. */
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  /** Called after each unit is stored (tests, progress). */
  readonly onUnit?: (item: WorkItem) => void;
}

/** Runs until `signal` aborts; resolves when the worker has stopped cleanly. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const id = workerSlug(`${hostname()}-${process.pid}`);
  const version = nmflowVersion();
  const log = options.log ?? (() => undefined);
  const servers = typeof options.servers === 'string' ? options.servers : options.servers.join(',');
  const nc = await connectCluster({ servers: options.servers, name: `nmflow worker ${id}` });
  const retryOptions = { onRetry: (attempt: number, error: unknown) => { if (attempt % 5 === 1) log(`nmflow worker: NATS at ${servers}: ${(error as Error)?.message ?? String(error)}; retrying`); } };
  log(`nmflow worker ${id}: connected to ${servers} (nmflow ${version})`);
  const fits = new Map<string, FitContext>();
  const reductions = new Set<Promise<void>>();
  let broker: Broker | undefined;
  let waitingSaid = false;
  let beating: ReturnType<typeof setInterval> | undefined;
  let consumer: Consumer | undefined;
  let sweptAt = Date.now();
  try {
    while (options.signal?.aborted !== true) {
      broker ??= await openBroker(nc, servers, retryOptions);
      if (broker === undefined) {
        if (!waitingSaid) log(`nmflow worker ${id}: no fit on ${servers} yet; waiting`);
        waitingSaid = true;
        await sleep(250);
        continue;
      }
      const b = broker;
      // the consumer before the first heartbeat: items given to this worker once it is seen find it
      const c = consumer ??= await workConsumer(b, id);
      beating ??= startHeartbeat(b.nc, id, version);
      const msg = await retry(`consumer of worker ${id} at ${servers}`, 'fetching a work item', async () => await c.next({ expires: 1000 }).catch((error: unknown) => {
        // removed (a coordinator took this worker for gone, or the stream was made again): made anew at the next turn
        if (/not found|deleted/i.test((error as Error)?.message ?? '')) { consumer = undefined; return null; }
        throw error;
      }), retryOptions);
      if (msg === null) {
        if (fits.size > 0 && Date.now() - sweptAt > 5000) { sweptAt = Date.now(); await releaseEnded(b, fits, undefined, (line) => log(`nmflow worker ${id}: ${line}`)); }
        continue;
      }
      const beat = setInterval(() => msg.working(), 500);
      let reduction: Promise<void> | undefined;
      try {
        reduction = (await handle(b, msg, id, version, fits, options, log))?.reduction;
      } catch (error) {
        // This item only (nak'ed: it comes back); a server gone for good ends the loop at the next fetch.
        log(`nmflow worker ${id}: ${(error as Error)?.message ?? String(error)}`);
      } finally {
        if (reduction === undefined) clearInterval(beat);
      }
      // the block's prefix is added and stored while this worker solves the next blocks; the item is acked after it
      if (reduction !== undefined) {
        const r = reduction.then(() => ackNow(msg), (error: unknown) => {
          log(`nmflow worker ${id}: ${(error as Error)?.message ?? String(error)}`);
          msg.nak(1000);
        }).finally(() => { clearInterval(beat); reductions.delete(r); });
        reductions.add(r);
      }
    }
  } finally {
    clearInterval(beating);
    await Promise.all(reductions); // stopping: each ends (cancelled: its block is the coordinator's to give to another worker)
    for (const ctx of fits.values()) closeFit(ctx);
    // gone cleanly: the coordinator gives this worker's blocks to others at once (no wait for a missed heartbeat)
    if (broker !== undefined) {
      sayGone(broker.nc, id, version);
      await dropWorkConsumer({ ...broker, retryOptions: { attempts: 2 } }, id).catch(() => undefined);
    }
    await nc.close().catch(() => undefined);
  }
}

/** An item: a block solved (the returned promise: its prefix stored) or an H part written; undefined: settled here. */
async function handle(broker: Broker, msg: JsMsg, id: string, version: string, fits: Map<string, FitContext>, options: WorkerOptions,
  log: (line: string) => void): Promise<{ reduction: Promise<void> } | undefined> {
  const item = decodeJson<WorkItem>(msg.data);
  if (item.version !== version) {
    const message = `this worker runs nmflow ${version}, the coordinator ${item.version}: start workers of the coordinator's version`;
    log(`nmflow worker ${id}: refused unit ${item.unit} of fit ${item.fit}: ${message}`);
    await putValue(broker, `${item.fit}.error.${id}`, encodeJson({ worker: id, kind: 'version', message } satisfies WorkerReport));
    msg.nak(2000);
    return undefined;
  }
  let ctx: FitContext | undefined;
  let chain: BlockReduction | undefined;
  const codes: Promise<void>[] = [];
  try {
    const known = fits.get(item.fit);
    // another coordinator run of this fit (repeated, or resumed): what this worker holds may be of an earlier fit
    if (known !== undefined && known.run !== item.run) { closeFit(known); fits.delete(item.fit); }
    if (!fits.has(item.fit)) await releaseEnded(broker, fits, item.fit, (line) => log(`nmflow worker ${id}: ${line}`));
    ctx = fits.get(item.fit) ?? await openFit(broker, item.fit, item.run);
    if (ctx === undefined) { msg.term(); return undefined; } // the fit is gone
    fits.set(item.fit, ctx);
    ctx.usedAt = Date.now();
    if (item.kind === 'h' || item.kind === 'codes') {
      await restoreCodes(broker, ctx, item.unit, item.pass, () => msg.working());
      if (item.kind === 'h') await writeHPart(broker, ctx.store, ctx.meta, item, heldCodes(ctx, item.unit));
      else await storeUnitCodes(broker, ctx.store, item, heldCodes(ctx, item.unit));
      await ackNow(msg);
      return undefined;
    }
    // a duplicate (redelivered, or given again, with its prefix already stored): found out while the first unit is solved
    const duplicate = prefixStored(broker, blockOf(ctx, item));
    duplicate.catch(() => undefined); // (awaited below)
    const c = ctx;
    const cancelled = (): string | undefined => (options.signal?.aborted === true ? 'the worker stops'
      : fits.get(item.fit) !== c ? 'the fit has another coordinator run' : undefined);
    // the prefix before this block is awaited from now on; each unit is added once it is in hand (prefix-chain.ts)
    chain = startBlock(broker, c.store, blockOf(c, item), id, { cancelled });
    for (let unit = item.unit; unit < (item.end ?? item.unit + 1); unit++) {
      const buffers = c.spare.pop() ?? { rows: new Int32Array(c.meta.m), B: new Float64Array(c.meta.m * c.engine.state.k) };
      const solved = await solveUnit(broker, c, item.pass, unit, msg, item.codes !== false, buffers);
      if (unit === item.unit && await duplicate) {
        chain.abandon();
        c.spare.push(buffers);
        await solved.stored;
        await ackNow(msg);
        return undefined;
      }
      // (given back once added; at most 256 MiB of them kept for the next units)
      chain.add(solved.stats, () => { if ((c.spare.length + 1) * c.meta.m * (8 * c.engine.state.k + 4) <= 2 ** 28) c.spare.push(buffers); });
      codes.push(solved.stored);
      options.onUnit?.({ ...item, unit });
      // the I/O that came meanwhile (the prefix this block waits for, the acks of stored codes) before the next unit
      await new Promise((r) => setImmediate(r));
    }
    watchW(broker, c, item.pass + 1); // the next pass's W comes after the last prefix of this one
  } catch (error) {
    chain?.abandon();
    if (!(error instanceof NmfError) || error.code === 'CLUSTER') { msg.nak(1000); ctx?.nextW?.incoming.stop(); fits.delete(item.fit); throw error; }
    // the Parquet decoder's watchdog (source/parquet-worker.ts) on a machine too loaded: tried again, reported the third time
    if (/made no progress/.test(error.message) && msg.info.deliveryCount < 3) {
      log(`nmflow worker ${id}: unit ${item.unit} of pass ${item.pass}: ${error.message}; given back (delivery ${msg.info.deliveryCount})`);
      msg.nak(2000);
      return undefined;
    }
    // The data: a file that disappeared or changed. The coordinator fails the fit with these words.
    const report: WorkerReport = { worker: id, kind: 'data', message: `unit ${item.unit} of pass ${item.pass}: ${error.message}` };
    log(`nmflow worker ${id}: ${report.message}`);
    await putValue(broker, `${item.fit}.error.${id}`, encodeJson(report));
    msg.nak(2000);
    return undefined;
  }
  // acked once the block's prefix and codes are stored (the codes go out while the next units are solved)
  return { reduction: chain.finish(Promise.all(codes)) };
}

const blockOf = (ctx: FitContext, item: WorkItem): Block => ({
  fit: item.fit, run: item.run ?? '', pass: item.pass, first: item.unit, end: item.end ?? item.unit + 1, units: ctx.meta.units, m: ctx.meta.m, k: ctx.engine.state.k,
});

/** A fit this worker held and no longer works for. */
const IDLE_FIT_MS = 10 * 60_000;

/**
 * The fits whose coordinator is done (their meta key removed: the fit ended) or that gave this worker nothing for
 * 10 minutes (a failed fit not started again) let go of their decoded data and codes — a worker that serves fit after
 * fit in a pipeline holds only the fits it works for. (A fit started again later is read again.)
 */
async function releaseEnded(broker: Broker, fits: Map<string, FitContext>, except: string | undefined, log: (line: string) => void): Promise<void> {
  for (const [fit, ctx] of fits) {
    if (fit === except) continue;
    const ended = await getValue(broker, `${fit}.meta`) === undefined;
    if (!ended && Date.now() - (ctx.usedAt ?? 0) < IDLE_FIT_MS) continue;
    closeFit(ctx);
    fits.delete(fit);
    log(`fit ${fit} ${ended ? 'has ended' : 'gave this worker nothing for 10 minutes'}: its data and codes are released`);
  }
}

function closeFit(ctx: FitContext): void {
  ctx.engine.close();
  ctx.nextW?.incoming.stop();
}

async function ackNow(msg: JsMsg): Promise<void> {
  // A lost ack: the item comes back after ack_wait and is dropped as a duplicate.
  await msg.ackAck({ timeout: 5000 }).catch(() => undefined);
}

async function openFit(broker: Broker, fit: string, run: string | undefined): Promise<FitContext | undefined> {
  const bytes = await getValue(broker, `${fit}.meta`);
  if (bytes === undefined) return undefined;
  const meta = decodeJson<FitMeta>(bytes);
  const given = meta.options as unknown as FitOptions;
  const options = withSolver(resolveOptions(given), given);
  const engine = makeL2Engine(meta.m, options, { sourceName: meta.files[0]!.path, featureNames: undefined, threads: 1 });
  const store = fitObjects(broker, fit, meta.codesEvery);
  return { meta, options, engine, reader: makeUnitReader(meta), store, wPass: 0, held: new Map(), run, spare: [] };
}

/** The unit's codes and statistics with the pass's W; `stored`: the codes being stored as h/<pass>/<unit> when `store`. */
async function solveUnit(broker: Broker, ctx: FitContext, pass: number, unit: number, msg: JsMsg, store: boolean,
  into: RowBuffers): Promise<{ stats: PassStats; stored: Promise<void> }> {
  const state = ctx.engine.state, k = state.k;
  const chunk = await ctx.reader.read(unit);
  msg.working();
  // the warm start: the unit's codes of the pass before (held here, else stored and replayed: unit-codes.ts)
  await restoreCodes(broker, ctx, unit, pass - 1, () => msg.working());
  await useW(broker, ctx, pass);
  const stats = unitPassStats(state, chunk, ctx.options, ctx.meta.files[0]!.path, into);
  msg.working();
  // NMFLOW_WORKER_HOLD_MS: a long solve, for the fault tests (the heartbeats keep the item; a kill now loses it)
  const hold = Number(process.env.NMFLOW_WORKER_HOLD_MS ?? 0);
  if (hold > 0) await sleep(hold);
  const from = chunk.colStart * k, to = (chunk.colStart + chunk.n) * k;
  const stored = store ? putBlob(broker, ctx.store, hName(pass, unit), f64Bytes(state.H.subarray(from, to))) : Promise.resolve();
  stored.catch(() => undefined); // (awaited with the block's prefix)
  ctx.held.set(unit, pass);
  return { stats, stored };
}
