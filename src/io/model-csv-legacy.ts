/**
 * CSV model files of the first format (written before 0.1.0's sidecar JSON, still read): `# nmflow model` comment
 * lines (loss, rank, d as `# d,d0,d1,…`, a SHA-256 at the end of the first line: model-integrity.ts), then a
 * header `feature,factor_0,…` and one line per feature. model-csv.ts writes the current format.
 */
import { isLoss, type Loss } from '../options/losses.js';
import { DataError } from '../errors.js';
import { recorded, type StoredModel } from './model-fields.js';
import { checkModelValues, csvDataOf, verifyCsvChecksum } from './model-integrity.js';
import { splitCsvLine } from './model-csv.js';

/** Reads a CSV model of the first format (comment lines before the header): files written before the sidecar. */
export function readLegacyModelCsv(bytes: Buffer, path: string): StoredModel {
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
