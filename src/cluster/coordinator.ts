/**
 * `fitOnNats(input, options)`: the batch least-squares fit with the passes' units solved by `nmflow worker`
 * processes through NATS JetStream (issue #14; protocol.ts). Per pass the coordinator runs the in-process
 * engine's own beginning of the pass (W extrapolated for 'fast'), publishes W and one work item per unit,
 * waits for every unit's PassStats, merges them in unit order (mergePassStats), hands them to the engine
 * (usePassStats) and ends the pass with the engine's endPass — the functions the in-process fit runs, so
 * the model is the same bytes as `fit` of the same files, for any number of workers. After every pass whose codes
 * are stored (every `codesEvery`) and the last, its engine state and trace are stored: a coordinator started again with
 * the same command resumes from there.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { Observable } from 'rxjs';
import { ClusterError, OptionError } from '../errors.js';
import { usePassStats } from '../model/l2/pass-stats.js';
import { decodeStats } from './stats-codec.js';
import { makeDispatch } from './dispatch.js';
import { storeFinalCodes, writeHParts } from './h-parts.js';
import { lastStoredCodes } from './unit-codes.js';
import { makeL2Engine } from '../model/l2/engine.js';
import type { EngineState } from '../model/engine.js';
import { ensureHCapacity } from '../model/l2/state.js';
import { UNIT_SAMPLES } from '../model/l2/units.js';
import { checkShape, resolveOptions, withSolver, type FitOptions } from '../options.js';
import { makeChunkScaler } from '../pipeline/value-scale.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';
import type { SourceOptions } from '../source/layout.js';
import { createBroker, fitObjects, getValue, putValue, type Broker } from './broker.js';
import { getBlob, putBlob, watchBlob, type FitBlobs } from './blobs.js';
import { connectCluster } from './connect.js';
import { decodeEngineState, dropFit, encodeEngineState, purgeWork, clearReports, type CompletedPasses } from './fit-state.js';
import {
  bytesF64, decodeJson, encodeJson, engineName, f64Bytes, fitIdOf, hName, nmflowVersion, prefixKey, prefixName, wName, type FitMeta,
} from './protocol.js';
import { exponentOf, makeUnitReader, planData } from './unit-data.js';
import { waitForKeys } from './coordinator-wait.js';

/** Where and how the fit runs on NATS. */
export interface ClusterSettings {
  /** NATS server URL(s), as `--nats` takes them (comma-separated). */
  readonly servers: string | readonly string[];
  /** Copies of the streams, bucket and store (default 1; 3 on a 3-server cluster). */
  readonly replicas?: number;
  /** Seconds a worker may go without a heartbeat before its blocks are given to the others (default 30). */
  readonly ackWaitSeconds?: number;
  /** Seconds without any unit completed before the fit fails (default 600): no worker, or none that can work. */
  readonly idleTimeoutSeconds?: number;
  /** Progress and waiting messages (default: none). */
  readonly log?: (line: string) => void;
  /** After each pass: where the coordinator's time went (seconds). */
  readonly onPass?: (timing: PassTiming) => void;
  /** Attempts of every broker call before a ClusterError (default 40: about 35 s, a server restart or a new RAFT leader). */
  readonly retryAttempts?: number;
  /** Keep the fit's objects and keys after it ends (default false: removed). */
  readonly keep?: boolean;
  /**
   * The units' codes, and the coordinator's state it resumes from, go through the broker every this many passes (default 5) and
   * at the last; a unit that changes worker in between is solved again from them (unit-codes.ts). 1: every pass.
   */
  readonly codesEvery?: number;
  /** Bytes of unit statistics a worker may keep per block while the prefix before has not come (default 256 MiB): more, smaller blocks below it. */
  readonly maxBlockBytes?: number;
  /** The workers write H at the end, one Parquet part per unit, to this directory (h-parts.ts); the final snapshot lists them as `hParts`. */
  readonly hPartsDir?: string;
}

/** A pass as the coordinator saw it: publishing W and the items, waiting for the units, merging, the end of the pass. */
export interface PassTiming {
  readonly pass: number;
  readonly units: number;
  readonly publishSeconds: number;
  readonly waitSeconds: number;
  readonly mergeSeconds: number;
  readonly endSeconds: number;
}

export interface ClusterFitOptions extends FitOptions {
  /** How the Parquet files map onto the matrix: 'list' (default) or 'wide' — one row per sample. */
  readonly layout?: SourceOptions;
  readonly cluster: ClusterSettings;
}

/** The options a fit on NATS refuses, said as usage errors before anything is read. */
export function checkClusterOptions(options: ClusterFitOptions): void {
  if (options.loss === 'l1') {
    throw new OptionError('loss', "'l2' with a cluster (weighted L1's W half-sweep needs a feature-major copy of A by feature block: docs/scale-out.md)", 'l1');
  }
  if (options.init === 'nndsvd' || options.init === 'nndsvda') throw new OptionError('init', "'random' or explicit arrays with a cluster", options.init);
  if (options.checkpoint !== undefined || options.resumeFrom !== undefined) {
    throw new OptionError(options.checkpoint !== undefined ? 'checkpoint' : 'resumeFrom', 'nothing with a cluster (the coordinator keeps its state in NATS and resumes by itself)', 'a checkpoint');
  }
  if (options.diag === false) throw new OptionError('diag', 'true with a cluster', false);
  // masks and held-out test sets (issue #15) are not carried by the workers' unit statistics yet
  if (options.mask !== undefined) throw new OptionError('mask', 'no mask with a cluster (masked fits run in one process)', options.mask);
  if (options.testFraction !== undefined) throw new OptionError('testFraction', 'no test set with a cluster (cross-validation runs in one process)', options.testFraction);
  if (options.missing === 'nan') throw new OptionError('missing', "'error' with a cluster (missing entries run in one process)", options.missing);
  const every = options.cluster.codesEvery;
  if (every !== undefined && !(Number.isInteger(every) && every >= 1)) throw new OptionError('cluster.codesEvery', 'a whole number of passes, 1 or more', every);
}

/** The fit on NATS as fit() gives it: the final snapshot (and one per pass with emit 'every'). */
export function fitOnNats(input: string | readonly string[], options: ClusterFitOptions): Observable<Snapshot> {
  checkClusterOptions(options);
  const { cluster, layout, ...fitOptions } = options;
  const resolved = withSolver(resolveOptions(fitOptions), fitOptions);
  return new Observable<Snapshot>((subscriber) => {
    const run = { stopped: false };
    coordinate(input, layout ?? { layout: 'list' }, fitOptions, cluster, run, (s) => subscriber.next(s), resolved.emit === 'every')
      .then(() => subscriber.complete(), (error: unknown) => subscriber.error(error));
    return () => { run.stopped = true; };
  });
}

async function coordinate(
  input: string | readonly string[], layout: SourceOptions, fitOptions: FitOptions, cluster: ClusterSettings,
  run: { stopped: boolean }, emit: (s: Snapshot) => void, every: boolean,
): Promise<void> {
  const started = performance.now();
  const resolved = withSolver(resolveOptions(fitOptions), fitOptions);
  const plan = await planData(input, layout);
  checkShape(resolved, plan.m, plan.n);
  const version = nmflowVersion();
  const { init: _init, onChunk: _c, onIteration: _i, threads: _t, memoryLimit: _l, tempDir: _d, emit: _e, ...plain } = fitOptions;
  const explicitW = typeof fitOptions.init === 'object' && fitOptions.init.W !== undefined;
  const files = await Promise.all(plan.files.map(async (f) => {
    const s = await stat(f.path);
    return [f.path, s.size, s.mtimeMs];
  }));
  const fit = fitIdOf({ version, files, layout: plan.layout, plain, explicitW: explicitW ? Array.from(resolved.initW ?? []) : null });
  const log = cluster.log ?? (() => undefined);
  const servers = typeof cluster.servers === 'string' ? cluster.servers : cluster.servers.join(',');
  const nc = await connectCluster({ servers: cluster.servers, name: `nmflow coordinator ${process.pid}`, ...(cluster.retryAttempts === undefined ? {} : { attempts: Math.min(5, cluster.retryAttempts) }) });
  let broker: Broker | undefined;
  let store: FitBlobs | undefined;
  let finished = false;
  let failed = false;
  let stored: Promise<void> = Promise.resolve();
  // the pass before, to be stored once this pass's W and items are out (they go first: the workers wait for them)
  let unsaved: (() => Promise<void>) | undefined;
  const saveNow = (): void => {
    if (unsaved === undefined) return;
    stored = unsaved();
    stored.catch(() => undefined); // awaited (and its error thrown) below
    unsaved = undefined;
  };
  try {
    const replicas = cluster.replicas ?? 1;
    broker = await createBroker(nc, servers, { replicas }, {
      ...(cluster.retryAttempts === undefined ? {} : { attempts: cluster.retryAttempts }),
      onRetry: (attempt, error) => { if (attempt % 5 === 1) log(`nmflow: NATS at ${servers} did not answer (${(error as Error)?.message ?? String(error)}); retrying`); },
    });
    const metaBytes = await getValue(broker, `${fit}.meta`);
    let meta: FitMeta;
    if (metaBytes !== undefined) {
      meta = decodeJson<FitMeta>(metaBytes);
    } else {
      const exponent = await exponentOf(makeUnitReader({ ...plan, exponent: 0 }), plan.units);
      meta = { version, fit, files: plan.files, layout: plan.layout, m: plan.m, n: plan.n, units: plan.units, options: plain as Record<string, unknown>, exponent, codesEvery: cluster.codesEvery ?? 5 };
      await putValue(broker, `${fit}.meta`, encodeJson(meta));
    }
    store = fitObjects(broker, fit, meta.codesEvery);
    await clearReports(broker, fit);
    // items of an earlier run of this fit (a coordinator killed mid-pass): their blocks would wait for prefixes of that run
    await purgeWork(broker, fit);
    // this coordinator run's id in the msgIDs: a restarted (or repeated) fit publishes its items anew
    meta = { ...meta, run: randomBytes(6).toString('hex') };
    const engine = makeL2Engine(plan.m, resolved, { sourceName: plan.files[0]!.path, featureNames: plan.featureNames, threads: 1 });
    const trace: TracePoint[] = [];
    const savedBytes = await getValue(broker, `${fit}.state`);
    let pass = 0;
    if (savedBytes !== undefined) {
      const saved = decodeJson<CompletedPasses>(savedBytes);
      if (saved.pass > 0) {
        engine.importState(decodeEngineState(await getBlob(broker, store, engineName(saved.pass))));
        trace.push(...saved.trace);
        pass = saved.pass;
        log(`nmflow: fit ${fit} resumes after pass ${pass}`);
      }
    }
    const scale = makeChunkScaler(plan.files[0]!.path, meta.exponent);
    const state = engine.state;
    const k = resolved.rank;
    const dispatch = makeDispatch(broker, meta, (cluster.ackWaitSeconds ?? 30) * 1000, log, cluster.maxBlockBytes);
    const wait = { idleTimeoutMs: (cluster.idleTimeoutSeconds ?? 600) * 1000, log, stopped: () => run.stopped };
    for (;;) {
      if (run.stopped) { saveNow(); await stored.catch(() => undefined); return; }
      pass += 1;
      const t0 = performance.now();
      engine.beginPass();
      const runId = meta.run!;
      const arrival = watchBlob(nc, store, prefixName(pass, runId, meta.units)); // the pass's statistics, as the last worker writes them
      // the codes of this pass are stored (unit-codes.ts) every codesEvery-th pass and at the last
      const codesStored = lastStoredCodes(meta, pass) === pass || pass >= resolved.maxIterations;
      // W and the blocks (consecutive units, the same to the same workers while they stay: dispatch.ts) at once; the
      // workers receive W as it is written (unit-codes.ts watchW)
      const [, blocks] = await Promise.all([putBlob(broker, store, wName(pass), f64Bytes(state.W, state.warmScale)), dispatch.startPass(pass, wait, { codes: codesStored })]);
      saveNow();
      await stored; // the pass before: stored after this one's items went out (and its objects removed)
      const t1 = performance.now();
      await waitForKeys(broker, meta, pass, `${fit}.prefix.${pass}.${runId}`, prefixKey(fit, pass, runId, meta.units), blocks.length,
        { ...wait, arrival, check: async (done) => { await dispatch.check((a) => done.has(prefixKey(fit, pass, runId, a.end))); } });
      if (run.stopped) return;
      const t2 = performance.now();
      // the workers added the units in unit order along the chain: the last prefix is the pass's statistics
      usePassStats(state, decodeStats(arrival.bytes() ?? await getBlob(broker, store, prefixName(pass, runId, meta.units)), prefixName(pass, runId, meta.units)));
      const t3 = performance.now();
      const { summary } = engine.endPass((performance.now() - started) / 1000);
      cluster.onPass?.({ pass, units: meta.units, publishSeconds: (t1 - t0) / 1000, waitSeconds: (t2 - t1) / 1000, mergeSeconds: (t3 - t2) / 1000, endSeconds: (performance.now() - t3) / 1000 });
      if (summary === undefined) throw new ClusterError(`fit ${fit}`, 'the least-squares engine ended a pass without an iteration');
      if (!Number.isFinite(summary.relativeLoss)) throw new ClusterError(`fit ${fit}`, `the loss of pass ${pass} is not finite`);
      const point: TracePoint = { iteration: summary.iteration, relativeLoss: summary.relativeLoss, objective: summary.objective, tol: summary.tol, seconds: summary.seconds };
      trace.push(point);
      const last = summary.converged || summary.iteration >= resolved.maxIterations;
      // stored with the codes (every codesEvery passes) and at the last pass: a coordinator started again resumes after
      // the last pass stored, and does the passes since again (the same bytes); such a pass is reported once it is stored
      const completed = { pass, trace: trace.slice() } satisfies CompletedPasses, engineState = codesStored || last ? engine.exportState() : undefined;
      const persist = async (saved: EngineState): Promise<void> => {
        await putBlob(broker!, store!, engineName(completed.pass), encodeEngineState(saved));
        await putValue(broker!, `${fit}.state`, encodeJson(completed));
        resolved.onIteration?.(point);
      };
      if (last) {
        await persist(engineState!);
        if (resolved.keepH) {
          if (!codesStored) await storeFinalCodes(broker, meta, pass, dispatch, wait);
          ensureHCapacity(state, plan.n);
          for (let u = 0; u < meta.units; u++) state.H.set(bytesF64(await getBlob(broker, store, hName(pass, u))), u * UNIT_SAMPLES * k);
        }
        const final = scale.snapshot(engine.snapshot(summary, true, trace));
        const hParts = cluster.hPartsDir === undefined ? undefined
          : await writeHParts(broker, store, meta, pass, cluster.hPartsDir, state, dispatch, wait);
        engine.close();
        finished = true;
        emit(hParts === undefined ? final : { ...final, hParts } as Snapshot);
        return;
      }
      if (every) emit(scale.snapshot(engine.snapshot(summary, false, trace)));
      // stored once the next pass's W and items are out (while the workers solve); nothing to remove (blobs.ts: slots)
      if (engineState === undefined) resolved.onIteration?.(point); else unsaved = async () => { await persist(engineState); };
    }
  } catch (error) {
    failed = true; // (a pass before not stored yet: the same command resumes before it and does it again)
    throw error;
  } finally {
    // done: everything goes; failed: the work items go (workers stop), the state stays (the same command resumes)
    if (broker !== undefined && finished && !cluster.keep) await dropFit(broker, store, fit).catch(() => undefined);
    else if (broker !== undefined && failed) await purgeWork(broker, fit).catch(() => undefined);
    await nc.close().catch(() => undefined);
  }
}
