/**
 * The one place a file's format is decided, for the CLI and the library alike: by the name's ending, else — for
 * a file that exists — by its first bytes (Parquet `PAR1`, Arrow IPC `ARROW1` or a stream's 0xFFFFFFFF, Matrix
 * Market `%%MatrixMarket` or gzip, an nmflow CSV model's header). A directory is a 10x Genomics folder when it
 * holds one `…matrix.mtx[.gz]`, else a directory of Parquet parts. The formats: formats.ts.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { NmfError, OptionError } from '../errors.js';
import { serves, type Format, type Role } from './format.js';
import { FORMATS } from './formats.js';

/** Bytes read to recognise a format (the longest magic is `%%MatrixMarket`). */
const HEAD_BYTES = 16;

/** The format of a file (or directory) to read, for a role; an UNSUPPORTED NmfError names the file and the formats known. */
export function formatToRead(path: string, role: Role): Format {
  const candidates = FORMATS.filter((f) => serves(f, role));
  const kind = kindOf(path);
  if (kind === 'directory') {
    const format = candidates.find((f) => f.directories && (f.claimsDirectory?.(path) ?? true));
    if (format) return format;
  }
  const byName = byExtension(path, candidates, (f) => f.extensions);
  if (byName) return byName;
  const head = kind === 'file' ? headOf(path) : undefined;
  const byMagic = head && candidates.find((f) => f.magic?.(head));
  if (byMagic) return byMagic;
  const why = kind === 'file' ? 'its name ends in none of their extensions and its first bytes are none of theirs'
    : kind === 'missing' ? 'it does not exist and its name ends in none of their extensions' : 'its name ends in none of their extensions';
  throw new NmfError('UNSUPPORTED', `cannot tell the format of ${path}: ${why} — expected ${described(candidates, false)}`);
}

/** The format a file is to be written in, by its name's ending; an OptionError (bad usage) names the option and the endings known. */
export function formatToWrite(path: string, role: Role, option = 'out'): Format {
  const candidates = FORMATS.filter((f) => serves(f, role));
  const format = byExtension(path, candidates, writtenExtensions);
  if (format) return format;
  const endings = candidates.flatMap(writtenExtensions);
  throw new OptionError(option, `a path ending in ${endings.slice(0, -1).join(', ')} or ${endings.at(-1)} (${described(candidates, true)})`, path);
}

/** The formats that serve a role, in words (the CLI's help). */
export function formatsFor(role: Role): string {
  return described(FORMATS.filter((f) => serves(f, role)), role === 'table-out' || role === 'matrix-out');
}

/** Formats in words, with the extensions read or written ("Matrix Market (.mtx, .mtx.gz), Parquet (…) or …"). */
export function described(formats: readonly Format[], writing: boolean): string {
  const words = formats.map((f) => `${f.title} (${(writing ? writtenExtensions(f) : f.extensions).join(', ')}${
    f.directories && !writing ? ', or a directory of parts' : ''})`);
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

const writtenExtensions = (f: Format): readonly string[] => f.writtenExtensions ?? f.extensions;

function byExtension(path: string, formats: readonly Format[], endings: (f: Format) => readonly string[]): Format | undefined {
  const lower = path.toLowerCase();
  let best: { format: Format; length: number } | undefined;
  for (const format of formats) {
    for (const ending of endings(format)) {
      if (lower.endsWith(ending) && ending.length > (best?.length ?? 0)) best = { format, length: ending.length };
    }
  }
  return best?.format;
}

/** Only a regular file is opened to look at its first bytes (opening a FIFO would wait for a writer). */
function kindOf(path: string): 'file' | 'directory' | 'other' | 'missing' {
  try {
    const s = statSync(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}

function headOf(path: string): Uint8Array | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = new Uint8Array(HEAD_BYTES);
    return head.subarray(0, readSync(fd, head, 0, HEAD_BYTES, 0));
  } catch {
    return undefined; // unreadable: the reader of the format the caller was told reports it in its words
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
