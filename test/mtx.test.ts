/**
 * Matrix Market: readMtx (plain and gzip, any entry order, symmetric / pattern / integer, every
 * error case), fromMtx / loadMtx (lazy, cached, chunked) and writeMtx (exact round trip, atomic).
 */
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError, NmfError, OptionError } from '../src/errors.js';
import type { CscChunk } from '../src/chunk/csc-chunk.js';
import type { CscMatrix } from '../src/source/from-csc.js';
import { fromMtx, loadMtx } from '../src/source/from-mtx.js';
import { readMtx } from '../src/source/read-mtx.js';
import { writeMtx } from '../src/format/write-mtx.js';

const DATA = '/work/shared/data';
let dir = '';
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'nmflow-mtx-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

let fileCount = 0;
async function mtxFile(text: string | Buffer, name = `m${fileCount++}.mtx`): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}
const HEAD = '%%MatrixMarket matrix coordinate real general\n';

/** Column-major dense m×n copy of a CSC matrix. */
function dense(a: CscMatrix): number[] {
  const out = new Array<number>(a.m * a.n).fill(0);
  for (let j = 0; j < a.n; j++) for (let p = a.colPtr[j]!; p < a.colPtr[j + 1]!; p++) out[j * a.m + a.rowIdx[p]!] = a.values[p]!;
  return out;
}

/** A deterministic shuffle (LCG), so a failure reproduces. */
function shuffle<T>(items: T[], seed: number): T[] {
  let s = seed;
  for (let k = items.length - 1; k > 0; k--) {
    s = (s * 48271) % 2147483647;
    const r = s % (k + 1);
    [items[k], items[r]] = [items[r]!, items[k]!];
  }
  return items;
}

async function failure(promise: Promise<unknown>): Promise<NmfError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(NmfError);
  return err as NmfError;
}

describe('readMtx', () => {
  const files = readdirSync(DATA).filter((f) => f.endsWith('.mtx'));
  it.each(files)('reads %s to the rows, cols, nnz, sum and squared norm in its JSON', async (file) => {
    const meta = JSON.parse(readFileSync(join(DATA, file.replace(/\.mtx$/, '.json')), 'utf8')) as
      { rows: number; cols: number; nnz: number; sum: number; frobenius_sq: number };
    const a = await readMtx(join(DATA, file));
    expect([a.m, a.n, a.colPtr[a.n], a.rowIdx.length, a.values.length]).toEqual([meta.rows, meta.cols, meta.nnz, meta.nnz, meta.nnz]);
    let sum = 0, sq = 0;
    for (const v of a.values) { sum += v; sq += v * v; }
    expect(Math.abs(sum - meta.sum) / meta.sum).toBeLessThan(1e-12);
    expect(Math.abs(sq - meta.frobenius_sq) / meta.frobenius_sq).toBeLessThan(1e-12);
  });

  it('mirrors the off-diagonal entries of a symmetric file', async () => {
    const a = await readMtx(await mtxFile('%%MatrixMarket matrix coordinate real symmetric\n3 3 4\n1 1 2\n2 1 3\n3 1 4\n3 2 5\n'));
    expect(dense(a)).toEqual([2, 3, 4, 3, 0, 5, 4, 5, 0]);
    expect(Array.from(a.colPtr)).toEqual([0, 3, 5, 7]);
  });

  it('reads a pattern file with every value 1 and an integer file exactly', async () => {
    const p = await readMtx(await mtxFile('%%MatrixMarket matrix coordinate pattern general\n2 3 3\n1 1\n2 3\n1 2\n'));
    expect(dense(p)).toEqual([1, 0, 1, 0, 0, 1]);
    const i = await readMtx(await mtxFile('%%matrixmarket MATRIX Coordinate INTEGER general\n2 2 2\n2 2 9007199254740991\n1 1 7\n'));
    expect(dense(i)).toEqual([7, 0, 0, 9007199254740991]);
  });

  it('reads a gzip file (told by its magic bytes, whatever its name) to the same arrays as the plain file', async () => {
    const plain = readFileSync(join(DATA, 'pbmc_small.mtx'));
    const a = await readMtx(join(DATA, 'pbmc_small.mtx'));
    expect(await readMtx(await mtxFile(gzipSync(plain), 'pbmc.mtx.gz'))).toEqual(a);
    expect(await readMtx(await mtxFile(gzipSync(plain), 'pbmc-no-suffix.mtx'))).toEqual(a);
  });

  it('gives identical CSC arrays whatever the order of the entries', async () => {
    const lines = readFileSync(join(DATA, 'hawaiibirds.mtx'), 'utf8').trimEnd().split('\n');
    const sorted = await readMtx(join(DATA, 'hawaiibirds.mtx'));
    const shuffled = [...lines.slice(0, 2), ...shuffle(lines.slice(2), 12345)].join('\n');
    expect(await readMtx(await mtxFile(shuffled))).toEqual(sorted);
  });

  it('sums duplicate entries, drops explicit zeros, and skips comments, blank lines and CRLF endings', async () => {
    const text = `${HEAD}% a comment\r\n\r\n3 2 6\r\n2 2 1.5\r\n1 1 0\n%inner comment\n\n  2 2   2.25 \n3 1 1\n3 1 1e-1\n1 2 0.0\n`;
    const a = await readMtx(await mtxFile(text));
    expect(Array.from(a.colPtr)).toEqual([0, 1, 2]);
    expect(Array.from(a.rowIdx)).toEqual([2, 1]);
    expect(Array.from(a.values)).toEqual([1.1, 3.75]);
  });

  it('reads 16–19 digit decimals with any exponent exactly as Number does', async () => {
    const decimal = fc.tuple(fc.bigInt({ min: 10n ** 15n, max: 10n ** 19n - 1n }), fc.integer({ min: 0, max: 19 }), fc.integer({ min: -40, max: 40 }))
      .map(([digits, point, exp]) => {
        const s = digits.toString();
        const at = Math.min(point, s.length - 1);
        return `${s.slice(0, s.length - at)}${at > 0 ? '.' + s.slice(s.length - at) : ''}${exp === 0 ? '' : 'e' + exp}`;
      });
    await fc.assert(fc.asyncProperty(fc.array(decimal, { minLength: 1, maxLength: 300 }), async (texts) => {
      const body = texts.map((t, k) => `${k + 1} 1 ${t}`).join('\n');
      const a = await readMtx(await mtxFile(`${HEAD}${texts.length} 1 ${texts.length}\n${body}\n`));
      expect(Array.from(a.values)).toEqual(texts.map(Number));
    }), { numRuns: 30 });
  });
  it('rounds decimals that fall exactly on (or next to) a tie between doubles as Number does', async () => {
    const texts = ['9007199254740993', '9007199254740995', '90071992547409930e-1', '0.30000000000000004440892098500626',
      '1.00000000000000011102230246251565', '1.0000000000000001110223024625156e0', '4.9406564584124654e-324', '1.7976931348623157e308'];
    const body = texts.map((t, k) => `${k + 1} 1 ${t}`).join('\n');
    const a = await readMtx(await mtxFile(`${HEAD}${texts.length} 1 ${texts.length}\n${body}\n`));
    expect(Array.from(a.values)).toEqual(texts.map(Number));
  });
});

describe('readMtx errors', () => {
  const cases: [string, string, NmfError['code'], number][] = [
    ['an empty file', '', 'MALFORMED_FILE', 1],
    ['a missing banner', '3 3 1\n1 1 1\n', 'MALFORMED_FILE', 1],
    ['a short banner', '%%MatrixMarket matrix coordinate real\n1 1 0\n', 'MALFORMED_FILE', 1],
    ['an unknown field', '%%MatrixMarket matrix coordinate float general\n1 1 0\n', 'MALFORMED_FILE', 1],
    ['the array format', '%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n', 'UNSUPPORTED', 1],
    ['complex values', '%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n', 'UNSUPPORTED', 1],
    ['hermitian symmetry', '%%MatrixMarket matrix coordinate real hermitian\n1 1 0\n', 'UNSUPPORTED', 1],
    ['skew-symmetric symmetry', '%%MatrixMarket matrix coordinate real skew-symmetric\n1 1 0\n', 'UNSUPPORTED', 1],
    ['no size line', `${HEAD}% only a comment\n`, 'MALFORMED_FILE', 2],
    ['a size line with two numbers', `${HEAD}%c\n3 3\n`, 'MALFORMED_FILE', 3],
    ['a non-square symmetric matrix', '%%MatrixMarket matrix coordinate real symmetric\n3 2 0\n', 'MALFORMED_FILE', 2],
    ['a missing value', `${HEAD}3 3 2\n1 1 1\n2 2\n`, 'MALFORMED_FILE', 4],
    ['an extra field', `${HEAD}3 3 2\n1 1 1\n2 2 1 5\n`, 'MALFORMED_FILE', 4],
    ['a non-numeric value', `${HEAD}3 3 2\n1 1 1\n2 2 abc\n`, 'MALFORMED_FILE', 4],
    ['a non-integer index', `${HEAD}3 3 1\n1.5 1 1\n`, 'MALFORMED_FILE', 3],
    ['a non-integer value in an integer file', '%%MatrixMarket matrix coordinate integer general\n3 3 1\n1 1 1.5\n', 'MALFORMED_FILE', 3],
    ['fewer entries than declared', `${HEAD}3 3 3\n1 1 1\n2 2 1\n\n`, 'MALFORMED_FILE', 5],
    ['more entries than declared', `${HEAD}3 3 1\n1 1 1\n2 2 1\n`, 'MALFORMED_FILE', 4],
    ['a row index of 0', `${HEAD}3 3 1\n0 1 1\n`, 'INDEX_OUT_OF_RANGE', 3],
    ['a row index past the rows', `${HEAD}3 4 2\n1 1 1\n4 1 1\n`, 'INDEX_OUT_OF_RANGE', 4],
    ['a column index past the columns', `${HEAD}3 4 1\n1 5 1\n`, 'INDEX_OUT_OF_RANGE', 3],
    ['a negative value', `${HEAD}3 3 1\n1 1 -0.5\n`, 'INVALID_VALUE', 3],
    ['a NaN value', `${HEAD}3 3 1\n1 1 nan\n`, 'INVALID_VALUE', 3],
    ['an infinite value', `${HEAD}3 3 1\n1 1 -Inf\n`, 'INVALID_VALUE', 3],
    ['a value that overflows', `${HEAD}3 3 1\n1 1 1e999\n`, 'INVALID_VALUE', 3],
  ];
  it.each(cases)('rejects %s with a DataError naming the file and line', async (_what, text, code, line) => {
    const path = await mtxFile(text);
    const err = await failure(readMtx(path));
    expect(err).toBeInstanceOf(DataError);
    expect(err.code).toBe(code);
    expect(err.location?.line).toBe(line);
    expect(err.message).toContain(basename(path));
    expect(err.message).toContain(`line ${line}`);
  });

  it('says which index is out of range, the allowed range, and where it is', async () => {
    const err = await failure(readMtx(await mtxFile(`${HEAD}3 4 1\n2 7 1\n`)));
    expect(err.message).toContain('column index 7 is outside the allowed range 1..4');
    expect(err.location).toMatchObject({ line: 3, feature: 1, sample: 6 });
  });

  it('reports a missing file as an IO error with the path and the original error', async () => {
    const err = await failure(readMtx(join(dir, 'nope.mtx')));
    expect(err.code).toBe('IO');
    expect(err.message).toContain(join(dir, 'nope.mtx'));
    expect((err.cause as { code?: string }).code).toBe('ENOENT');
  });

  it('reports corrupt gzip data as a malformed file', async () => {
    const err = await failure(readMtx(await mtxFile(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))));
    expect(err.code).toBe('MALFORMED_FILE');
  });
});

describe('fromMtx and loadMtx', () => {
  it('serves chunks of 7 columns that cover every column with the right colStart', async () => {
    const path = join(DATA, 'pbmc_small.mtx');
    const whole = await readMtx(path);
    const chunks = await lastValueFrom(fromMtx(path, { chunkSize: 7 }).chunks().pipe(toArray()));
    expect(chunks).toHaveLength(Math.ceil(whole.n / 7));
    let nnz = 0;
    chunks.forEach((c: CscChunk, position) => {
      expect([c.colStart, c.position, c.m]).toEqual([7 * position, position, whole.m]);
      for (let j = 0; j < c.n; j++) {
        for (let p = c.colPtr[j]!; p < c.colPtr[j + 1]!; p++, nnz++) {
          expect([c.rowIdx[p], c.values[p]]).toEqual([whole.rowIdx[nnz], whole.values[nnz]]);
        }
      }
    });
    expect(chunks.reduce((s, c) => s + c.n, 0)).toBe(whole.n);
    expect(nnz).toBe(whole.colPtr[whole.n]);
  });

  it('reads the file only when subscribed, and again on every pass from its cache', async () => {
    const path = join(dir, 'later.mtx');
    const source = fromMtx(path, { chunkSize: 2 });
    expect(source.rereadable).toBe(true);
    await writeFile(path, `${HEAD}2 3 2\n1 1 1\n2 3 2\n`);
    const first = await lastValueFrom(source.chunks().pipe(toArray()));
    await rm(path);
    const second = await lastValueFrom(source.chunks().pipe(toArray()));
    expect(second).toEqual(first);
    expect(first.map((c) => c.colStart)).toEqual([0, 2]);
  });

  it('sends read errors to the error channel instead of throwing', async () => {
    const source = fromMtx(await mtxFile(`${HEAD}3 3 1\n1 1 -1\n`));
    const err = await firstValueFrom(source.chunks()).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).code).toBe('INVALID_VALUE');
  });

  it('rejects a bad chunkSize synchronously', () => {
    expect(() => fromMtx('any.mtx', { chunkSize: 0 })).toThrow(OptionError);
  });

  it('loadMtx returns an in-memory source holding the parsed matrix', async () => {
    const path = join(DATA, 'pbmc_small.mtx');
    const source = await loadMtx(path, { chunkSize: 10 });
    expect(source.matrix).toEqual(await readMtx(path));
    expect([source.name, source.features, source.samples]).toEqual([path, 230, 80]);
  });
});

describe('writeMtx', () => {
  const matrix = fc.record({ m: fc.integer({ min: 1, max: 12 }), n: fc.integer({ min: 1, max: 12 }) }).chain(({ m, n }) =>
    fc.array(fc.tuple(fc.integer({ min: 0, max: m - 1 }), fc.integer({ min: 0, max: n - 1 }),
      fc.oneof(fc.double({ min: 0, max: 1e300, noNaN: true, noDefaultInfinity: true }), fc.nat({ max: 1e6 }))), { maxLength: 60 })
      .map((entries) => toCsc(m, n, entries)));

  it('round-trips any nonnegative sparse matrix exactly through readMtx and leaves no temporary file', async () => {
    const out = await mkdtemp(join(dir, 'w-'));
    await fc.assert(fc.asyncProperty(matrix, async (a) => {
      await writeMtx(join(out, 'a.mtx'), a);
      expect(await readMtx(join(out, 'a.mtx'))).toEqual(a);
      expect(await readdir(out)).toEqual(['a.mtx']);
    }), { numRuns: 60 });
  });

  it.each(readdirSync(DATA).filter((f) => f.endsWith('.mtx')))('writes %s back byte for byte (the %.17g format of the shared data)', async (file) => {
    const out = join(dir, `copy-${file}`);
    await writeMtx(out, await readMtx(join(DATA, file)));
    expect(await readFile(out, 'utf8')).toBe(readFileSync(join(DATA, file), 'utf8'));
  });

  it('removes its temporary file and reports IO when the rename fails', async () => {
    const out = await mkdtemp(join(dir, 'fail-'));
    await mkdir(join(out, 'taken.mtx'));
    await writeFile(join(out, 'taken.mtx', 'inside'), '');
    const err = await failure(writeMtx(join(out, 'taken.mtx'), toCsc(1, 1, [[0, 0, 1]])));
    expect(err.code).toBe('IO');
    expect(await readdir(out)).toEqual(['taken.mtx']);
  });

  it('refuses a matrix that readMtx would reject', async () => {
    const err = await failure(writeMtx(join(dir, 'neg.mtx'), toCsc(1, 1, [[0, 0, -1]])));
    expect(err.code).toBe('INVALID_VALUE');
  });
});

/** Reference COO → CSC: sum duplicates, drop zeros, rows ascending. */
function toCsc(m: number, n: number, entries: [number, number, number][]): CscMatrix {
  const cells = new Map<number, number>();
  for (const [i, j, v] of entries) cells.set(j * m + i, (cells.get(j * m + i) ?? 0) + v);
  const keys = [...cells.keys()].filter((k) => cells.get(k)! !== 0).sort((x, y) => x - y);
  const colPtr = new Int32Array(n + 1);
  for (const k of keys) colPtr[Math.floor(k / m) + 1]!++;
  for (let j = 0; j < n; j++) colPtr[j + 1]! += colPtr[j]!;
  return { m, n, colPtr, rowIdx: Int32Array.from(keys, (k) => k % m), values: Float64Array.from(keys, (k) => cells.get(k)!) };
}
