/**
 * The rows of FitOptions (fit, fitModel, fitOnline) and OnlineOptions (fitOnline), in the order they are
 * resolved: a computed default reads only rows above it. Docs say what pipeline/fit.ts and
 * pipeline/fit-online.ts do with each value.
 */
import { LOSSES, LOSS_DEFAULTS, type Loss } from './losses.js';
import type { OptionRow } from './row.js';

const FIT = ['fit'] as const;
const ONLINE = ['online'] as const;
const PENALTY = { type: 'number', min: 0, below: 1 } as const;

export const FIT_ROWS: readonly OptionRow[] = [
  { name: 'rank', kind: { type: 'integer', min: 1 }, scopes: FIT, required: true, flag: '-k, --rank <K>', doc: 'rank k: the number of factors, ≤ min(features, samples)' },
  { name: 'loss', kind: { type: 'enum', values: LOSSES }, scopes: FIT, default: 'l2', flag: '--loss <loss>', doc: LOSSES.map((l) => `'${l}' (${LOSS_DEFAULTS[l].doc})`).join(' or ') },
  { name: 'l1', kind: { type: 'pair', of: PENALTY }, scopes: FIT, default: 0, flag: '--l1 <W,H>', doc: 'l2: L1 penalty in [0, 1) on the normalised problem, one number for both factors or W,H' },
  { name: 'l2', kind: { type: 'pair', of: { type: 'number', min: 0 } }, scopes: FIT, default: 0, flag: '--l2 <W,H>', doc: 'l2: L2 (ridge) penalty ≥ 0 on the Gram diagonal, one number for both factors or W,H' },
  { name: 'lambda', kind: { type: 'number', min: 0 }, scopes: FIT, default: 1, flag: '--lambda <λ>', doc: 'l1: weight of the zero entries (1 = plain L1-NMF, 0 ignores zeros)' },
  { name: 'maxIterations', kind: { type: 'integer', min: 1 }, scopes: FIT, default: 100, flag: '--max-iterations <N>', doc: 'maximum iterations (passes)' },
  {
    name: 'solver', kind: { type: 'enum', values: ['fast', 'exact'] }, scopes: FIT, default: 'fast', flag: '--solver <solver>',
    doc: "l2: 'fast' (≤ 5 warm CD sweeps per subproblem, W extrapolated, WebAssembly; online: warm window codes and W) or 'exact' (plain ALS; online: exact solves)",
  },
  {
    name: 'tol', kind: { type: 'number', min: 0 }, scopes: FIT, fallback: (v) => LOSS_DEFAULTS[v.loss as Loss].tol(v.solver),
    defaultDoc: '1e-5 (l2 fast), 1e-4 (l2 exact), 1e-6 (l1)', flag: '--tol <t>', doc: 'stop when the convergence measure falls below tol; 0 runs all iterations',
  },
  { name: 'seed', kind: { type: 'integer' }, scopes: FIT, default: 42, flag: '--seed <s>', doc: 'seed of the random start' },
  {
    name: 'init', kind: { type: 'choice-or-object', values: ['random', 'nndsvd', 'nndsvda'] }, scopes: FIT, default: 'random', flag: '--init <method>',
    expected: "'random', 'nndsvd', 'nndsvda' or explicit arrays { W, H }",
    doc: "the start: 'random', 'nndsvd' or 'nndsvda' (from an SVD of the input: 6 extra passes; fit only), or explicit arrays { W, H }",
  },
  { name: 'init.W', kind: { type: 'nonnegative-array' }, scopes: FIT, doc: 'explicit start: W, features × rank, row-major' },
  { name: 'init.H', kind: { type: 'nonnegative-array' }, scopes: FIT, doc: 'l1, explicit start: H, rank × samples, row-major (with init.W)' },
  { name: 'warmupIterations', kind: { type: 'integer', min: 0 }, scopes: FIT, default: 10, flag: '--warmup <N>', doc: 'l1: least-squares iterations before sCD when no start is given' },
  { name: 'keepH', kind: { type: 'boolean' }, scopes: FIT, default: false, doc: 'return H (rank × samples) on the final snapshot' },
  { name: 'checkpoint', kind: { type: 'object' }, scopes: FIT, doc: 'write the full state to <dir>/checkpoint.nmf (atomically) as the fit goes' },
  { name: 'checkpoint.dir', kind: { type: 'string' }, scopes: FIT, required: true, expected: 'a directory path', flag: '--checkpoint <dir>', doc: 'write the full state to <dir>/checkpoint.nmf (atomically) as the fit goes' },
  { name: 'checkpoint.every', kind: { type: 'integer', min: 1 }, scopes: FIT, default: 1, flag: '--checkpoint-every <N>', doc: 'iterations between checkpoints' },
  { name: 'checkpoint.chunks', kind: { type: 'integer', min: 1 }, scopes: FIT, flag: '--checkpoint-chunks <N>', doc: 'also checkpoint every N chunks within a pass (least squares; for long passes)' },
  { name: 'resumeFrom', kind: { type: 'string' }, scopes: FIT, expected: 'a directory path', flag: '--resume <dir>', doc: 'continue from the checkpoint in this directory (same input and options give the same bytes)' },
  { name: 'diag', kind: { type: 'boolean' }, scopes: FIT, default: true, flag: '--no-diag', doc: 'l2: diagonal scaling between updates (false: the factors carry the scale)' },
  {
    name: 'threads', kind: { type: 'integer', min: 1, max: 64 }, scopes: FIT, flag: '--threads <N>', defaultDoc: 'the available cores for large problems (1 for the fast solver)',
    doc: 'threads (1 = no workers); the same bytes for any count',
  },
  { name: 'tempDir', kind: { type: 'string' }, scopes: FIT, defaultDoc: 'the OS temp dir', flag: '--temp-dir <dir>', doc: 'directory for temporary files (out-of-core l1: the feature-major copy)' },
  { name: 'onChunk', kind: { type: 'function' }, scopes: FIT, doc: 'called after every chunk with the pass and what it has read so far' },
  { name: 'emit', kind: { type: 'enum', values: ['every', 'final'] }, scopes: FIT, default: 'every', doc: "'every': a snapshot per iteration and the final one; 'final': the final one only" },
  { name: 'onIteration', kind: { type: 'function' }, scopes: FIT, doc: 'called after every iteration with its trace point' },
  {
    name: 'nnlsMethod', kind: { type: 'enum', values: ['active-set', 'cd'] }, scopes: FIT, default: 'active-set', flag: '--nnls <method>',
    doc: "NNLS method: 'active-set' (exact, Lawson–Hanson from the warm support) or 'cd' (RcppML's coordinate descent)",
  },
  { name: 'nnlsMaxSweeps', kind: { type: 'integer', min: 1 }, scopes: FIT, default: 100, doc: 'NNLS coordinate descent: maximum sweeps per solve' },
  { name: 'nnlsTol', kind: { type: 'number', min: 0 }, scopes: FIT, default: 1e-8, doc: 'NNLS coordinate descent: mean relative change that stops it' },
  { name: 'wasm', kind: { type: 'boolean' }, scopes: FIT, default: true, doc: "run the 'fast' solver's one-thread pass in WebAssembly where the runtime has SIMD" },
  {
    name: 'mask', kind: { type: 'enum', values: ['zeros'] }, scopes: FIT, flag: '--mask <mask>',
    doc: "'zeros': the zero entries are missing (not fitted, not tested), e.g. ratings (l1: the same as lambda 0); or (CLI) a matrix file whose entries are missing (maskSource)",
  },
  {
    name: 'maskSource', kind: { type: 'source' }, scopes: FIT,
    doc: "a source (any format) of a sparse matrix of the data's shape: its stored entries are missing in the data (CLI: --mask FILE; batch fits)",
  },
  {
    name: 'missing', kind: { type: 'enum', values: ['error', 'nan'] }, scopes: ['fit', 'csc', 'mtx', 'read'], default: 'error', flag: '--missing <how>',
    doc: "a NaN value is a DataError ('error') or a missing entry ('nan': fits, fromCsc / fromDense, fromMtx / loadMtx: a value nan, fromArrow / fromParquet: NaN or NULL)",
  },
  { name: 'testFraction', kind: { type: 'number', above: 0, below: 1 }, scopes: FIT, flag: '--test-fraction <f>', doc: 'hold out this fraction of the entries (a hash of feature, sample, testSeed) and report their loss' },
  { name: 'testSeed', kind: { type: 'integer' }, scopes: FIT, default: 1, flag: '--test-seed <s>', doc: 'seed of the held-out set (the same set in any chunking, pass or machine)' },
  {
    name: 'testZeros', kind: { type: 'enum', values: ['sampled', 'all', 'none'] }, scopes: FIT, default: 'sampled', flag: '--test-zeros <how>',
    doc: "held-out zeros: 'sampled' (as many as held-out nonzeros, weighted to estimate 'all'; cost ∝ nnz), 'all' (each zero with the fraction, RcppML; cost ∝ m·n) or 'none'",
  },
  { name: 'earlyStop', kind: { type: 'boolean' }, scopes: FIT, default: false, flag: '--early-stop', doc: 'with testFraction: stop when the test loss rises (the model of the lowest test loss is not kept: the last one is)' },
  {
    name: 'memoryLimit', kind: { type: 'bytes' }, scopes: ['fit', 'mtx'], defaultDoc: "75 % of the machine's memory, of the cgroup limit or 40 % of ulimit -v",
    flag: '--memory-limit <bytes>', doc: 'refuse a shape that needs more memory than this (bytes; the CLI reads 8G, 512M), before allocating it (memory-limit.ts)',
  },
  { name: 'forgetting', kind: { type: 'number', above: 0, max: 1 }, scopes: ONLINE, default: 1, flag: '--forgetting <ρ>', doc: 'online l2: statistics decay by ρ per chunk (1 = remember everything)' },
  { name: 'emitEvery', kind: { type: 'integer', min: 1 }, scopes: ONLINE, default: 1, flag: '--emit-every <N>', doc: 'online: a snapshot every N chunks' },
  {
    name: 'buffer', kind: { type: 'integer', min: 0 }, scopes: ONLINE, default: 4,
    doc: "online: chunks received but not yet fitted; updates run off the producer's call stack, and a producer this far ahead waits in next() for the oldest update (0: every update in next(), as before)",
  },
  { name: 'emitEveryMs', kind: { type: 'number', min: 0 }, scopes: ONLINE, doc: 'online: also a snapshot when this many milliseconds have passed since the last one' },
  { name: 'name', kind: { type: 'string' }, scopes: ONLINE, default: 'live stream', doc: 'the name of a plain Observable in error messages' },
  {
    name: 'window', kind: { type: 'integer', min: 1 }, scopes: ONLINE, expected: 'an integer ≥ 1 (chunks)', flag: '--window <N>',
    fallback: (v, given) => LOSS_DEFAULTS[v.loss as Loss].window(v.solver, given.nnlsMethod !== undefined),
    defaultDoc: "l1 8; l2 4 with solver 'fast', 1 with 'exact'", doc: 'online: chunks in the window (memory is bounded by it)',
  },
  { name: 'sweeps', kind: { type: 'integer', min: 1 }, scopes: ONLINE, default: 1, flag: '--sweeps <N>', doc: 'online: rounds per chunk (l1 sCD iterations over the window; l2 rounds of codes and W)' },
];
