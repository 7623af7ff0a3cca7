/**
 * Operating-system errors (ENOSPC, EISDIR, EEXIST, …) as an `IO` NmfError in words: what was being done,
 * to which path, and why ("no space left on the device"), with Node's error kept as `cause`. The
 * errno name is added in square brackets, since it is what one searches for.
 */
import { NmfError } from '../errors.js';

const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EFBIG: 'the file is too large for the file system',
  EIO: 'the device reported an input/output error',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory, not a file',
  EEXIST: 'a file of that name is in the way',
  ENOTEMPTY: 'the directory is not empty',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EBADF: 'the file was closed',
  EXDEV: 'the temporary file is on another device',
  ESHORTWRITE: 'a write stopped short: the device accepted no more bytes',
};

/** The reason of a Node error in words ("no space left on the device (ENOSPC)"); other errors by their message. */
export function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && REASONS[code] !== undefined) return `${REASONS[code]} [${code}]`;
  if (error instanceof NmfError) return error.message;
  return typeof code === 'string' ? `the system call failed [${code}]` : 'an unexpected error (see the cause, with --verbose)';
}

/** `could not <action> <path>: <reason>` as an IO NmfError naming the path. An NmfError passes unchanged. */
export function ioError(action: string, path: string, error: unknown): NmfError {
  if (error instanceof NmfError) return error;
  return new NmfError('IO', `could not ${action} ${path}: ${reasonOf(error)}`, { location: { source: path }, cause: error });
}
