/**
 * Writes altered checkpoint bytes with a checksum that matches them (io/checkpoint.ts: SHA-256 of the bytes
 * after offset 40, stored at offset 8), so that a test reaches the checks behind the checksum.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';

export const CHECKPOINT_HEADER_AT = 44;

export function writeResealed(path: string, bytes: Buffer): void {
  createHash('sha256').update(bytes.subarray(40)).digest().copy(bytes, 8);
  writeFileSync(path, bytes);
}
