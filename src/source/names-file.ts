/**
 * Names of features and samples from files (`--feature-names`, `--sample-names`, `loadMtx`'s options, a 10x
 * Genomics folder's features.tsv / barcodes.tsv), plain or gzip (told by the magic bytes):
 *  - a plain list: one name per line (blank lines at the end ignored), kept as given;
 *  - a 10x TSV (tab-separated columns: features `id, symbol, type`, or genes `id, symbol`; barcodes `barcode`):
 *    features are named by their symbol (column 2), a repeated symbol made unique as scanpy does
 *    (`var_names_make_unique`: the second `TBCE` becomes `TBCE-1`, the third `TBCE-2`); samples by column 1.
 * And 10x inputs: a folder holding `matrix.mtx[.gz]`, `features.tsv[.gz]` (or `genes.tsv[.gz]`) and
 * `barcodes.tsv[.gz]` — or the three with a common prefix (`GSM1_matrix.mtx.gz`, `GSM1_features.tsv.gz`, …, as
 * GEO ships them) — or the matrix file of such a triplet, whose siblings then name its rows and columns.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError, NmfError } from '../errors.js';

/** Reads a names file: the names of features (`kind` 'features') or of samples. */
export async function readNamesFile(path: string, kind: 'features' | 'samples'): Promise<string[]> {
  let bytes: Buffer;
  try { bytes = await readFile(path); } catch (error) {
    throw new NmfError('IO', `cannot read the ${kind === 'features' ? 'feature' : 'sample'} names ${path}: ${(error as Error).message}`, { location: { source: path }, cause: error });
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try { bytes = gunzipSync(bytes); } catch (error) {
      throw new DataError('MALFORMED_FILE', `gzip data is corrupt: ${(error as Error).message}`, { source: path }, error);
    }
  }
  const lines = bytes.toString('utf8').split(/\r?\n/);
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new DataError('EMPTY_INPUT', `the names file ${path} has no names`, { source: path });
  if (!lines.every((line) => line.includes('\t'))) return lines;
  const column = kind === 'features' ? 1 : 0;
  const names = lines.map((line) => line.split('\t')[column] ?? line.split('\t')[0]!);
  return kind === 'features' ? uniqueNames(names) : names;
}

/** Repeated names made unique as scanpy's `var_names_make_unique`: the second `x` becomes `x-1`, the third `x-2`. */
export function uniqueNames(names: readonly string[]): string[] {
  const taken = new Set(names);
  const seen = new Map<string, number>();
  return names.map((name) => {
    const count = seen.get(name) ?? 0;
    seen.set(name, count + 1);
    if (count === 0) return name;
    let k = count, candidate = `${name}-${k}`;
    while (taken.has(candidate)) candidate = `${name}-${++k}`;
    taken.add(candidate);
    return candidate;
  });
}

/** The files of a 10x input: the matrix and, where present, the names of its rows (features) and columns (barcodes). */
export interface TenxFiles {
  readonly matrix: string;
  readonly features: string | undefined;
  readonly barcodes: string | undefined;
}

const MATRIX = /^(.*)matrix\.mtx(\.gz)?$/i;

/**
 * The 10x files of `path`: a folder with one `[prefix]matrix.mtx[.gz]` (and its features/genes and barcodes), or
 * such a matrix file with at least one of its siblings. Anything else: undefined.
 */
export function tenxFiles(path: string): TenxFiles | undefined {
  let stat;
  try { stat = statSync(path); } catch { return undefined; }
  if (stat.isDirectory()) {
    let entries: string[];
    try { entries = readdirSync(path); } catch { return undefined; }
    const matrices = entries.filter((name) => MATRIX.test(name));
    if (matrices.length !== 1) return undefined;
    return siblingsOf(join(path, matrices[0]!), true);
  }
  return stat.isFile() ? siblingsOf(path, false) : undefined;
}

function siblingsOf(matrix: string, inFolder: boolean): TenxFiles | undefined {
  const match = MATRIX.exec(basename(matrix));
  if (!match) return undefined;
  const prefix = match[1]!;
  const dir = dirname(matrix);
  const find = (stems: readonly string[]): string | undefined => {
    for (const stem of stems) {
      for (const ending of ['.tsv.gz', '.tsv']) {
        const candidate = join(dir, `${prefix}${stem}${ending}`);
        if (existsSync(candidate)) return candidate;
      }
    }
    return undefined;
  };
  const features = find(['features', 'genes']);
  const barcodes = find(['barcodes']);
  if (!inFolder && features === undefined && barcodes === undefined) return undefined;
  return { matrix, features, barcodes };
}
