/**
 * Issue #13, readers: damaged Arrow IPC metadata ends in MALFORMED_FILE within seconds (it made apache-arrow
 * loop for ever), a stream without its end-of-stream marker is not complete, decoded buffers are checked
 * against their lengths, inputs that are not regular files are refused at once, and the CLI always ends
 * after SIGINT.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float64, Int32, RecordBatch, Schema, Field, Struct, Table, makeData, tableFromArrays, tableToIPC } from 'apache-arrow';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { NmfError } from '../src/errors.js';
import { FlatBuffer } from '../src/source/flatbuffer-check.js';
import { fromArrow } from '../src/source/from-arrow.js';
import { fromParquet } from '../src/source/from-parquet.js';
import { DecoderStalled, DecoderWorker } from '../src/source/parquet-worker.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import { toBatches } from '../src/cli/convert-command.js';
import { openTableWriter } from '../src/io/write-table.js';
import { splitColumns } from '../src/source/from-csc.js';
import { readMtx } from '../src/source/read-mtx.js';
import { CLI } from './helpers/cli.js';
import { SHARED_DATA } from './helpers/load-mtx-sync.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'nmflow-readers-'));
const long = { layout: 'long', features: 5 } as const;

/** A long-layout table of 12 samples in 4 record batches. */
function table(): Table {
  const rows = Array.from({ length: 36 }, (_, r) => r);
  const t = tableFromArrays({ feature: Int32Array.from(rows, (r) => r % 5), sample: Int32Array.from(rows, (r) => Math.floor(r / 3)), value: Float64Array.from(rows, (r) => 1 + r) });
  return new Table([0, 9, 18, 27].flatMap((start) => t.slice(start, start + 9).batches));
}

/** Reads every chunk, failing the test if that takes more than 5 s; resolves with the error (or undefined). */
async function readFailure(source: MatrixSource): Promise<NmfError | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('still reading after 5 s')), 5000); });
  try {
    await Promise.race([lastValueFrom(source.chunks().pipe(toArray())), timeout]);
    return undefined;
  } catch (error) {
    if (!(error instanceof NmfError)) throw error;
    return error;
  } finally {
    clearTimeout(timer);
  }
}

/** The footer of an IPC file: its FlatBuffer and where it starts in the file. */
function footerOf(bytes: Uint8Array): { fb: FlatBuffer; start: number } {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getInt32(bytes.length - 10, true);
  const start = bytes.length - 10 - length;
  return { fb: new FlatBuffer(bytes.subarray(start, start + length), 1e6), start };
}

describe('damaged Arrow IPC files end in MALFORMED_FILE within seconds', () => {
  it('an IPC file whose footer points a record batch at the schema message (apache-arrow re-read it for ever)', async () => {
    // pyarrow's files hold the schema message at offset 8 (apache-arrow's writer leaves it out).
    const bytes = readFileSync(new URL('../../shared/fixtures/hawaiibirds-long.arrow', import.meta.url));
    const { fb, start } = footerOf(bytes);
    const batches = fb.vector(fb.root('footer'), 3, 24, 'blocks');
    new DataView(bytes.buffer, bytes.byteOffset).setBigInt64(start + batches.start, 8n, true); // block 0 → the schema message after "ARROW1\0\0"
    const path = join(tmp(), 'loop.arrow');
    writeFileSync(path, bytes);
    for (const source of [fromArrow(path, { layout: 'long' }), fromArrow(bytes, { layout: 'long', features: 183 })]) {
      const error = await readFailure(source);
      expect(error?.code).toBe('MALFORMED_FILE');
      expect(error?.message).toContain("not a complete Arrow IPC file: the footer's block for record batch 0 holds another kind of message");
      expect(error?.location?.batch).toBe(0);
    }
  });

  it('an IPC file whose schema claims two billion fields, or whose fields form a cycle', async () => {
    for (const damage of ['count', 'cycle'] as const) {
      const bytes = tableToIPC(table(), 'file');
      const { fb, start } = footerOf(bytes);
      const schema = fb.child(fb.root('footer'), 1, 'schema')!;
      const fields = fb.vector(schema, 1, 4, 'fields');
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      if (damage === 'count') view.setUint32(start + fields.start - 4, 0x7fffffff, true);
      else {
        // Field 0's children: the schema's own list of fields (a backward offset, which apache-arrow follows), so it contains itself.
        const field0 = fb.table(fields.start + fb.u32(fields.start), 'field');
        const slot = fb.field(field0, 5, 4);
        expect(slot).toBeDefined();
        view.setInt32(start + slot!, fields.start - 4 - slot!, true);
      }
      const error = await readFailure(fromArrow(bytes, long));
      expect(error?.code, damage).toBe('MALFORMED_FILE');
      expect(error?.message).toContain('not a complete Arrow IPC file: its metadata is damaged');
    }
  });

  it('a file cut short, and bytes that are not Arrow at all', async () => {
    const bytes = tableToIPC(table(), 'file');
    for (const cut of [bytes.subarray(0, bytes.length - 3), bytes.subarray(0, 200), Uint8Array.from({ length: 100 }, (_, i) => i)]) {
      const error = await readFailure(fromArrow(cut, long));
      expect(error?.code).toBe('MALFORMED_FILE');
      expect(error?.message).toMatch(/^not a complete Arrow IPC (file|stream): /);
    }
  });
});

describe('damaged Parquet files end in MALFORMED_FILE within seconds', () => {
  it('a file parquet-wasm refuses as damaged is not handed to hyparquet (whose RLE decoder grew an array for ever on it)', async () => {
    // Found by the fuzz harness (seed 6): 24 bytes deleted in a page, an int32 of the footer overwritten.
    const good = readFileSync(new URL('../../shared/fixtures/hawaiibirds-list.parquet', import.meta.url));
    const bytes = Buffer.concat([good.subarray(0, 39505), good.subarray(39505 + 24)]);
    bytes.writeInt32LE(1095057737, 141616);
    const path = join(tmp(), 'damaged.parquet');
    writeFileSync(path, bytes);
    const error = await readFailure(fromParquet(path, { layout: 'list' }));
    expect(error?.code).toBe('MALFORMED_FILE');
    expect(error?.location?.source).toBe(path);
  });

  it('a damaged file whose page index parquet-wasm refuses (as for parquetjs-lite files) but not written by parquetjs-lite is MALFORMED_FILE, not handed to hyparquet', async () => {
    // Found by the fuzz harness (seed 102): the fuzz corpus's list-layout file with 43 bytes deleted at 371,
    // where parquet-wasm reports "null_pages is missing" and hyparquet's RLE decoder then grew an array for
    // ever, in the main thread. (hyparquet now also runs in the decoder's worker, under its limits.)
    const A = await readMtx(`${SHARED_DATA}pbmc_small.mtx`);
    const small = { m: A.m, n: 24, colPtr: A.colPtr.slice(0, 25), rowIdx: A.rowIdx.slice(0, A.colPtr[24]), values: A.values.slice(0, A.colPtr[24]) };
    const path = join(tmp(), 'list.parquet');
    const writer = await openTableWriter(path, { rowGroupSize: 8, compression: 'zstd' });
    for (const chunk of splitColumns(small, 8)) for (const batch of toBatches(chunk, 'list', small.m, small.n, undefined)) await writer.write(batch);
    await writer.close();
    const good = readFileSync(path);
    writeFileSync(path, Buffer.concat([good.subarray(0, 371), good.subarray(371 + 43)]));
    const started = performance.now();
    const error = await lastValueFrom(fromParquet(path, { layout: 'list' }).chunks().pipe(toArray())).then(() => undefined, (e: unknown) => e as NmfError);
    expect(error?.code).toBe('MALFORMED_FILE');
    expect(error?.message).toMatch(/^cannot open the file: /);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('a decoder call that makes no progress (no reply, no byte request) is stopped: DecoderStalled', async () => {
    const decoder = await DecoderWorker.acquire();
    decoder.setSource(() => new Promise<ArrayBuffer>(() => undefined)); // bytes that never come
    const started = performance.now();
    await expect(decoder.call({ type: 'open', size: 1 << 20 }, 300)).rejects.toBeInstanceOf(DecoderStalled);
    expect(performance.now() - started).toBeLessThan(3000);
    await expect(decoder.call({ type: 'close' })).rejects.toThrow(); // terminated
  });
});

describe('what counts as a complete Arrow IPC stream', () => {
  it('a stream cut at a batch boundary (no end-of-stream marker) is MALFORMED_FILE, not a shorter matrix', async () => {
    const whole = tableToIPC(table(), 'stream');
    expect(Array.from(whole.subarray(whole.length - 8))).toEqual([255, 255, 255, 255, 0, 0, 0, 0]);
    const complete = await lastValueFrom(fromArrow(whole, long).chunks().pipe(toArray()));
    expect(complete.reduce((n, c) => n + c.n, 0)).toBe(12);
    // Cut after the schema and 2 of the 4 batches: find the end of each message from its framing.
    const ends: number[] = [];
    for (let at = 0; ; ) {
      const view = new DataView(whole.buffer, whole.byteOffset + at);
      const metadata = view.getInt32(4, true);
      if (metadata === 0) break;
      const fb = new FlatBuffer(whole.subarray(at + 8, at + 8 + metadata), 1e6);
      const bodyAt = fb.field(fb.root('message'), 3, 8);
      at += 8 + metadata + (bodyAt === undefined ? 0 : fb.i64(bodyAt));
      ends.push(at);
    }
    const dir = tmp();
    for (const [k, end] of [[0, ends[0]!], [2, ends[2]!], [4, ends[4]!]] as const) {
      const path = join(dir, `cut-${k}.arrows`);
      writeFileSync(path, whole.subarray(0, end));
      for (const source of [fromArrow(path, long), fromArrow(whole.subarray(0, end), long)]) {
        const error = await readFailure(source);
        expect(error?.code).toBe('MALFORMED_FILE');
        expect(error?.message).toContain(`the stream ends after ${k} record batches without its end-of-stream marker (cut short)`);
      }
    }
    // Cut inside a message:
    const error = await readFailure(fromArrow(whole.subarray(0, ends[1]! + 20), long));
    expect(error?.message).toMatch(/not a complete Arrow IPC stream: .*(cut short|runs past the end)/);
  });
});

describe('decoded buffers are checked against their lengths', () => {
  it('a record batch whose column claims more values than its buffer holds is MALFORMED_FILE naming the batch and column', async () => {
    const fields = [new Field('feature', new Int32(), false), new Field('sample', new Int32(), false), new Field('value', new Float64(), false)];
    const column = (type: Int32 | Float64, length: number, data: Int32Array | Float64Array) => makeData({ type: type as Float64, length, nullCount: 0, data: data as Float64Array });
    const good = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 3, nullCount: 0,
      children: [column(new Int32(), 3, Int32Array.of(0, 1, 2)), column(new Int32(), 3, Int32Array.of(0, 0, 1)), column(new Float64(), 3, Float64Array.of(1, 2, 3))] }));
    const bad = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 1000, nullCount: 0,
      children: [column(new Int32(), 1000, Int32Array.of(0, 1)), column(new Int32(), 1000, Int32Array.of(2, 2)), column(new Float64(), 1000, Float64Array.of(1, 2))] }));
    const error = await readFailure(fromArrow([good, bad], { ...long, name: 'batches' }));
    expect(error?.code).toBe('MALFORMED_FILE');
    expect(error?.message).toMatch(/^column "feature" is damaged: 2 entries in its value buffer for 1000 values \(in record batch 1\)/);
    expect(error?.location).toMatchObject({ source: 'batches', batch: 1, column: 'feature' });
  });
});

describe('inputs that are not regular files', () => {
  it('a FIFO is refused at once (opening it would wait for a writer for ever), and a Parquet directory with a sub-directory says so', async () => {
    const dir = tmp();
    const fifo = join(dir, 'pipe.arrows');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const error = await readFailure(fromArrow(fifo, long));
    expect(error?.code).toBe('IO');
    expect(error?.message).toContain('it is a pipe (FIFO), not a regular file');
    const parts = join(dir, 'parts');
    mkdirSync(join(parts, 'inner.parquet'), { recursive: true });
    writeFileSync(join(parts, 'a.parquet'), readFileSync(new URL('../../shared/fixtures/hawaiibirds-long-snappy.parquet', import.meta.url)));
    const nested = await readFailure(fromParquet(parts, { layout: 'long' }));
    expect(nested?.code).toBe('UNSUPPORTED');
    expect(nested?.message).toContain('inner.parquet in the Parquet directory is itself a directory');
    expect(nested?.message).not.toContain('EISDIR');
  });
});

describe('the CLI always ends after SIGINT', () => {
  it('a process whose work never finishes still exits (130) a few seconds after SIGINT, and at once after a second one', async () => {
    const dir = tmp();
    // A stand-in for a reader that never finishes: the guard's behaviour, in a process of its own.
    const script = join(dir, 'spin.mts');
    writeFileSync(script, `import { guardExit } from ${JSON.stringify(new URL('../src/cli/exit-guard.ts', import.meta.url).pathname)};
guardExit();
process.on('SIGINT', () => process.stderr.write('stopped cleanly\\n'));
const spin = () => setImmediate(spin);
spin();
process.stderr.write('ready\\n');
`);
    for (const signals of [1, 2]) {
      const child = spawn('node', ['--import', 'tsx', script], { stdio: ['ignore', 'ignore', 'pipe'], cwd: new URL('..', import.meta.url).pathname });
      let stderr = '';
      await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); if (stderr.includes('ready')) resolve(); }));
      const sent = performance.now();
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      if (signals === 2) setTimeout(() => child.kill('SIGINT'), 300); // (two signals sent at once arrive as one)
      const code = await Promise.race([exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 12_000))]);
      if (code === 'running') child.kill('SIGKILL');
      expect(code).toBe(130);
      expect(performance.now() - sent).toBeLessThan(signals === 2 ? 3000 : 10_000);
    }
    // And the CLI on a FIFO ends at once, with one line.
    const fifo = join(dir, 'in.parquet');
    spawnSync('mkfifo', [fifo]);
    const run = spawnSync('node', [...CLI, 'fit', fifo, '--rank', '2'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
