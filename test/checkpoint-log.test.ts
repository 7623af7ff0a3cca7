/**
 * The log position in an online checkpoint (issue #14 part 3): written and read back as it was, and a damaged one
 * (behind a valid checksum) refused as MALFORMED_FILE naming the file — never resumed at a wrong sequence.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import { checkpointPath, readCheckpoint, writeCheckpoint } from '../src/io/checkpoint.js';
import { failure } from './helpers/failure.js';
import { CHECKPOINT_HEADER_AT, writeResealed } from './helpers/reseal-checkpoint.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function written(log: { sequences: number[]; colStart: number; position: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'nmflow-ckpt-log-'));
  dirs.push(dir);
  writeCheckpoint(dir, {
    fingerprint: { rank: 2 }, sourceName: 'JetStream stream S, subject s', trace: [{ iteration: 1, relativeLoss: 0.5, objective: 1, tol: 1, seconds: 0 }],
    state: { loss: 'l2', numbers: { chunks: 7 }, arrays: { W: new Float64Array([1, 2, 3, 4]) } }, log,
  });
  return dir;
}

describe('the log position of an online checkpoint', () => {
  it('is read back as written', () => {
    const dir = written({ sequences: [4, 5, 7], colStart: 300, position: 3 });
    expect(readCheckpoint(dir).log).toEqual({ sequences: [4, 5, 7], colStart: 300, position: 3 });
  });

  it('a damaged log position is MALFORMED_FILE naming the file', async () => {
    const dir = written({ sequences: [4, 5, 7], colStart: 300, position: 3 });
    const path = checkpointPath(dir);
    const bytes = readFileSync(path);
    const at = bytes.indexOf('"sequences":[4,5,7]', CHECKPOINT_HEADER_AT);
    expect(at).toBeGreaterThan(0);
    bytes.write('"sequences":[4,5,0]', at, 'utf8'); // sequence 0 does not exist in a stream
    writeResealed(path, bytes);
    const error = await failure(async () => readCheckpoint(dir));
    expect(error).toBeInstanceOf(DataError);
    expect(error.code).toBe('MALFORMED_FILE');
    expect(error.message).toContain('the log position is not {sequences (whole numbers ≥ 1), colStart, position}');
    expect(error.message).toContain(path);
  });
});
