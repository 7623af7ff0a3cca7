/**
 * parquet-wasm runs in a worker thread (its code: parquet-thread.ts). On corrupt data its async reader panics inside a microtask:
 * in the main thread that is an uncaught exception (the process dies) and a read that never settles.
 * In a worker the panic only ends the worker; the pending call is rejected and becomes a
 * MALFORMED_FILE error. Decoding off the main thread also overlaps it with the consumer's work.
 *
 * The FileHandle stays in the main thread: the worker asks for byte ranges ("read"), so closing the
 * handle on unsubscribe is immediate and visible, and the worker is terminated at the same moment.
 * Calls are one at a time: open(size, columns, batchSize) → group(g) → next() … → end, and the main
 * side asks for the next batch only when it wants one (one batch ahead of the consumer at most).
 * The wasm module is compiled once per process; one idle worker is kept (unref'd) for the next pass.
 * A call may have a time limit: a decoder that neither replies nor asks for bytes for that long (a loop on
 * damaged data) is terminated and the call rejected with `DecoderStalled`.
 * The same worker runs hyparquet for the files parquet-wasm refuses (parquet-fallback.ts): hp-open(size) →
 * hp-group(rows, columns) → the decoded columns, so that its decoders too run under the time limit, off the
 * main thread (on damaged pages its RLE decoder can grow an array without end).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CONVERT_EVENTS, type ConvertEvent, type ConvertRequest } from './convert-thread.js';
import type { MtxReply, MtxRequest } from './mtx-thread.js';

let threadSource: Promise<string> | undefined;

/**
 * The worker's module: the compiled parquet-thread.js next to this file (dist/); under tsx / vitest (this file is
 * parquet-worker.ts) parquet-thread.ts and the modules it imports (the converters: convert-thread.ts) bundled by
 * esbuild into one module, as a data: URL, with apache-arrow imported from its file URL (a data: URL cannot resolve
 * a package name). Registering tsx in each decoder worker (what parallel/workers.ts does for the pools) took 2.5–3 s
 * per worker on this project's loaded machine, and every Parquet read starts one; the bundle takes ~50 ms, once.
 */
async function threadUrl(): Promise<URL> {
  if (!import.meta.url.endsWith('.ts')) return new URL('./parquet-thread.js', import.meta.url);
  // The compiler's name is a variable: a bundler of an app that uses nmflow must not try to bundle esbuild too.
  const compiler = 'esbuild';
  threadSource ??= (import(compiler) as Promise<typeof import('esbuild')>).then(async (esbuild) => {
    const require = createRequire(import.meta.url);
    const arrowDir = dirname(require.resolve('apache-arrow'));
    const arrow = pathToFileURL(join(arrowDir, 'Arrow.node.mjs')).href;
    const result = await esbuild.build({
      entryPoints: [fileURLToPath(new URL('./parquet-thread.ts', import.meta.url))], bundle: true, format: 'esm', platform: 'node',
      write: false, logLevel: 'silent',
      plugins: [{
        name: 'packages-by-url',
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('node:') ? { path: args.path, external: true }
            : args.path === 'apache-arrow' ? { path: arrow, external: true }
              : { errors: [{ text: `the decoder worker may import only apache-arrow and node: modules (found ${args.path})` }] }));
        },
      }],
    });
    return result.outputFiles[0]!.text;
  });
  return new URL(`data:text/javascript,${encodeURIComponent(await threadSource)}`);
}

export type Reply = { type: 'ok' } | { type: 'end' } | { type: 'batch'; ipc: Uint8Array } | { type: 'error'; message: string }
  | { type: 'columns'; columns: Record<string, ArrayLike<unknown>> } | MtxReply;
export type Request =
  | { type: 'open'; size: number }
  | { type: 'hp-open'; size: number }
  | { type: 'hp-group'; rowStart: number; rowEnd: number; columns: string[] }
  | { type: 'group'; group: number; batchSize: number; columns: string[] | undefined }
  | { type: 'next' }
  | { type: 'close' }
  | MtxRequest;
/** The bytes of a range the worker asked for ("read"), or why they could not be read. */
export type ReaderMessage = { type: 'bytes'; id: number; buffer?: ArrayBuffer; error?: string };

/** A call that made no progress within its time limit (the worker has been terminated). */
export class DecoderStalled extends Error {
  constructor(readonly seconds: number) { super(`the decoder made no progress for ${seconds} s`); }
}

/** The global WebAssembly object (its value is not in the ES2022 lib types). */
const wasmApi = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<object> } }).WebAssembly;
let compiled: Promise<object> | undefined;

/** One worker running parquet-wasm; `call` sends a request and resolves with its reply. */
export class DecoderWorker {
  /** The worker kept between passes (unref'd, so it never keeps the process alive). */
  private static idle: DecoderWorker | undefined;
  private pending: { resolve: (r: Reply) => void; reject: (e: Error) => void; progress: () => void } | undefined;
  private bytes: ((start: number, end: number) => Promise<ArrayBuffer>) | undefined;
  private dead: Error | undefined;
  /** Receives a conversion's events (convert-thread.ts), and the worker's death. */
  private listener: { event(e: ConvertEvent): void; died(err: Error): void } | undefined;
  /** The worker has said 'ready' (its start-up does not count against a call's time limit). */
  private started = false;
  private readonly onStarted: (() => void)[] = [];
  /** The 'close' of a released worker (acquire waits for it). */
  private closing: Promise<void> | undefined;
  /** When the worker last sent anything or asked for bytes (performance.now()). */
  lastActivity = 0;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: Reply | ConvertEvent | { type: 'read'; id: number; start: number; end: number } | { type: 'ready' }) => {
      this.lastActivity = performance.now();
      if (msg.type === 'ready') { this.started = true; for (const go of this.onStarted.splice(0)) go(); return; }
      if (msg.type === 'read') { this.serveRead(msg.id, msg.start, msg.end); return; }
      if (CONVERT_EVENTS.has(msg.type)) { this.listener?.event(msg as ConvertEvent); return; }
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(msg as Reply);
    });
    const die = (err: Error): void => {
      this.dead ??= err;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(this.dead);
      const l = this.listener;
      this.listener = undefined;
      l?.died(this.dead);
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`the decoder worker stopped (exit code ${code})`)));
  }

  /** A worker from the pool, or a new one. */
  static async acquire(): Promise<DecoderWorker> {
    const reuse = DecoderWorker.idle;
    DecoderWorker.idle = undefined;
    if (reuse) {
      await reuse.closing;
      if (!reuse.dead) { reuse.worker.ref(); return reuse; }
    }
    const require = createRequire(import.meta.url);
    compiled ??= readFile(require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')).then((bytes) => wasmApi.compile(bytes));
    const module = await compiled;
    const workerData = {
      module, parquetWasm: pathToFileURL(require.resolve('parquet-wasm/esm')).href,
      hyparquet: pathToFileURL(require.resolve('hyparquet')).href, compressors: pathToFileURL(require.resolve('hyparquet-compressors')).href,
    };
    // The heap limit stops hyparquet growing an array for ever on damaged pages (parquet-wasm's memory is its own).
    return new DecoderWorker(new Worker(await threadUrl(), { workerData, resourceLimits: { maxOldGenerationSizeMb: 512 } }));
  }

  /** Where the worker's byte-range requests are read from (the current file). */
  setSource(bytes: ((start: number, end: number) => Promise<ArrayBuffer>) | undefined): void {
    this.bytes = bytes;
  }

  /** The worker has started (its start-up, which a loaded machine can make take many seconds, is not a stall). */
  get isStarted(): boolean {
    return this.started;
  }

  /** Sends `request`; with `limitMs`, a call without a reply or a byte request for that long is stopped (DecoderStalled). */
  call(request: Request, limitMs = Infinity): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.pending) return Promise.reject(new Error('a decoder call is already pending'));
    return new Promise<Reply>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const progress = (): void => {
        if (!Number.isFinite(limitMs)) return;
        clearTimeout(timer);
        // When the time is up, look once more after the event loop has taken in what is waiting (a reply may have
        // arrived while this thread was busy: timers run before the messages that came meanwhile).
        timer = setTimeout(() => setImmediate(() => {
          if (this.pending?.progress !== progress) return;
          this.pending = undefined;
          this.terminate();
          reject(new DecoderStalled(Math.round(limitMs / 1000)));
        }), limitMs);
      };
      this.pending = {
        resolve: (reply) => { clearTimeout(timer); resolve(reply); },
        reject: (error) => { clearTimeout(timer); reject(error); },
        progress,
      };
      if (this.started) progress();
      else this.onStarted.push(() => { if (this.pending?.progress === progress) progress(); });
      this.worker.postMessage(request);
    });
  }

  /** Where a conversion's events go (undefined: nowhere). */
  listen(listener: { event(e: ConvertEvent): void; died(err: Error): void } | undefined): void {
    this.listener = listener;
  }

  /** Sends a conversion message (no reply: its events go to the listener). */
  post(message: ConvertRequest): void {
    if (!this.dead) this.worker.postMessage(message);
  }

  /** After a file read to the end: free it in the worker and keep the worker for the next pass. */
  release(): void {
    this.bytes = undefined;
    this.listener = undefined;
    if (this.dead || DecoderWorker.idle) { this.terminate(); return; }
    // Kept at once (a pass that starts right after this one waits for the close, rather than starting a new worker).
    DecoderWorker.idle = this;
    this.closing = this.call({ type: 'close' }).then(() => {
      if (!this.dead && DecoderWorker.idle === this) this.worker.unref();
    }, () => this.terminate());
  }

  /** Stops the worker at once (a decode in flight is abandoned). */
  terminate(): void {
    this.bytes = undefined;
    this.listener = undefined;
    this.dead ??= new Error('the decoder worker was stopped');
    this.worker.terminate().catch(() => undefined);
  }

  private serveRead(id: number, start: number, end: number): void {
    this.pending?.progress();
    this.lastActivity = performance.now();
    const bytes = this.bytes;
    const reply = bytes ? bytes(start, end) : Promise.reject(new Error('the file is closed'));
    reply.then(
      (buffer) => { this.pending?.progress(); this.worker.postMessage({ type: 'bytes', id, buffer }, [buffer]); },
      (err: unknown) => this.worker.postMessage({ type: 'bytes', id, error: err instanceof Error ? err.message : String(err) }),
    ).catch(() => undefined);
  }
}
