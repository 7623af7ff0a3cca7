/**
 * The memory a shape needs, checked before anything of that size is allocated (issue #13: one bad
 * number — an id near 2³¹, a Matrix Market size line — must not exhaust memory without a word).
 *
 * A `MemoryBudget` knows what one more feature and one more sample cost (bytes, for the consumer
 * that asked: a fit at rank k keeps W and its statistics per feature and H per sample; a reader alone
 * keeps only its chunks) and refuses a shape whose cost exceeds the limit with a typed
 * `MEMORY_LIMIT` error that says how much it would need and how to raise the limit. Sources receive
 * the consumer's budget through `chunks(budget)` (matrix-source.ts) and check every sample index
 * before they emit the (possibly empty) chunks up to it.
 *
 * The default limit is `DEFAULT_MEMORY_FRACTION` of the machine's memory (or of the process's
 * cgroup limit when that is smaller); option `memoryLimit`, CLI `--memory-limit 8G` change it.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { DataError, NmfError, OptionError, type DataLocation } from './errors.js';

export const DEFAULT_MEMORY_FRACTION = 0.75;

/**
 * Bytes the process may use by default: a fraction of physical memory, of its cgroup limit, or of its
 * address-space limit (`ulimit -v`), whichever is smallest. Of the address space only 40 % counts:
 * every WebAssembly instance reserves several GB of it that are never memory.
 */
export function defaultMemoryLimit(): number {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  let total = totalmem();
  if (constrained !== undefined && constrained > 0 && constrained < total) total = constrained;
  const addressSpace = addressSpaceLimit();
  if (addressSpace !== undefined) total = Math.min(total, addressSpace * 0.4 / DEFAULT_MEMORY_FRACTION);
  return Math.floor(total * DEFAULT_MEMORY_FRACTION);
}

/** RLIMIT_AS in bytes (Linux: /proc/self/limits), or undefined when unlimited or unknown. */
function addressSpaceLimit(): number | undefined {
  try {
    const line = /^Max address space\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    const bytes = line ? Number(line[1]) : NaN;
    return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

const UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 2 ** 10, kb: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, t: 2 ** 40, tb: 2 ** 40 };

/** '8G', '512M', '1.5GB', '1048576' → bytes (binary units); undefined when the text is not a size. */
export function parseBytes(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : undefined;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 40) return `${(bytes / 2 ** 40).toFixed(1)} TB`;
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MB`;
  return `${Math.ceil(bytes / 2 ** 10)} KB`;
}

/** The option (validated) or the default. */
export function resolveMemoryLimit(value: unknown): number {
  if (value === undefined) return defaultMemoryLimit();
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 2 ** 20) {
    throw new OptionError('memoryLimit', 'a whole number of bytes ≥ 1 MB', value);
  }
  return value;
}

export interface MemoryBudget {
  readonly limit: number;
  /** Bytes a matrix of m features and n samples needs for this consumer. */
  need(m: number, n: number): number;
  /** Throws MEMORY_LIMIT (a DataError at `location` when given) when `need(m, n)` is above the limit. */
  check(m: number, n: number, location?: DataLocation): void;
  /** What it was made from (memoryBudget), so that another thread can make the same budget. */
  readonly costs?: Costs;
}

export interface Costs {
  /** Bytes independent of the shape (buffers, workspaces). */
  readonly base: number;
  readonly perFeature: number;
  readonly perSample: number;
  /** Says who needs it: "a fit at rank 10", "reading". */
  readonly what: string;
}

export function memoryBudget(limit: number, costs: Costs): MemoryBudget {
  const need = (m: number, n: number): number => costs.base + m * costs.perFeature + n * costs.perSample;
  return {
    limit,
    need,
    costs: { ...costs },
    check(m, n, location) {
      const bytes = need(m, n);
      if (bytes <= limit) return;
      const shape = n > 0 ? `${m.toLocaleString('en-US')} features × ${n.toLocaleString('en-US')} samples` : `${m.toLocaleString('en-US')} features`;
      const message = `${shape}: ${costs.what} would need `
        + `${formatBytes(bytes)}, above the memory limit of ${formatBytes(limit)} (option memoryLimit, CLI --memory-limit)`;
      throw location ? new DataError('MEMORY_LIMIT', message, location) : new NmfError('MEMORY_LIMIT', message);
    },
  };
}

/**
 * A batch fit's budget. Per feature (l2): W, its previous value, the extrapolation point, AHᵀ and the
 * model's copy — 6·k doubles; per sample: H and the snapshot's copy — 2·k doubles (weighted L1 keeps
 * W and H twice more for its start iterations). `threads`: each thread's share of the statistics, and each worker
 * thread beyond the first its runtime (V8 isolate, modules, WebAssembly memory: ~70 MB measured, bench/README.md).
 */
export function fitBudget(limit: number, o: { readonly rank: number; readonly loss: 'l1' | 'l2'; readonly threads?: number | undefined }): MemoryBudget {
  const k = o.rank;
  const copies = o.loss === 'l1' ? 2 : 1;
  return memoryBudget(limit, {
    base: (64 + 70 * Math.max(0, (o.threads ?? 1) - 1)) * 2 ** 20,
    perFeature: 8 * k * (6 * copies + (o.threads ?? 1)),
    perSample: 8 * k * 2 * copies,
    what: `a fit at rank ${k}`,
  });
}

/**
 * An online fit's budget: W and its statistics per feature, as a batch fit; per sample only what reading
 * needs (the window's codes are bounded by the window, not by n).
 */
export function onlineBudget(limit: number, o: { readonly rank: number; readonly loss: 'l1' | 'l2'; readonly chunkSize?: number | undefined }): MemoryBudget {
  const fitting = fitBudget(limit, o);
  return memoryBudget(limit, {
    base: fitting.need(0, 0), perFeature: fitting.need(1, 0) - fitting.need(0, 0), perSample: 4 + 512 / Math.max(1, o.chunkSize ?? 1),
    what: `an online fit at rank ${o.rank}`,
  });
}

/** What reading alone needs: the offsets of every sample's column and the chunk objects (no model). */
export function readerBudget(limit: number, chunkSize: number): MemoryBudget {
  return memoryBudget(limit, { base: 0, perFeature: 8, perSample: 4 + 512 / Math.max(1, chunkSize), what: 'reading the matrix' });
}

/** Bytes of the runtime (Node, the modules, the decoder's wasm memory and its batches) that a budget sets aside. */
export const RUNTIME_BYTES = 150 * 2 ** 20;

/**
 * Chunks a pass holds besides those read ahead, as measured (bench/README.md, bench:billion): the one being built in the
 * decoder's worker, the one being consumed, the worker pool's shared copy of it, and one of buffers freed but not yet
 * collected or given back by the allocator.
 */
export const CHUNKS_BESIDES_READ_AHEAD = 4;

/**
 * Chunk size and read-ahead from a memory budget (option memoryBudget, CLI --memory-budget; issue #17): the consumer's
 * model for m × n (`consumer.need`: W, statistics, H) and RUNTIME_BYTES come first; the rest holds readAhead +
 * CHUNKS_BESIDES_READ_AHEAD chunks of 12 bytes per nonzero and 4 per sample.
 * Chunks of at most 16 384 samples (bigger ones gain nothing), at least 64; read-ahead 1 to 8.
 * MEMORY_LIMIT when the budget cannot hold the model and five chunks of 64 samples.
 */
export function readingWithin(bytes: number, consumer: MemoryBudget, m: number, n: number, nnzPerSample: number): { chunkSize: number; readAhead: number } {
  const spare = bytes - consumer.need(m, n) - RUNTIME_BYTES;
  const perSample = 12 * Math.max(1, nnzPerSample) + 4;
  const held = CHUNKS_BESIDES_READ_AHEAD;
  if (spare < (held + 1) * 64 * perSample) {
    throw new NmfError('MEMORY_LIMIT', `a memory budget of ${formatBytes(bytes)} cannot hold ${m.toLocaleString('en-US')} features × `
      + `${n.toLocaleString('en-US')} samples (${formatBytes(consumer.need(m, n))}), ${formatBytes(RUNTIME_BYTES)} of runtime and five chunks `
      + `(option memoryBudget, CLI --memory-budget)`);
  }
  const chunkSize = Math.max(64, Math.min(16_384, Math.floor(spare / ((held + 4) * perSample))));
  const readAhead = Math.max(1, Math.min(8, Math.floor(spare / (chunkSize * perSample)) - held));
  return { chunkSize, readAhead };
}
