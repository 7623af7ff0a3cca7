/**
 * Atomic file writes: the bytes go to `<path>.tmp-<pid>-<n>` in the same directory, every write is
 * checked for its full length (a short write is continued; one that makes no progress, or a full disk's
 * ENOSPC, is an error), the file is fsynced and closed, renamed over the target, and the directory is
 * fsynced so that the rename itself is on disk. Any failure removes the temporary file and leaves the
 * previous file at `path` as it was.
 *
 * Temporaries of processes that died before they could clean up (SIGKILL, power loss) are removed the
 * next time the same path is written (`removeStaleTemporaries`): `<path>.tmp-<pid>` and
 * `<path>.tmp-<pid>-<n>` whose process is no longer running. A live process's temporaries are left
 * alone, whoever owns them.
 */
import { closeSync, fsyncSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ioError } from './io-error.js';

let counter = 0;

export function temporaryName(path: string): string {
  counter += 1;
  return `${path}.tmp-${process.pid}-${counter}`;
}

/** True while a process with this id exists (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `prefix<pid>` or `prefix<pid>-<anything>` with a dead pid: the entry names in `names` left by dead processes. */
export function deadEntries(names: readonly string[], prefix: string): string[] {
  const out: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)(?:-[^/]*)?$/.exec(name.slice(prefix.length));
    if (match && !isProcessAlive(Number(match[1]))) out.push(name);
  }
  return out;
}

/** Removes `<path>.tmp-<pid>[-<n>]` files left by dead processes. Never fails (what cannot be removed stays). */
export async function removeStaleTemporaries(path: string): Promise<void> {
  const dir = dirname(path);
  let names: string[];
  try { names = await readdir(dir); } catch { return; }
  for (const name of deadEntries(names, `${basename(path)}.tmp-`)) await rm(join(dir, name), { force: true }).catch(() => undefined);
}

/** `removeStaleTemporaries`, synchronously. */
export function removeStaleTemporariesSync(path: string): void {
  const dir = dirname(path);
  let names: string[];
  try { names = readdirSync(dir); } catch { return; }
  for (const name of deadEntries(names, `${basename(path)}.tmp-`)) {
    try { rmSync(join(dir, name), { force: true }); } catch { /* left for the next time */ }
  }
}

/** A write that stopped short without an error code: the device took no more bytes. */
function shortWrite(expected: number, written: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`short write: ${written} of ${expected} bytes accepted`), { code: 'ESHORTWRITE' });
}

/** The part of FileHandle that `writeAll` uses (a seam for tests). */
export type WritableHandle = Pick<FileHandle, 'write'>;

/** Writes all of `bytes`, continuing after short writes; a write that accepts nothing is an error. */
export async function writeAll(handle: WritableHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    if (!(bytesWritten > 0)) throw shortWrite(bytes.length, offset);
    offset += bytesWritten;
  }
}

/** `writeAll` for a file descriptor. */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    if (!(written > 0)) throw shortWrite(bytes.length, offset);
    offset += written;
  }
}

/** Errors of a directory fsync that mean "not supported here" rather than "not written". */
const UNSUPPORTED_SYNC = new Set(['EINVAL', 'ENOTSUP', 'EISDIR', 'EPERM', 'EACCES', 'EBADF']);

/** fsync of a directory, so that a rename into it is durable. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    if (!UNSUPPORTED_SYNC.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** `syncDirectory`, synchronously. */
export function syncDirectorySync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    if (!UNSUPPORTED_SYNC.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await removeStaleTemporaries(path);
  const tmp = temporaryName(path);
  let handle: FileHandle | undefined;
  try {
    handle = await open(tmp, 'wx');
    await writeAll(handle, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
    await syncDirectory(dirname(path));
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw ioError('write', path, error);
  }
}
