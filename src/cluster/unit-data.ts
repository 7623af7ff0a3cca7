/**
 * The data of a distributed fit: Parquet part files every worker can read, one row per sample ('list' or
 * 'wide' layout), samples numbered across the files in name order as `fromParquet` of the same directory
 * numbers them. A unit (model/l2/units.ts: UNIT_SAMPLES consecutive samples) is cut from the files that
 * hold its rows; a worker keeps the files it has decoded and the units it has cut (the data it has read stay in
 * memory, as Spark keeps its cached blocks: a unit that moves to it later is not decoded again — decoding a part of
 * 16384 samples took seconds on the loaded bench machine, cutting a unit from it 40 ms).
 */
import { lastValueFrom, toArray } from 'rxjs';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { makeCscChunk, type CscChunk } from '../chunk/csc-chunk.js';
import { DataError, OptionError } from '../errors.js';
import { UNIT_SAMPLES } from '../model/l2/units.js';
import { makeChunkScaler } from '../pipeline/value-scale.js';
import { fromParquet, partFiles } from '../source/from-parquet.js';
import type { SourceOptions } from '../source/layout.js';
import type { DataFile, FitMeta } from './protocol.js';

export interface DataPlan {
  readonly files: readonly DataFile[];
  readonly layout: Readonly<Record<string, unknown>>;
  readonly m: number;
  readonly n: number;
  readonly units: number;
  readonly featureNames: readonly string[] | undefined;
}

/** The part files of `input` (a directory, a file or a list), their rows, m and n; the layout must be one row per sample. */
export async function planData(input: string | readonly string[], layout: SourceOptions): Promise<DataPlan> {
  if (layout.layout !== 'list' && layout.layout !== 'wide') {
    throw new OptionError('layout', "'list' or 'wide' for a distributed fit (one row per sample, so that a unit's rows are known without reading the files)", layout.layout);
  }
  const list = typeof input === 'string' ? [input] : [...input];
  const paths = await partFiles(list, list.join(', '));
  const files: DataFile[] = [];
  for (const path of paths) {
    try {
      const footer = await parquetMetadataAsync(await asyncBufferFromFile(path));
      files.push({ path, rows: Number(footer.num_rows) });
    } catch (error) {
      throw new DataError('MALFORMED_FILE', 'not a readable Parquet file (bad or missing footer)', { source: path }, error);
    }
  }
  const info = await fromParquet(paths, layout).prepare();
  if (info.features === undefined) throw new DataError('EMPTY_INPUT', 'the number of features is unknown', { source: list.join(', ') });
  const n = files.reduce((s, f) => s + f.rows, 0);
  if (n === 0) throw new DataError('EMPTY_INPUT', 'the input has no rows', { source: list.join(', ') });
  const resolvedLayout = { ...layout, ...(layout.layout === 'list' ? { features: info.features } : {}), chunkSize: UNIT_SAMPLES };
  return { files, layout: resolvedLayout, m: info.features, n, units: Math.ceil(n / UNIT_SAMPLES), featureNames: info.featureNames };
}

/** Reads units of a fit's data: each file decoded once and kept (up to `keepFiles` files). */
export interface UnitReader {
  read(unit: number): Promise<CscChunk>;
}

export function makeUnitReader(meta: Pick<FitMeta, 'files' | 'layout' | 'm' | 'n' | 'exponent'>, keepFiles = 4096, keepUnits = 65536): UnitReader {
  const decoded = new Map<string, CscChunk[]>();
  // the units built (a unit read again costs nothing: ~40 ms per 200 000 nonzeros to cut it from its files)
  const built = new Map<number, CscChunk>();
  const offsets: number[] = [];
  let at = 0;
  for (const f of meta.files) { offsets.push(at); at += f.rows; }
  const scaler = makeChunkScaler('units', meta.exponent);
  const fileChunks = async (path: string): Promise<CscChunk[]> => {
    let chunks = decoded.get(path);
    if (chunks === undefined) {
      chunks = await lastValueFrom(fromParquet(path, meta.layout as unknown as SourceOptions).chunks().pipe(toArray()));
      if (decoded.size >= keepFiles) decoded.delete(decoded.keys().next().value!);
      decoded.set(path, chunks);
    }
    return chunks;
  };
  return {
    async read(unit) {
      const kept = built.get(unit);
      if (kept !== undefined) return kept;
      const chunk = await cut(unit);
      if (built.size >= keepUnits) built.delete(built.keys().next().value!);
      built.set(unit, chunk);
      return chunk;
    },
  };
  async function cut(unit: number): Promise<CscChunk> {
    const a = unit * UNIT_SAMPLES, b = Math.min(meta.n, a + UNIT_SAMPLES);
    if (a >= b) throw new DataError('INDEX_OUT_OF_RANGE', `unit ${unit} is past the ${meta.n} samples`, { sample: a });
    const colPtr = new Int32Array(b - a + 1);
    const rows: Int32Array[] = [], vals: Float64Array[] = [];
    let nnz = 0;
    for (let f = 0; f < meta.files.length; f++) {
      const o = offsets[f]!, r = meta.files[f]!.rows;
      if (o + r <= a || o >= b) continue;
      for (const chunk of await fileChunks(meta.files[f]!.path)) {
        const c0 = o + chunk.colStart, c1 = c0 + chunk.n;
        if (c1 <= a || c0 >= b) continue;
        for (let j = Math.max(a, c0); j < Math.min(b, c1); j++) {
          const p0 = chunk.colPtr[j - c0]!, p1 = chunk.colPtr[j - c0 + 1]!;
          rows.push(chunk.rowIdx.subarray(p0, p1)); vals.push(chunk.values.subarray(p0, p1));
          nnz += p1 - p0;
          colPtr[j - a + 1] = nnz;
        }
      }
    }
    const rowIdx = new Int32Array(nnz), values = new Float64Array(nnz);
    let p = 0;
    for (let q = 0; q < rows.length; q++) { rowIdx.set(rows[q]!, p); values.set(vals[q]!, p); p += rows[q]!.length; }
    for (let j = 1; j < colPtr.length; j++) if (colPtr[j]! < colPtr[j - 1]!) colPtr[j] = colPtr[j - 1]!; // empty columns
    return scaler.chunk(makeCscChunk({ m: meta.m, colStart: a, colPtr, rowIdx, values, position: unit }));
  }
}

/** The exponent of pipeline/value-scale.ts: from the first unit with a nonzero (read in unit order). */
export async function exponentOf(reader: UnitReader, units: number): Promise<number> {
  const scaler = makeChunkScaler('units');
  for (let u = 0; u < units; u++) {
    const chunk = await reader.read(u); // exponent 0 here: the values as stored
    if (chunk.colPtr[chunk.n]! > 0) {
      scaler.chunk(chunk);
      const d = scaler.snapshot({ d: Float64Array.of(1) } as never) as unknown as { d: Float64Array };
      return -Math.log2(d.d[0]!);
    }
  }
  return 0;
}
