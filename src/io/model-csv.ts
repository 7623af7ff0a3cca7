/**
 * CSV model files (model-file.ts): `# nmflow model` comment lines (loss, rank, d as `# d,d0,d1,…`), then a
 * header `feature,factor_0,…` and one line per feature (numbers with 17 significant digits); H as rank lines.
 */
import { isLoss, type Loss } from '../options/losses.js';
import { DataError } from '../errors.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { writeFileAtomic } from './atomic-write.js';
import { featureName, recorded, type StoredModel } from './model-fields.js';
import { checkModelValues, csvDataOf, dataTokens, verifyCsvChecksum, withCsvChecksum } from './model-integrity.js';

export async function writeModelCsv(path: string, model: Snapshot): Promise<void> {
  const { features: m, rank: k, W, d } = model;
  const lines = [`# nmflow model: loss=${model.loss} rank=${k} features=${m} samples=${model.samples} iterations=${model.iteration} relativeLoss=${model.relativeLoss}${dataTokens(model.data)}`,
    `# d,${Array.from(d, num).join(',')}`,
    ['feature', ...Array.from({ length: k }, (_, a) => `factor_${a}`)].join(',')];
  for (let i = 0; i < m; i++) {
    const row = [csvField(featureName(model, i))];
    for (let a = 0; a < k; a++) row.push(num(W[i * k + a]!));
    lines.push(row.join(','));
  }
  await writeFileAtomic(path, withCsvChecksum(lines.join('\n') + '\n'));
}

/** H (rank × samples, row-major) as rank lines. */
export async function writeFactorsHCsv(path: string, H: Float64Array, rank: number, samples: number): Promise<void> {
  const lines: string[] = [];
  for (let a = 0; a < rank; a++) lines.push(Array.from(H.subarray(a * samples, (a + 1) * samples), num).join(','));
  await writeFileAtomic(path, lines.join('\n') + '\n');
}

/** Reads a CSV model written by writeModelCsv. */
export function readModelCsv(bytes: Buffer, path: string): StoredModel {
  const text = bytes.toString('utf8');
  verifyCsvChecksum(text, path);
  const lines = text.split(/\r?\n/);
  let first: string | undefined;
  let loss: Loss = 'l2';
  let stats: ReturnType<typeof recorded> = {};
  let d: Float64Array | undefined;
  const rows: number[][] = [];
  const featureNames: string[] = [];
  let header = false;
  lines.forEach((line, index) => {
    if (line.startsWith('# nmflow model:')) {
      const name = /loss=(\S+)/.exec(line)?.[1];
      loss = isLoss(name) ? name : 'l2';
      stats = recorded(/relativeLoss=(\S+)/.exec(line)?.[1], /iterations=(\S+)/.exec(line)?.[1]);
      first = line;
    }
    else if (line.startsWith('# d,')) d = Float64Array.from(line.slice(4).split(',').map(Number));
    else if (line.startsWith('#') || line.trim() === '') return;
    else if (!header) header = true;
    else {
      const fields = splitCsvLine(line);
      featureNames.push(fields[0]!);
      const values = fields.slice(1).map(Number);
      if (values.some((v) => !Number.isFinite(v) || v < 0)) {
        throw new DataError('INVALID_VALUE', 'model entries must be finite and ≥ 0', { source: path, line: index + 1 });
      }
      rows.push(values);
    }
  });
  const rank = d?.length ?? 0;
  if (!d || rank < 1 || rows.some((r) => r.length !== rank)) {
    throw new DataError('MALFORMED_FILE', 'not an nmflow CSV model (missing "# d," line or ragged rows)', { source: path });
  }
  const W = new Float64Array(rows.length * rank);
  rows.forEach((r, i) => W.set(r, i * rank));
  checkModelValues(W, d, featureNames, path);
  return { loss, rank, features: rows.length, W, d, featureNames, ...stats, ...csvDataOf(first, path) };
}
function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(17).replace(/(\.\d*?)0+(e|$)/, '$1$2').replace(/\.(e|$)/, '$1');
}

/** Fields of one CSV line; "quoted" fields may hold commas and doubled quotes. */
function splitCsvLine(line: string): string[] {
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

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
