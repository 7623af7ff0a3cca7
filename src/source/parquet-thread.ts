/**
 * The Parquet decoder's worker thread (started by parquet-worker.ts, which says why decoding runs here): parquet-wasm
 * decodes row groups into Arrow IPC record batches, hyparquet the files parquet-wasm refuses (parquet-fallback.ts).
 * The file stays in the main thread: bytes are asked for by range ("read" → "bytes"). One call at a time, each
 * answered by one reply (parquet-worker.ts `Request`, `Reply`); besides, a pass may be converted here into
 * finished CSC chunks (convert-thread.ts: its own messages and events).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AsyncBuffer, FileMetaData } from 'hyparquet';
// parquet-wasm and hyparquet come from the URLs the main thread resolved (this module may run as a bundle from a data: URL).
import { convertCall, type ConvertRequest } from './convert-thread.js';
import { mtxCall } from './mtx-thread.js';
import type { ReaderMessage, Reply, Request } from './parquet-worker.js';

type ParquetWasm = typeof import('parquet-wasm/esm');
type Hyparquet = [typeof import('hyparquet'), typeof import('hyparquet-compressors')];
interface BatchReader { read(): Promise<{ done: boolean; value?: { intoIPCStream(): Uint8Array } }> }

const port = parentPort!;
/** The compiled wasm module, and the packages' file URLs (resolved by the main thread: this module may run from a data: URL). */
const given = workerData as { module: object; parquetWasm: string; hyparquet: string; compressors: string };
// The main thread compiled the module once; each worker only instantiates it.
const ready = (import(given.parquetWasm) as Promise<ParquetWasm>).then((pw) => { pw.initSync({ module: given.module as never }); return pw; });
const waiting = new Map<number, { resolve: (b: ArrayBuffer) => void; reject: (e: Error) => void }>();
let ids = 0;
let file: Awaited<ReturnType<ParquetWasm['ParquetFile']['fromFile']>> | undefined;
let reader: BatchReader | undefined;
let hp: Hyparquet | undefined;
let hpFile: AsyncBuffer | undefined;
let hpMeta: FileMetaData | undefined;

const fetchBytes = (start: number, end: number): Promise<ArrayBuffer> => new Promise((resolve, reject) => {
  const id = ids++;
  waiting.set(id, { resolve, reject });
  port.postMessage({ type: 'read', id, start, end });
});

function free(): void {
  reader = undefined;
  hpFile = hpMeta = undefined;
  try { file?.free(); } catch { /* already freed by a panic */ }
  file = undefined;
}

const reply = (message: Reply, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

async function hyparquetCall(msg: Extract<Request, { type: 'hp-open' | 'hp-group' }>): Promise<void> {
  if (msg.type === 'hp-open') {
    free();
    hp ??= await Promise.all([import(given.hyparquet), import(given.compressors)]) as Hyparquet;
    const size = msg.size;
    hpFile = { byteLength: size, slice: (s = 0, e = size) => fetchBytes(s, Math.min(e, size)) };
    hpMeta = await hp[0].parquetMetadataAsync(hpFile);
    reply({ type: 'ok' });
    return;
  }
  const columns: Record<string, ArrayLike<unknown>> = {};
  await hp![0].parquetRead({
    file: hpFile!, metadata: hpMeta!, rowStart: msg.rowStart, rowEnd: msg.rowEnd, columns: msg.columns, compressors: hp![1].compressors,
    onChunk: (chunk) => { columns[chunk.columnName] = chunk.columnData; },
  });
  reply({ type: 'columns', columns });
}

async function wasmCall(msg: Exclude<Request, { type: 'hp-open' | 'hp-group' | 'mtx' }>): Promise<void> {
  const pw = await ready;
  if (msg.type === 'open') {
    free();
    const size = msg.size;
    const blob = { size, slice: (s = 0, e = size) => ({ size: e - s, arrayBuffer: () => fetchBytes(s, Math.min(e, size)) }) };
    file = await pw.ParquetFile.fromFile(blob as unknown as Blob);
    reply({ type: 'ok' });
  } else if (msg.type === 'group') {
    reader = (await file!.stream({ rowGroups: [msg.group], batchSize: msg.batchSize, ...(msg.columns ? { columns: msg.columns } : {}) })).getReader() as BatchReader;
    reply({ type: 'ok' });
  } else if (msg.type === 'next') {
    const r = await reader!.read();
    if (r.done) { reply({ type: 'end' }); return; }
    const ipc = r.value!.intoIPCStream();
    reply({ type: 'batch', ipc }, [ipc.buffer as ArrayBuffer]);
  } else {
    free();
    reply({ type: 'ok' });
  }
}

const convertHost = {
  bytes: fetchBytes,
  post: (event: Parameters<typeof port.postMessage>[0], transfer: ArrayBuffer[] = []): void => port.postMessage(event, transfer),
  group: async (group: number, batchSize: number, columns: string[] | undefined): Promise<BatchReader> =>
    (await file!.stream({ rowGroups: [group], batchSize, ...(columns ? { columns } : {}) })).getReader() as BatchReader,
};

port.on('message', async (msg: Request | ReaderMessage | ConvertRequest) => {
  if (msg.type === 'conv-start' || msg.type === 'conv-file' || msg.type === 'conv-arrow' || msg.type === 'conv-finish' || msg.type === 'credit') {
    await convertCall(msg, convertHost);
    return;
  }
  if (msg.type === 'bytes') {
    const w = waiting.get(msg.id);
    waiting.delete(msg.id);
    if (w) { if (msg.error !== undefined) w.reject(new Error(msg.error)); else w.resolve(msg.buffer!); }
    return;
  }
  try {
    if (msg.type === 'mtx') { const { reply: r, transfer } = await mtxCall(msg); reply(r, transfer); return; }
    if (msg.type === 'hp-open' || msg.type === 'hp-group') await hyparquetCall(msg);
    else await wasmCall(msg);
  } catch (err) {
    reply({ type: 'error', message: String((err as Error | undefined)?.message ?? err) });
  }
});

// Started (modules loaded, wasm instantiated): the main thread's time limits count from here, not from a start-up that
// a loaded machine can make take many seconds.
void ready.then(() => port.postMessage({ type: 'ready' }), () => port.postMessage({ type: 'ready' }));
