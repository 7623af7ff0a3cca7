/**
 * What the coordinator and the workers of a distributed least-squares fit agree on (issue #14): the names of
 * the JetStream resources, the messages, the version check, and the one retry rule of every broker call.
 *
 * Resources (file storage, `replicas` copies):
 * - stream NMFLOW_WORK (work-queue retention), subjects `nmflow.work.<worker>.<fit>`: one message per work item
 *   (pass, a block of consecutive units [unit, end)) addressed to the worker the coordinator gave the block
 *   (dispatch.ts: the same units to the same worker every pass, so its data and codes stay where they are), msgID
 *   `<fit>/<run>/<pass>/<unit>[/<attempt>]` (an item published twice is dropped by the server), read through that
 *   worker's durable pull consumer `w-<worker>` (acked once the block's prefix is stored).
 * - core NATS subject `nmflow.beat`: every worker's heartbeat (its id and version) every HEARTBEAT_MS, and its last
 *   word when it stops; a worker not heard of for ack_wait is gone: the coordinator gives its blocks to the others.
 * - KV bucket `nmflow-fits`: `<fit>.meta` (the fit's data and options), `<fit>.state` (the last completed
 *   pass: the coordinator resumes from it), `<fit>.prefix.<pass>.<run>.<end>` (the prefix sum of units [0, end)
 *   is stored; its value the worker's id; created once), `<fit>.error.<id>` (a worker's failure or refusal),
 *   `<fit>.hpart.<unit>` (the unit's H part file is written: its path).
 * - Blobs of the fit (blobs.ts, stream NMFLOW_BLOBS): `w/<pass>` (W and the warm-start scale the pass starts from),
 *   `p/<pass>/<run>/<end>` (the pass statistics of units [0, end), stats-codec.ts: prefix-chain.ts), `h/<pass>/<unit>`
 *   (the unit's raw codes, for the warm start of the next pass on any worker), `e/<pass>` (the coordinator's engine
 *   state after the pass), `f/<run>` (what the workers need to write H's parts: hSum and the order of the factors).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ClusterError } from '../errors.js';

export const WORK_STREAM = 'NMFLOW_WORK';
/** The consumer every worker shared before items were addressed (removed when found: a work-queue stream takes no filtered consumer beside it). */
export const LEGACY_CONSUMER = 'workers';
export const FITS_BUCKET = 'nmflow-fits';
/** How often a worker says it is alive (ms). */
export const HEARTBEAT_MS = 500;
/** A worker's id as a subject token, consumer name and key (letters, digits, '-' and '_'). */
export const workerSlug = (id: string): string => id.replace(/[^A-Za-z0-9_-]/g, '_');
export const workSubject = (worker: string, fit: string): string => `nmflow.work.${worker}.${fit}`;
export const workerConsumerName = (worker: string): string => `w-${worker}`;
export const BEAT_SUBJECT = 'nmflow.beat';
/**
 * `run`: the coordinator run's id (a restarted coordinator publishes the items again; workers drop the done ones by unit id);
 * `attempt`: > 0 for a block given again to another worker (its worker went).
 */
export const msgId = (fit: string, run: string, pass: number, unit: number, attempt = 0): string => `${fit}/${run}/${pass}/${unit}${attempt > 0 ? `/${attempt}` : ''}`;
export const prefixKey = (fit: string, pass: number, run: string, end: number): string => `${fit}.prefix.${pass}.${run}.${end}`;
export const wName = (pass: number): string => `w/${pass}`;
export const prefixName = (pass: number, run: string, end: number): string => `p/${pass}/${run}/${end}`;
export const hName = (pass: number, unit: number): string => `h/${pass}/${unit}`;
export const engineName = (pass: number): string => `e/${pass}`;

/**
 * The slot (blobs.ts) of a blob name of a fit with codes stored every `codesEvery` passes: W, engine states and codes
 * of pass N in slot N mod (2·codesEvery + 2) — what is read is at most codesEvery + 1 passes old (the W since the
 * last stored codes, those codes: unit-codes.ts) — and the prefixes of pass N in slot N mod 2 (a pass reads only its own).
 */
export function blobSlot(codesEvery = 1): (name: string) => string {
  const ring = 2 * codesEvery + 2;
  return (name) => {
    const [kind, pass, ...rest] = name.split('/');
    const n = Number(pass);
    if (!Number.isInteger(n)) return name;
    return [kind, kind === 'p' ? n % 2 : n % ring, ...rest].join('/');
  };
}

/**
 * A work item: solve the codes of units [unit, end) with the W of `pass`, then add their statistics, in unit order,
 * to the prefix sum of units [0, unit) and store the prefix of [0, end) (cluster/prefix-chain.ts).
 * `kind: 'h'`: write the unit's H part file (the fit has ended; `pass` is its last pass).
 */
export interface WorkItem {
  readonly version: string;
  readonly fit: string;
  /** The coordinator run that published it (a worker drops what it holds of another run: codes of an earlier fit). */
  readonly run?: string;
  readonly pass: number;
  readonly unit: number;
  /** One past the block's last unit (default unit + 1). */
  readonly end?: number;
  /** 'h': write the unit's H part; 'codes': store the unit's codes of `pass` (the coordinator keeps H). */
  readonly kind?: 'h' | 'codes';
  /** kind 'h': the directory of the part files. */
  readonly dir?: string;
  /** A block: store its units' codes of this pass (absent: stored, as coordinators before `codesEvery` had it). */
  readonly codes?: boolean;
}

/** One Parquet part file of the data: its path and rows (one row per sample). */
export interface DataFile {
  readonly path: string;
  readonly rows: number;
}

/** `<fit>.meta`: everything a worker needs besides W. */
export interface FitMeta {
  /** The id of this coordinator run (the msgIDs): a restarted coordinator publishes its items again. */
  readonly run?: string;
  readonly version: string;
  readonly fit: string;
  readonly files: readonly DataFile[];
  /** The layout options of the Parquet reader (list or wide), with `features: m`. */
  readonly layout: Readonly<Record<string, unknown>>;
  readonly m: number;
  readonly n: number;
  readonly units: number;
  /** The fit options as plain JSON (no arrays, no callbacks). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The data are fitted × 2^exponent (pipeline/value-scale.ts). */
  readonly exponent: number;
  /** The units' codes are stored every this many passes (unit-codes.ts; absent: every pass). */
  readonly codesEvery?: number;
}

/** `<fit>.state`: the last completed pass and the trace up to it. */
export interface CompletedPasses {
  readonly pass: number;
  readonly trace: readonly { readonly iteration: number; readonly relativeLoss: number; readonly objective: number; readonly tol: number; readonly seconds: number }[];
}

/** On `nmflow.beat`: a worker's heartbeat; `gone`: it stops. */
export interface WorkerBeat {
  readonly worker: string;
  readonly version: string;
  readonly gone?: boolean;
}

/** `<fit>.error.<id>`: what a worker could not do, said where. */
export interface WorkerReport {
  readonly worker: string;
  readonly kind: 'version' | 'data' | 'internal';
  readonly message: string;
}

let versionCache: string | undefined;
/** The nmflow version (package.json); NMFLOW_CLUSTER_VERSION replaces it (tests of the version check). */
export function nmflowVersion(): string {
  const forced = process.env.NMFLOW_CLUSTER_VERSION;
  if (forced) return forced;
  versionCache ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return versionCache;
}

/** A fit's id: a hash of the version, the data files (path, size, mtime) and the options — the same command resumes. */
export function fitIdOf(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

export const encodeJson = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
export const decodeJson = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T;

/** Float64 arrays, concatenated, as bytes (little-endian, the platform's). */
export function f64Bytes(...arrays: readonly Float64Array[]): Uint8Array {
  const out = new Float64Array(arrays.reduce((s, a) => s + a.length, 0));
  let at = 0;
  for (const a of arrays) { out.set(a, at); at += a.length; }
  return new Uint8Array(out.buffer);
}
/** Bytes as a Float64Array (a copy: the client may hand out a Node Buffer, whose slice() is a view of a pool). */
export function bytesF64(bytes: Uint8Array): Float64Array {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Float64Array(copy.buffer);
}

export interface RetryOptions {
  /** Attempts (default 40) with a backoff from 50 ms to 1 s: about 35 s in all, enough for a server restart or a new RAFT leader. */
  readonly attempts?: number;
  /** Called before each retry with the attempt number and the error (for a message). */
  readonly onRetry?: (attempt: number, error: unknown) => void;
}

/** Runs `op` until it succeeds; after the last attempt a ClusterError naming `target` (the last error as its cause). */
export async function retry<T>(target: string, what: string, op: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 40;
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await op();
    } catch (error) {
      if (error instanceof ClusterError) throw error;
      last = error;
      if (attempt < attempts) {
        options.onRetry?.(attempt, error);
        await sleep(Math.min(1000, 50 * 2 ** Math.min(attempt, 5)));
      }
    }
  }
  const reason = (last as Error)?.message ?? String(last);
  throw new ClusterError(target, `${what} failed ${attempts} times on ${target} (last: ${reason}): is the NATS server up, with JetStream?`, last);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
