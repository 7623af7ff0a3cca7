/**
 * Atomic file writes: write to `<path>.tmp-<pid>-<n>` in the same directory, then rename over the
 * target. A failed write removes the temporary file, so nothing half-written is left behind.
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { NmfError } from '../errors.js';

let counter = 0;

export function temporaryName(path: string): string {
  counter += 1;
  return `${path}.tmp-${process.pid}-${counter}`;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = temporaryName(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new NmfError('IO', `could not write ${path}: ${(error as Error).message}`, { cause: error });
  }
}
