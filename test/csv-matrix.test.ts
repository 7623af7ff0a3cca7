/**
 * readCsvMatrix: dense starting factors from CSV — the happy path, and every error naming the
 * file, the 1-based line and the 1-based column.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError, NmfError } from '../src/errors.js';
import { readCsvMatrix, type CsvMatrixExpectation } from '../src/source/read-csv-matrix.js';

let dir = '';
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'nmflow-csv-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

let fileCount = 0;
async function csvFile(text: string): Promise<string> {
  const path = join(dir, `f${fileCount++}.csv`);
  await writeFile(path, text);
  return path;
}

describe('readCsvMatrix', () => {
  it('reads rows of comma-separated numbers into a row-major array', async () => {
    const path = await csvFile('\uFEFF1, 2.5 ,3e-2\r\n 0,-0 , 1E3\r\n\r\n\n');
    const out = await readCsvMatrix(path, { rows: 2, cols: 3 });
    expect([out.rows, out.cols]).toEqual([2, 3]);
    expect(Array.from(out.data)).toEqual([1, 2.5, 0.03, 0, 0, 1000]);
    expect(Object.is(out.data[4], -0)).toBe(false);
  });

  it('works out the shape when none is expected, and reads a file without a final newline', async () => {
    const out = await readCsvMatrix(await csvFile('1\n2\n3'));
    expect([out.rows, out.cols, Array.from(out.data)]).toEqual([3, 1, [1, 2, 3]]);
  });

  it('reads a larger matrix exactly', async () => {
    const rows = 300, cols = 7;
    const values = Array.from({ length: rows * cols }, (_, k) => (k * 0.37) % 5 + 1 / (k + 1));
    const text = Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols).join(',')).join('\n');
    const out = await readCsvMatrix(await csvFile(text), { rows, cols });
    expect(Array.from(out.data)).toEqual(values);
  });

  const cases: [string, string, CsvMatrixExpectation, NmfError['code'], number, number | undefined, string][] = [
    ['text that is not a number', '1,2\n3,abc\n', {}, 'MALFORMED_FILE', 2, 2, '"abc" is not a number'],
    ['a header line', 'a,b\n1,2\n', {}, 'MALFORMED_FILE', 1, 1, 'header'],
    ['an empty field', '1,,2\n', {}, 'MALFORMED_FILE', 1, 2, 'empty field'],
    ['a negative number', '1,2\n3,-4\n', {}, 'INVALID_VALUE', 2, 2, 'negative'],
    ['NaN', '1,NaN\n', {}, 'INVALID_VALUE', 1, 2, 'not a finite number'],
    ['infinity', '1,2\n-Infinity,2\n', {}, 'INVALID_VALUE', 2, 1, 'not a finite number'],
    ['a number that overflows', '1e400,2\n', {}, 'INVALID_VALUE', 1, 1, 'Infinity'],
    ['a ragged row', '1,2,3\n4,5\n', {}, 'MALFORMED_FILE', 2, 3, 'ragged row: 2 fields where line 1 has 3'],
    ['a blank line between rows', '1,2\n\n3,4\n', {}, 'MALFORMED_FILE', 2, undefined, 'blank line'],
    ['too few columns for the expected shape', '1,2\n3,4\n', { cols: 3 }, 'SHAPE_MISMATCH', 1, 3, 'expected 3 numbers per line, found 2'],
    ['too many rows for the expected shape', '1\n2\n3\n', { rows: 2 }, 'SHAPE_MISMATCH', 3, undefined, 'expected 2 rows'],
    ['too few rows for the expected shape', '1\n2\n', { rows: 3, cols: 1 }, 'SHAPE_MISMATCH', 2, undefined, 'expected 3 rows, found 2'],
    ['an empty file', '\n\n', {}, 'EMPTY_INPUT', 1, undefined, 'no rows'],
  ];
  it.each(cases)('rejects %s with a DataError saying where and what', async (_what, text, expected, code, line, column, found) => {
    const path = await csvFile(text);
    const err = await readCsvMatrix(path, expected).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    const data = err as DataError;
    expect(data.code).toBe(code);
    expect(data.location).toMatchObject({ line, ...(column === undefined ? {} : { column }) });
    expect(data.message).toContain(basename(path));
    expect(data.message).toContain(`line ${line}`);
    if (column !== undefined) expect(data.message).toContain(`column ${column}`);
    expect(data.message).toContain(found);
  });

  it('names the given source instead of the path when asked', async () => {
    const err = await readCsvMatrix(await csvFile('x\n'), { name: 'W0 (--init-w)' }).then(() => undefined, (e: unknown) => e);
    expect((err as DataError).message).toContain('source W0 (--init-w)');
  });

  it('reports a missing file as an IO error with the original error as cause', async () => {
    const err = await readCsvMatrix(join(dir, 'missing.csv')).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(NmfError);
    expect((err as NmfError).code).toBe('IO');
    expect((err as NmfError).message).toContain('missing.csv');
    expect(((err as NmfError).cause as { code?: string }).code).toBe('ENOENT');
  });
});
