/**
 * CSV model files (model-file.ts), two files side by side:
 *  - `model.csv`: a plain CSV that DuckDB's `read_csv`, pandas' `read_csv` and spreadsheets read with their
 *    defaults — a header `feature,factor_0,…,factor_{k−1}`, then one line per feature (its name, quoted when it
 *    holds a comma or a quote; numbers with 17 significant digits, which read back to the same bits);
 *  - `model.csv.json` (the CSV's path + `.json`), the sidecar: `d`, loss, rank, samples, iterations, final
 *    relative loss and objective, nmflow's version, every option of the fit (resolved), the seed, the data
 *    fingerprint, the trace, and `sha256`: the SHA-256 of the CSV's bytes, a NUL byte and the sidecar's JSON
 *    without its `sha256` key (compact, keys in the file's order). readModel verifies it (CHECKSUM_MISMATCH);
 *    `"sha256": "none"` reads a hand-edited pair unchecked.
 * Files of the first format (comment lines before the header) are still read: model-csv-legacy.ts.
 * H as one line per sample: `sample,factor_0,…` (the sample's name, else its index).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isLoss } from '../options/losses.js';
import { DataError } from '../errors.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { RecordedOptions } from '../options/recorded.js';
import { writeFileAtomic } from './atomic-write.js';
import { ioError } from './io-error.js';
import { featureName, provenance, type StoredModel } from './model-fields.js';
import { checkModelValues, dataFromRecord } from './model-integrity.js';
import { readLegacyModelCsv } from './model-csv-legacy.js';

/** The sidecar of a CSV model: its path + `.json`. */
export const sidecarPath = (csvPath: string): string => `${csvPath}.json`;

export async function writeModelCsv(path: string, model: Snapshot): Promise<void> {
  const { features: m, rank: k, W, d } = model;
  const lines = [['feature', ...Array.from({ length: k }, (_, a) => `factor_${a}`)].join(',')];
  for (let i = 0; i < m; i++) {
    const row = [csvField(featureName(model, i))];
    for (let a = 0; a < k; a++) row.push(num(W[i * k + a]!));
    lines.push(row.join(','));
  }
  const csv = Buffer.from(lines.join('\n') + '\n', 'utf8');
  const sidecar: Record<string, unknown> = {
    nmflow: 'model', formatVersion: 2, csv: baseName(path), ...provenance(model),
    loss: model.loss, rank: k, features: m, samples: model.samples, iterations: model.iteration, converged: model.converged,
    relativeLoss: model.relativeLoss, objective: model.objective, d: Array.from(d),
    ...(model.data ? { data: model.data } : {}), ...(model.trace ? { trace: model.trace } : {}),
  };
  await writeFileAtomic(path, csv);
  await writeFileAtomic(sidecarPath(path), JSON.stringify({ ...sidecar, sha256: checksum(csv, sidecar) }, null, 1) + '\n');
}

/** H (rank × samples, row-major) as one line per sample: `sample,factor_0,…`. */
export async function writeFactorsHCsv(path: string, H: Float64Array, rank: number, samples: number, sampleNames?: readonly string[]): Promise<void> {
  const lines = [['sample', ...Array.from({ length: rank }, (_, a) => `factor_${a}`)].join(',')];
  for (let j = 0; j < samples; j++) {
    const row = [csvField(sampleNames?.[j] ?? String(j))];
    for (let a = 0; a < rank; a++) row.push(num(H[a * samples + j]!));
    lines.push(row.join(','));
  }
  await writeFileAtomic(path, lines.join('\n') + '\n');
}

/** Reads a CSV model: the current format with its sidecar, or the first format (comment lines). */
export async function readModelCsv(bytes: Buffer, path: string): Promise<StoredModel> {
  if (bytes.toString('utf8', 0, 1) === '#') return readLegacyModelCsv(bytes, path);
  let text: string;
  try { text = await readFile(sidecarPath(path), 'utf8'); } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DataError('MALFORMED_FILE', `a CSV model needs its sidecar ${sidecarPath(path)} (d and the fit's record); it is missing`, { source: path });
    }
    throw ioError('read model sidecar', sidecarPath(path), error);
  }
  const sidecar = parseSidecar(text, sidecarPath(path));
  const { sha256: stored, ...rest } = sidecar;
  if (stored !== 'none') {
    const actual = checksum(bytes, rest);
    if (actual !== stored) {
      throw new DataError('CHECKSUM_MISMATCH', `the model file is damaged: the SHA-256 of the CSV and its sidecar is ${actual.slice(0, 16)}…, the sidecar says ${String(stored ?? '(nothing)').slice(0, 16)}… (truncated, overwritten or altered; a model edited by hand is read unchecked with "sha256": "none")`, { source: path });
    }
  }
  const d = Float64Array.from(Array.isArray(rest.d) ? rest.d.map((v: unknown) => (typeof v === 'number' ? v : NaN)) : []);
  const { W, featureNames } = parseRows(bytes.toString('utf8'), d.length, path);
  checkModelValues(W, d, featureNames, path);
  const number = (key: string): Record<string, number> => (typeof rest[key] === 'number' ? { [key]: rest[key] } : {});
  return {
    loss: isLoss(rest.loss) ? rest.loss : 'l2', rank: d.length, features: featureNames.length, W, d, featureNames,
    ...number('relativeLoss'), ...number('iterations'), ...number('objective'), ...number('samples'), ...number('seed'),
    ...(typeof rest.converged === 'boolean' ? { converged: rest.converged } : {}),
    ...(typeof rest.version === 'string' ? { version: rest.version } : {}),
    ...(isRecord(rest.options) ? { options: rest.options as RecordedOptions } : {}),
    ...(Array.isArray(rest.trace) ? { trace: rest.trace as StoredModel['trace'] & object } : {}),
    ...(rest.data === undefined ? {} : { data: dataFromRecord(rest.data, path) }),
  };
}

function parseSidecar(text: string, path: string): Record<string, unknown> {
  let value: unknown;
  try { value = JSON.parse(text); } catch (error) {
    throw new DataError('MALFORMED_FILE', 'the model\'s sidecar is not JSON (truncated or damaged)', { source: path }, error);
  }
  if (!isRecord(value) || value.nmflow !== 'model' || !Array.isArray(value.d) || value.d.length < 1) {
    throw new DataError('MALFORMED_FILE', 'not an nmflow model sidecar (expected an object with "nmflow": "model" and "d": [numbers])', { source: path });
  }
  return value;
}

/** W and the feature names of the CSV: a header `feature,factor_0,…` and one line of rank numbers per feature. */
function parseRows(text: string, rank: number, path: string): { W: Float64Array; featureNames: string[] } {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  const header = splitCsvLine(lines[0] ?? '');
  if (header[0] !== 'feature' || header.length !== rank + 1 || header.some((h, a) => a > 0 && h !== `factor_${a - 1}`)) {
    throw new DataError('MALFORMED_FILE', `the CSV model's header is not feature,factor_0,…,factor_${rank - 1} (its sidecar says rank ${rank})`, { source: path, line: 1 });
  }
  const m = lines.length - 1;
  const W = new Float64Array(m * rank);
  const featureNames: string[] = [];
  for (let i = 0; i < m; i++) {
    const fields = splitCsvLine(lines[i + 1]!);
    if (fields.length !== rank + 1) {
      throw new DataError('MALFORMED_FILE', `a model line has ${fields.length - 1} numbers, not ${rank}`, { source: path, line: i + 2 });
    }
    featureNames.push(fields[0]!);
    for (let a = 0; a < rank; a++) W[i * rank + a] = fields[a + 1] === '' ? NaN : Number(fields[a + 1]);
  }
  return { W, featureNames };
}

function checksum(csv: Uint8Array, sidecar: Record<string, unknown>): string {
  return createHash('sha256').update(csv).update('\0').update(JSON.stringify(sidecar)).digest('hex');
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const baseName = (path: string): string => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);

export function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(17).replace(/(\.\d*?)0+(e|$)/, '$1$2').replace(/\.(e|$)/, '$1');
}

/** Fields of one CSV line; "quoted" fields may hold commas and doubled quotes. */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let p = 0;
  while (p <= line.length) {
    if (line[p] === '"') {
      let value = '';
      p++;
      while (p < line.length) {
        if (line[p] === '"' && line[p + 1] === '"') { value += '"'; p += 2; } else if (line[p] === '"') { p++; break; } else value += line[p++];
      }
      fields.push(value);
      p++; // the comma
    } else {
      const comma = line.indexOf(',', p);
      const end = comma < 0 ? line.length : comma;
      fields.push(line.slice(p, end));
      p = end + 1;
    }
  }
  return fields;
}

export function csvField(s: string): string {
  return /[",\n\r]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}
