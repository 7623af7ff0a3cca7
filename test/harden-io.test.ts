/**
 * Issue #13, readers and writers: short writes and full disks, temporaries of dead processes, damaged
 * checkpoint headers, operating-system errors in words.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeStaleTemporaries, writeAll, writeFileAtomic, type WritableHandle } from '../src/io/atomic-write.js';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../src/io/checkpoint.js';
import { makeFeatureMajorStore } from '../src/io/feature-major.js';
import { readModel, writeModel } from '../src/io/model-file.js';
import type { Snapshot } from '../src/snapshot/snapshot.js';
import { FlatBuffer } from '../src/source/flatbuffer-check.js';
import { CLI, nmflow } from './helpers/cli.js';
import { failure } from './helpers/failure.js';
import { SHARED_DATA } from './helpers/load-mtx-sync.js';
import { CHECKPOINT_HEADER_AT, writeResealed } from './helpers/reseal-checkpoint.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'nmflow-harden-'));
/** The pid of a process that has ended (pids are not reused at once). */
const deadPid = (): number => spawnSync('true').pid!;
const checkpoint: Checkpoint = {
  fingerprint: { rank: 2 }, sourceName: 'test', trace: [],
  state: { loss: 'l2', numbers: { iteration: 1 }, arrays: { W: Float64Array.from([1, 2, 3, 4]) } },
};

/** A small model, as writeModel needs it. */
const model = {
  loss: 'l2', rank: 2, features: 3, samples: 4, iteration: 1, relativeLoss: 0.5, objective: 0.5, trace: [],
  W: Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.6, 0.4]), d: Float64Array.from([2, 1]), featureNames: ['a', 'b', 'c'],
} as unknown as Snapshot;
/** Library words that must not be all a message says. */
const LIBRARY_WORDS = /unreachable|Parquet error|RuntimeError|Cannot read properties|is not a function|undefined|panicked|Unexpected token|JSON at position/;

describe('short writes', () => {
  it('writeAll continues after a short write and fails when the device accepts nothing (a seam: a handle that stops short)', async () => {
    const taken: number[] = [];
    const handle = (budget: number): WritableHandle => ({
      write: (async (bytes: Uint8Array, offset: number, length: number) => {
        const n = Math.min(length, 3, budget);
        budget -= n;
        taken.push(...bytes.subarray(offset, offset + n));
        return { bytesWritten: n, buffer: bytes };
      }) as WritableHandle['write'],
    });
    await writeAll(handle(100), Uint8Array.from({ length: 10 }, (_, i) => i));
    expect(taken).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await expect(writeAll(handle(4), new Uint8Array(10))).rejects.toMatchObject({ code: 'ESHORTWRITE' });
  });
});

/**
 * A real full disk: a 64 KiB tmpfs, which needs root (`mount -t tmpfs`). Where it cannot be mounted the
 * test is skipped and says so; the seam above (a handle that stops short) still runs.
 */
const tinyDisk = ((): string | undefined => {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'nmflow-full-'));
  return spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status === 0 ? dir : undefined;
})();
afterAll(() => { if (tinyDisk) spawnSync('umount', [tinyDisk]); });
if (!tinyDisk) console.warn('harden-io: no 64 KiB tmpfs (not root, or mount refused): the full-disk test is skipped');

describe('a full disk', () => {
  it.skipIf(!tinyDisk)('convert (Parquet, Arrow, .mtx), project and fit --out-h (Parquet, CSV) to a full disk fail (exit 1, ENOSPC) and leave the previous file and no temporary', async () => {
    const disk = tinyDisk!;
    const birds = `${SHARED_DATA}hawaiibirds.mtx`;
    const modelPath = join(tmp(), 'model30.arrow');
    const W = Float64Array.from({ length: 183 * 30 }, (_, i) => 0.01 + ((i * 7919) % 97) / 97);
    await writeModel(modelPath, { ...model, rank: 30, features: 183, W, d: new Float64Array(30).fill(1), featureNames: undefined } as unknown as Snapshot);
    const runs = [
      ['convert', birds, join(disk, 'long.parquet')],
      ['convert', birds, join(disk, 'wide.arrow'), '--out-layout', 'wide'],
      ['convert', birds, join(disk, 'copy.mtx')],
      ['project', modelPath, birds, '--out', join(disk, 'codes.parquet')],
      ['fit', birds, '--rank', '10', '--max-iterations', '1', '--out-h', join(disk, 'H.parquet')],
      ['fit', birds, '--rank', '10', '--max-iterations', '1', '--out-h', join(disk, 'H.csv')],
    ];
    for (const run of runs) writeFileSync(run.find((a) => a.startsWith(disk))!, 'previous');
    const results = await Promise.all(runs.map((args) => nmflow(...args)));
    results.forEach(({ code, stderr }, r) => {
      expect(code, runs[r]!.join(' ')).toBe(1);
      expect(stderr).toMatch(/could not write .*: no space left on the device \[ENOSPC\]/);
    });
    for (const run of runs) expect(readFileSync(run.find((a) => a.startsWith(disk))!, 'utf8')).toBe('previous');
    expect(readdirSync(disk).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('temporary files of dead processes', () => {
  it('writeFileAtomic removes <path>.tmp-<pid>-<n> of dead processes and keeps those of live ones', async () => {
    const dir = tmp();
    const out = join(dir, 'out.parquet');
    const dead = deadPid();
    writeFileSync(join(dir, `out.parquet.tmp-${dead}-3`), 'half');
    writeFileSync(join(dir, `out.parquet.tmp-${dead}`), 'half');
    writeFileSync(join(dir, 'out.parquet.tmp-1-1'), 'pid 1 is alive'); // init
    writeFileSync(join(dir, `other.parquet.tmp-${dead}-1`), 'another path');
    await writeFileAtomic(out, 'data');
    expect(readdirSync(dir).sort()).toEqual(['other.parquet.tmp-' + dead + '-1', 'out.parquet', 'out.parquet.tmp-1-1']);
    expect(readFileSync(out, 'utf8')).toBe('data');
    await removeStaleTemporaries(join(dir, 'other.parquet'));
    expect(readdirSync(dir).sort()).toEqual(['out.parquet', 'out.parquet.tmp-1-1']);
  });

  it('convert killed by SIGKILL while writing leaves out.parquet.tmp-<pid>-<n>; the next convert to the same path removes it', async () => {
    const dir = tmp();
    const out = join(dir, 'out.parquet');
    const child = spawn('node', [...CLI, 'convert', `${SHARED_DATA}movielens.mtx`, out, '--chunk-size', '16'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    let left: string[] = [];
    for (let waited = 0; waited < 60_000 && left.length === 0; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      left = readdirSync(dir).filter((f) => f.startsWith('out.parquet.tmp-'));
    }
    child.kill('SIGKILL');
    await exited;
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(new RegExp(`^out\\.parquet\\.tmp-${child.pid}-\\d+$`));
    expect(existsSync(out)).toBe(false);
    const again = await nmflow('convert', `${SHARED_DATA}pbmc_small.mtx`, out);
    expect(again.code).toBe(0);
    expect(readdirSync(dir)).toEqual(['out.parquet']);
  });

  it('writeCheckpoint removes checkpoint.nmf.tmp-<pid> of a dead process', () => {
    const dir = tmp();
    const stale = join(dir, `checkpoint.nmf.tmp-${deadPid()}`);
    writeFileSync(stale, 'half a checkpoint');
    writeCheckpoint(dir, checkpoint);
    expect(existsSync(stale)).toBe(false);
    expect(readdirSync(dir)).toEqual(['checkpoint.nmf']);
    expect(Array.from(readCheckpoint(dir).state.arrays.W!)).toEqual([1, 2, 3, 4]);
  });

  it('the out-of-core copy is one folder nmflow-rows-<pid>-* per fit; copies of dead processes in the same tempDir are removed', () => {
    const parent = tmp();
    const stale = join(parent, `nmflow-rows-${deadPid()}-AbC123`);
    mkdirSync(stale);
    writeFileSync(join(stale, 'rows-0.arrows'), 'half a copy');
    mkdirSync(join(parent, 'nmflow-rows-1-live00')); // pid 1 is running
    const store = makeFeatureMajorStore(10, { dir: parent, bucketRows: 4 });
    expect(existsSync(stale)).toBe(false);
    expect(store.dir.startsWith(join(parent, `nmflow-rows-${process.pid}-`))).toBe(true);
    expect(readdirSync(parent).sort()).toEqual(['nmflow-rows-1-live00', store.dir.slice(parent.length + 1)].sort());
    store.close();
    expect(readdirSync(parent)).toEqual(['nmflow-rows-1-live00']);
  });
});

describe('damaged checkpoints and OS errors in words', () => {
  it('a tempDir that does not exist is an IO error naming it, in words', async () => {
    const missing = join(tmp(), 'no', 'such');
    const error = await failure(() => makeFeatureMajorStore(10, { dir: missing }));
    expect(error.code).toBe('IO');
    expect(error.message).toContain(`could not create the out-of-core copy (tempDir) in ${missing}: no such file or directory [ENOENT]`);
  });

  it('a checkpoint whose JSON header is damaged is MALFORMED_FILE naming the file, the parse error kept as cause', async () => {
    const dir = tmp();
    writeCheckpoint(dir, checkpoint);
    const path = join(dir, 'checkpoint.nmf');
    const bytes = readFileSync(path);
    bytes[CHECKPOINT_HEADER_AT] = 0x78; // 'x' for the header's opening brace
    writeResealed(path, bytes);
    const error = await failure(() => readCheckpoint(dir));
    expect(error.code).toBe('MALFORMED_FILE');
    expect(error.message).toContain('checkpoint header is damaged');
    expect(error.location?.source).toBe(path);
    expect(error.cause).toBeInstanceOf(SyntaxError);
    // A header length past the end of the file, and a layout entry that is not [offset, length]:
    bytes.writeUInt32LE(1e6, 40);
    writeResealed(path, bytes);
    expect((await failure(() => readCheckpoint(dir))).message).toContain('truncated or damaged');
    writeCheckpoint(dir, checkpoint);
    const text = readFileSync(path, 'latin1').replace('"W":[0,4]', '"W":[0.5]');
    writeResealed(path, Buffer.from(text, 'latin1'));
    expect((await failure(() => readCheckpoint(dir))).message).toContain('array W has no valid [offset, length]');
  });

  it('the CLI says so in one line: a --checkpoint that is a file, a --resume that holds no checkpoint', async () => {
    const dir = tmp();
    const file = join(dir, 'ckpt');
    writeFileSync(file, 'a file');
    const birds = `${SHARED_DATA}hawaiibirds.mtx`;
    const [a, b] = await Promise.all([
      nmflow('fit', birds, '--rank', '3', '--max-iterations', '2', '--checkpoint', file),
      nmflow('fit', birds, '--rank', '3', '--max-iterations', '2', '--resume', dir),
    ]);
    expect(a.code).toBe(1);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/^nmflow: could not write checkpoint .*ckpt.checkpoint\.nmf: a file of that name is in the way \[EEXIST\]/);
    expect(a.stderr).not.toContain('fit failed');
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/^nmflow: could not read checkpoint .*checkpoint\.nmf: no such file or directory \[ENOENT\]/);
  });

  it('a checkpoint directory that is a file is an IO error in words, not a bare EEXIST', async () => {
    const dir = tmp();
    const file = join(dir, 'ckpt');
    writeFileSync(file, 'a file');
    const error = await failure(() => writeCheckpoint(file, checkpoint));
    expect(error.code).toBe('IO');
    expect(error.message).toMatch(/could not write checkpoint .*ckpt.*: a file of that name is in the way \[EEXIST\]/);
  });
});

describe('damaged model files', () => {
  it('an .arrow model whose footer places its batch outside the file is MALFORMED_FILE (apache-arrow read it as a model of 0 features)', async () => {
    const path = join(tmp(), 'model.arrow');
    await writeModel(path, model);
    const bytes = readFileSync(path);
    const length = bytes.readInt32LE(bytes.length - 10);
    const start = bytes.length - 10 - length;
    const fb = new FlatBuffer(bytes.subarray(start, start + length), 1e6);
    const blocks = fb.vector(fb.root('footer'), 3, 24, 'blocks');
    bytes.writeBigInt64LE(2n ** 40n, start + blocks.start); // the offset of batch 0
    writeFileSync(path, bytes);
    const started = performance.now();
    const error = await failure(() => readModel(path));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(error.code).toBe('MALFORMED_FILE');
    expect(error.message).toContain('the footer places record batch 0 outside the file');
  });

  for (const ext of ['parquet', 'arrow'] as const) {
    it(`a truncated or overwritten .${ext} model is MALFORMED_FILE in words, the decoder's message only in the cause`, async () => {
      const dir = tmp();
      const path = join(dir, `model.${ext}`);
      await writeModel(path, model);
      const good = readFileSync(path);
      expect(Array.from((await readModel(path)).W)).toEqual(Array.from(model.W));
      const damaged = [good.subarray(0, good.length - 9), good.subarray(0, good.length >> 1),
        Buffer.concat([good.subarray(0, 64), Buffer.alloc(good.length - 128, 0xff), good.subarray(good.length - 64)])];
      for (const bytes of damaged) {
        writeFileSync(path, bytes);
        const error = await failure(() => readModel(path));
        expect(['MALFORMED_FILE', 'SCHEMA_MISMATCH']).toContain(error.code);
        expect(error.location?.source).toBe(path);
        expect(error.message).not.toMatch(LIBRARY_WORDS);
      }
    });
  }
});
