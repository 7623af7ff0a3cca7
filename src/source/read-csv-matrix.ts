/**
 * readCsvMatrix: a small dense matrix from a CSV file (no header, one line per row, numbers
 * separated by commas, spaces around them allowed, trailing blank lines ignored) → row-major
 * Float64Array. Used for starting factors (`--init-w W0.csv`: m lines of k numbers,
 * `--init-h H0.csv`: k lines of n numbers), so every value must be finite and ≥ 0.
 *
 * The file is read line by line through a stream. Errors are DataErrors naming the file, the
 * 1-based line and the 1-based column (field), and saying what was found: 'MALFORMED_FILE' (not a
 * number, ragged row, blank line between rows), 'INVALID_VALUE' (negative, NaN, ±Inf),
 * 'SHAPE_MISMATCH' (rows or columns differ from `expected`), 'EMPTY_INPUT' (no rows).
 * A file that cannot be opened gives an NmfError 'IO' with the original error as `cause`.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { DataError, NmfError, type NmfErrorCode } from '../errors.js';

export interface CsvMatrixExpectation {
  /** Required number of rows (lines). */
  readonly rows?: number | undefined;
  /** Required number of columns (fields per line). */
  readonly cols?: number | undefined;
  /** Name used in error messages (default: the path). */
  readonly name?: string | undefined;
}

export interface DenseMatrix {
  readonly rows: number;
  readonly cols: number;
  /** rows × cols, row-major: entry (r, c) is data[r * cols + c]. */
  readonly data: Float64Array;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

/** A dense matrix from a CSV of numbers (one row a line), checked against the expected shape (start files: --init-w, --init-h). */
export async function readCsvMatrix(path: string, expected: CsvMatrixExpectation = {}): Promise<DenseMatrix> {
  const source = expected.name ?? path;
  const fail = (code: NmfErrorCode, message: string, line: number, column?: number): never => {
    throw new DataError(code, message, column === undefined ? { source, line } : { source, line, column });
  };
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let cols = -1;
  let rows = 0;
  let line = 0;
  let blankAt = 0;
  let data = new Float64Array(expected.rows !== undefined && expected.cols !== undefined ? expected.rows * expected.cols : 64);
  try {
    for await (const raw of lines) {
      line++;
      const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (text.trim() === '') { blankAt ||= line; continue; }
      if (blankAt > 0) fail('MALFORMED_FILE', 'blank line between rows (only trailing blank lines are allowed)', blankAt);
      const fields = text.split(',');
      if (cols < 0) {
        cols = fields.length;
        if (expected.cols !== undefined && cols !== expected.cols) {
          fail('SHAPE_MISMATCH', `expected ${expected.cols} numbers per line, found ${cols}`, line, Math.min(cols, expected.cols) + 1);
        }
      } else if (fields.length !== cols) {
        fail('MALFORMED_FILE', `ragged row: ${fields.length} fields where line 1 has ${cols}`, line, Math.min(cols, fields.length) + 1);
      }
      if (expected.rows !== undefined && rows === expected.rows) {
        fail('SHAPE_MISMATCH', `expected ${expected.rows} rows, found more`, line);
      }
      if ((rows + 1) * cols > data.length) {
        const grown = new Float64Array(Math.max(2 * data.length, (rows + 1) * cols));
        grown.set(data);
        data = grown;
      }
      for (let c = 0; c < cols; c++) data[rows * cols + c] = toValue(fields[c]!.trim(), line, c + 1);
      rows++;
    }
  } catch (err) {
    if (err instanceof NmfError) throw err;
    throw new NmfError('IO', `cannot read ${path}: ${(err as Error).message}`, { location: { source }, cause: err });
  } finally {
    lines.close();
    stream.destroy();
  }
  if (rows === 0) fail('EMPTY_INPUT', 'file has no rows', 1);
  if (expected.rows !== undefined && rows !== expected.rows) {
    fail('SHAPE_MISMATCH', `expected ${expected.rows} rows, found ${rows}`, line);
  }
  return { rows, cols, data: data.length === rows * cols ? data : data.slice(0, rows * cols) };

  function toValue(field: string, at: number, column: number): number {
    if (NON_FINITE.test(field)) fail('INVALID_VALUE', `"${field}" is not a finite number`, at, column);
    if (!NUMBER.test(field)) {
      const hint = at === 1 ? ' (the file must not have a header line)' : '';
      fail('MALFORMED_FILE', field === '' ? `empty field${hint}` : `"${field}" is not a number${hint}`, at, column);
    }
    const v = Number(field);
    if (v < 0) fail('INVALID_VALUE', `${field} is negative; starting factors must be ≥ 0`, at, column);
    if (v === Infinity) fail('INVALID_VALUE', `${field} overflows to Infinity`, at, column);
    return v === 0 ? 0 : v;
  }
}
