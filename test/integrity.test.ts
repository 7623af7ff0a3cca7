/**
 * Issue #13, data identity and checkpoint integrity: a checkpoint's checksum and values are verified before
 * it is resumed; the data's fingerprint is recorded by the first pass and checked by every later one, and
 * by a fit resumed from a checkpoint.
 */
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Observable, map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import { toBatches } from '../src/cli/convert-command.js';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../src/io/checkpoint.js';
import { openTableWriter } from '../src/io/write-table.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fromArrow } from '../src/source/from-arrow.js';
import { fromCsc, splitColumns, type CscMatrix } from '../src/source/from-csc.js';
import type { MatrixSource } from '../src/source/matrix-source.js';
import { failure } from './helpers/failure.js';
import { loadSharedMtx } from './helpers/load-mtx-sync.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'nmflow-integrity-'));
const birds = (): CscMatrix => loadSharedMtx('hawaiibirds');
/** The same matrix with value `at` multiplied by `factor` (same shape, same nonzeros). */
const altered = (A: CscMatrix, at: number, factor: number): CscMatrix => {
  const values = A.values.slice();
  values[at]! *= factor;
  return { ...A, values };
};
const options = { rank: 3, seed: 4, tol: 0, threads: 1 } as const;

describe('checkpoint integrity', () => {
  const written = async (): Promise<string> => {
    const dir = tmp();
    await fitModel(fromCsc(birds(), { chunkSize: 400 }), { ...options, maxIterations: 2, checkpoint: { dir } });
    return dir;
  };

  it('a checkpoint with one flipped bit anywhere, or cut short, is CHECKSUM_MISMATCH naming the file', async () => {
    const dir = await written();
    const path = join(dir, 'checkpoint.nmf');
    const good = readFileSync(path);
    expect(readCheckpoint(dir).state.arrays.W).toBeDefined();
    // in the checksum, the header length, the JSON header, W, and the last byte of the data fingerprint
    for (const at of [9, 41, 60, good.length - 8 * 200, good.length - 1]) {
      const bytes = Buffer.from(good);
      bytes[at]! ^= 0x04;
      writeFileSync(path, bytes);
      const error = await failure(() => readCheckpoint(dir));
      expect(error.code).toBe('CHECKSUM_MISMATCH');
      expect(error.location?.source).toBe(path);
      expect(error.message).toContain('the checkpoint is damaged: the SHA-256');
    }
    writeFileSync(path, good.subarray(0, good.length - 8));
    expect((await failure(() => readCheckpoint(dir))).code).toBe('CHECKSUM_MISMATCH');
  });

  it('a checkpoint whose checksum holds but whose values cannot be resumed is INVALID_VALUE saying which', async () => {
    const dir = tmp();
    const base: Checkpoint = {
      fingerprint: { rank: 2 }, sourceName: 'test', trace: [{ iteration: 1, relativeLoss: 0.5, objective: 0.5, tol: 1, seconds: 0 }],
      state: { loss: 'l2', numbers: { iteration: 1 }, arrays: { W: Float64Array.from([1, 2, 3, 4]) } },
    };
    const cases: [Checkpoint, string][] = [
      [{ ...base, state: { ...base.state, arrays: { W: Float64Array.from([1, 2, NaN, 4]) } } }, 'W[feature 1, factor 0] is NaN'],
      [{ ...base, state: { ...base.state, arrays: { W: Float64Array.from([1, -2, 3, 4]) } } }, 'W[feature 0, factor 1] is -2'],
      [{ ...base, state: { ...base.state, arrays: { B: Float64Array.from([Infinity]) } } }, 'B[entry 0] is Infinity'],
      [{ ...base, state: { ...base.state, numbers: { iteration: -1 } } }, 'counter iteration is -1'],
      [{ ...base, state: { ...base.state, numbers: { iteration: 1e15 } } }, 'counter iteration is 1000000000000000'],
      [{ ...base, state: { ...base.state, numbers: { iteration: 1, samples: 0.5 } } }, 'counter samples is 0.5'],
      [{ ...base, trace: [{ ...base.trace[0]!, iteration: 2.5 }] }, 'trace entry 0 has iteration 2.5'],
    ];
    for (const [checkpoint, message] of cases) {
      writeCheckpoint(dir, checkpoint);
      const error = await failure(() => readCheckpoint(dir));
      expect(error.code).toBe('INVALID_VALUE');
      expect(error.message).toContain(message);
      expect(error.location?.source).toBe(join(dir, 'checkpoint.nmf'));
    }
  });

  it('a checkpoint of format 1 (no checksum) is refused with UNSUPPORTED, saying it cannot be verified', async () => {
    const dir = await written();
    const path = join(dir, 'checkpoint.nmf');
    const bytes = readFileSync(path);
    bytes.write('NMFCKPT1', 0, 'latin1');
    writeFileSync(path, bytes);
    const error = await failure(() => fitModel(fromCsc(birds()), { ...options, maxIterations: 3, resumeFrom: dir }));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toContain('format 1, without a checksum');
  });
});

/** A source of A that delivers `later` from its pass `from` on (pass 1 = the first subscription). */
function changingSource(A: CscMatrix, later: (chunk: CscChunk) => CscChunk, from: number, chunkSize: number): MatrixSource {
  let passes = 0;
  return {
    name: 'changing', rereadable: true, features: A.m, samples: A.n,
    chunks: () => new Observable<CscChunk>((subscriber) => {
      passes += 1;
      const pass = passes;
      return fromCsc(A, { chunkSize }).chunks().pipe(map((chunk) => (pass >= from ? later(chunk) : chunk))).subscribe(subscriber);
    }),
  };
}
/** Chunk 1 with its first two samples swapped: the same values, counts and sums, in other samples. */
const swapFirstTwo = (chunk: CscChunk): CscChunk => {
  if (chunk.position !== 1) return chunk;
  const { colPtr, rowIdx, values } = chunk;
  const first = colPtr[1]!, second = colPtr[2]!;
  const order = [...Array.from({ length: second - first }, (_, q) => first + q), ...Array.from({ length: first }, (_, q) => q)];
  const rest = Array.from({ length: colPtr[chunk.n]! - second }, (_, q) => second + q);
  const all = [...order, ...rest];
  const ptr = colPtr.slice();
  ptr[1] = second - first;
  return { ...chunk, colPtr: ptr, rowIdx: Int32Array.from(all, (p) => rowIdx[p]!), values: Float64Array.from(all, (p) => values[p]!) };
};

describe('data identity', () => {
  it('the fingerprint is on the model, the same for any chunking, and counts every nonzero and ‖A‖²', async () => {
    const A = birds();
    const [a, b] = [await fitModel(fromCsc(A, { chunkSize: 100 }), { ...options, maxIterations: 2 }), await fitModel(fromCsc(A, { chunkSize: 333 }), { ...options, maxIterations: 2 })];
    let squares = 0;
    for (const v of A.values) squares += v * v;
    expect(a.data).toEqual(b.data);
    expect(a.data).toMatchObject({ features: A.m, samples: A.n, nonzeros: A.colPtr[A.n] });
    expect(Math.abs(a.data!.sumSquares - squares) / squares).toBeLessThan(1e-12); // summed in another order
  });

  for (const init of ['random', 'nndsvd'] as const) {
    it(`a source whose later pass delivers other samples fails with DATA_CHANGED naming the pass, chunk and quantity (init ${init})`, async () => {
      const A = birds();
      const source = changingSource(A, swapFirstTwo, 2, 100);
      const error = await failure(() => fitModel(source, { ...options, maxIterations: 3, init }));
      expect(error.code).toBe('DATA_CHANGED');
      expect(error.message).toMatch(/^the data changed between passes: in pass 2, chunk 1 \(samples 100–199\), the sample-weighted sum .* up to sample 199 is \S+ where pass 1 read \S+/);
      expect(error.location).toMatchObject({ source: 'changing', batch: 1, sample: 100 });
      // Other values in the last chunk: found at that chunk, on the third pass.
      const last = changingSource(A, (c) => (c.position === 11 ? { ...c, values: c.values.map((v) => v * 2) } : c), 3, 100);
      expect((await failure(() => fitModel(last, { ...options, maxIterations: 3, init }))).message).toMatch(/in pass 3, chunk 11 \(samples 1100–1182\), the sum of the values up to sample 1182/);
    });
  }

  it('an input file replaced by another of the same shape between passes fails with DATA_CHANGED', async () => {
    const A = birds();
    const dir = tmp();
    const file = join(dir, 'birds.arrow'), replacement = join(dir, 'other.arrow');
    const write = async (path: string, matrix: CscMatrix): Promise<void> => {
      const writer = await openTableWriter(path);
      for (const chunk of splitColumns(matrix, 200)) for (const batch of toBatches(chunk, 'long', matrix.m, matrix.n, undefined)) await writer.write(batch);
      await writer.close();
    };
    await write(file, A);
    await write(replacement, altered(A, A.colPtr[700]! + 1, 3));
    // After iteration 1, before the next pass opens the file: replaced at once (a rename), as a tool that rewrites it would.
    const error = await failure(() => fitModel(fromArrow(file, { layout: 'long' }), {
      ...options, maxIterations: 4, onIteration: (point) => { if (point.iteration === 1) renameSync(replacement, file); },
    }));
    expect(error.code).toBe('DATA_CHANGED');
    expect(error.message).toMatch(/^the data changed between passes: in pass 2, chunk \d+ \(samples \d+–\d+\), the sum of the values up to sample \d+ is/);
    expect(error.location?.source).toBe(file);
  });

  it('resuming with other data of the same shape fails with DATA_CHANGED saying the checkpoint was made from other data; other chunking is fine', async () => {
    const A = birds();
    const dir = tmp();
    await fitModel(fromCsc(A, { chunkSize: 300 }), { ...options, maxIterations: 2, checkpoint: { dir } });
    const other = altered(A, A.colPtr[1000]!, 0.5);
    const error = await failure(() => fitModel(fromCsc(other, { chunkSize: 300 }), { ...options, maxIterations: 4, resumeFrom: dir }));
    expect(error.code).toBe('DATA_CHANGED');
    expect(error.message).toMatch(new RegExp(`^the data are not those the checkpoint was made from: in pass 1, chunk 3 \\(samples 900–1182\\), the sum of the values up to sample 1182 is \\S+ where the run that wrote the checkpoint in ${dir} read`));
    const resumed = await fitModel(fromCsc(A, { chunkSize: 250 }), { ...options, maxIterations: 4, resumeFrom: dir });
    expect(resumed.trace.map((t) => t.iteration)).toEqual([1, 2, 3, 4]);
  });
});
