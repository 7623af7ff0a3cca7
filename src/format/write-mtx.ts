/**
 * writeMtx: a CscMatrix → a Matrix Market `coordinate real general` file, 1-based, column-major
 * order. Values are printed with 17 significant digits (trailing zeros dropped, like `%.17g`), so
 * every double reads back exactly; integers are printed as integers. The file is written to
 * `<path>.tmp-<pid>-<random>` (every write checked for its full length, fsynced), renamed into place and
 * the directory fsynced, so readers never see half a file and a full disk is an error; the temporary
 * file is removed on error, and those of dead processes when the path is next written. The matrix is validated first (readMtx must accept the result).
 * Stored zeros are written as they are; readMtx drops them, so only matrices without stored zeros
 * (everything readMtx returns) round-trip to identical arrays.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { checkChunk } from '../chunk/check-chunk.js';
import { makeCscChunk } from '../chunk/csc-chunk.js';
import { removeStaleTemporaries, syncDirectory, writeAll } from '../io/atomic-write.js';
import { ioError } from '../io/io-error.js';
import type { CscMatrix } from '../source/from-csc.js';

const LINES_PER_WRITE = 1 << 16;

/** Writes a CSC matrix as a Matrix Market `coordinate real general` file (1-based, exact doubles), atomically. */
export async function writeMtx(path: string, matrix: CscMatrix): Promise<void> {
  checkChunk(makeCscChunk({ ...matrix, colStart: 0 }), `matrix for ${path}`);
  const { m, n, colPtr, rowIdx, values } = matrix;
  const nnz = colPtr[n] ?? 0;
  await removeStaleTemporaries(path);
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let handle;
  const write = (text: string): Promise<void> => writeAll(handle!, Buffer.from(text, 'utf8'));
  try {
    handle = await open(tmp, 'wx');
    await write(`%%MatrixMarket matrix coordinate real general\n${m} ${n} ${nnz}\n`);
    let lines: string[] = [];
    for (let j = 0; j < n; j++) {
      const col = ` ${j + 1} `;
      for (let p = colPtr[j]!, end = colPtr[j + 1]!; p < end; p++) {
        lines.push(`${rowIdx[p]! + 1}${col}${formatValue(values[p]!)}\n`);
        if (lines.length === LINES_PER_WRITE) { await write(lines.join('')); lines = []; }
      }
    }
    if (lines.length > 0) await write(lines.join(''));
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
    await syncDirectory(dirname(path));
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw ioError('write', path, err);
  }
}

/** Shortest of: the integer itself, or 17 significant digits without trailing zeros. */
function formatValue(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return String(v);
  const s = v.toPrecision(17);
  const e = s.indexOf('e');
  const mantissa = e < 0 ? s : s.slice(0, e);
  const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
  return e < 0 ? trimmed : trimmed + s.slice(e);
}
