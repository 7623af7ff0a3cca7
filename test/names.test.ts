/**
 * Issue #16, names end to end: 10x Genomics folders and triplets (gz or not), names files, loadMtx's
 * featureNames / sampleNames / transpose, sample ids in the final snapshot, in H files and in projection outputs.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readModel, writeFactorsH } from '../src/io/model-file.js';
import { fitModel } from '../src/pipeline/fit.js';
import { loadMtx } from '../src/source/from-mtx.js';
import { failure } from './helpers/failure.js';
import { nmflow } from './helpers/cli.js';
import { SHARED_DATA, loadSharedMtx } from './helpers/load-mtx-sync.js';

const PBMC = `${SHARED_DATA}pbmc_small.mtx`;
const A = loadSharedMtx('pbmc_small');
// 10x names: ids, symbols (one repeated: made unique as scanpy does), barcodes
const ids = Array.from({ length: A.m }, (_, i) => `ENSG${String(i).padStart(11, '0')}`);
const symbols = Array.from({ length: A.m }, (_, i) => (i === 7 ? 'GENE5' : `GENE${i}`));
const barcodes = Array.from({ length: A.n }, (_, j) => `AAAC${String(j).padStart(4, '0')}-1`);
const expectedSymbols = symbols.map((s, i) => (i === 7 ? 'GENE5-1' : s));

/** A 10x folder (`prefix` on every file; gzipped or not). */
function tenxFolder(gz: boolean, prefix = '', genes = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'nmflow-10x-'));
  const write = (name: string, text: string): void => writeFileSync(join(dir, prefix + name + (gz ? '.gz' : '')), gz ? gzipSync(text) : text);
  write('matrix.mtx', readFileSync(PBMC, 'utf8'));
  write(genes ? 'genes.tsv' : 'features.tsv', ids.map((id, i) => `${id}\t${symbols[i]}${genes ? '' : '\tGene Expression'}`).join('\n') + '\n');
  write('barcodes.tsv', barcodes.join('\n') + '\n');
  return dir;
}

describe('names end to end', () => {
  it('a 10x folder (gz or not, features.tsv or genes.tsv, with a GEO prefix or none) reads as its matrix with feature symbols and barcodes', async () => {
    for (const [gz, prefix, genes] of [[true, '', false], [false, 'GSM1_', true]] as const) {
      const dir = tenxFolder(gz, prefix, genes);
      const source = await loadMtx(dir);
      expect(source.matrix.m).toBe(A.m);
      expect(Array.from(source.matrix.values)).toEqual(Array.from(A.values));
      expect(source.featureNames).toEqual(expectedSymbols);
      expect(source.sampleNames).toEqual(barcodes);
      // the matrix file of a triplet: its siblings name it
      const file = await loadMtx(join(dir, `${prefix}matrix.mtx${gz ? '.gz' : ''}`));
      expect(file.sampleNames).toEqual(barcodes);
    }
  });

  it('loadMtx names from arrays or files, checks their count, and transposes a samples × features file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-names-'));
    writeFileSync(join(dir, 'cells.txt'), barcodes.join('\n') + '\n');
    const named = await loadMtx(PBMC, { featureNames: ids, sampleNames: join(dir, 'cells.txt') });
    expect(named.featureNames).toEqual(ids);
    expect(named.sampleNames).toEqual(barcodes);
    const wrong = await failure(() => loadMtx(PBMC, { sampleNames: ids }));
    expect(wrong.code).toBe('SHAPE_MISMATCH');
    expect(wrong.message).toContain(`${A.m} names, but`);
    expect(wrong.message).toContain('--transpose');
    // digits.mtx is 1797 images × 64 pixels: transposed, pixels are the features
    const pixels = Array.from({ length: 64 }, (_, p) => `px${p >> 3}_${p & 7}`);
    const digits = await loadMtx(`${SHARED_DATA}digits.mtx`, { transpose: true, featureNames: pixels });
    const D = loadSharedMtx('digits');
    expect([digits.matrix.m, digits.matrix.n]).toEqual([64, 1797]);
    let sum = 0;
    for (let p = D.colPtr[5]!; p < D.colPtr[6]!; p++) if (D.rowIdx[p] === 100) sum = D.values[p]!;
    let back = 0;
    for (let p = digits.matrix.colPtr[100]!; p < digits.matrix.colPtr[101]!; p++) if (digits.matrix.rowIdx[p] === 5) back = digits.matrix.values[p]!;
    expect(back).toBe(sum);
    expect(digits.featureNames).toEqual(pixels);
  });

  it('the final snapshot carries the sample names; H files name their rows by them', async () => {
    const source = await loadMtx(tenxFolder(true));
    const model = await fitModel(source, { rank: 3, seed: 1, maxIterations: 3, keepH: true });
    expect(model.sampleNames).toEqual(barcodes);
    expect(model.featureNames).toEqual(expectedSymbols);
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-names-'));
    await writeFactorsH(join(dir, 'H.csv'), model.H!, 3, model.samples, model.sampleNames);
    const lines = readFileSync(join(dir, 'H.csv'), 'utf8').split('\n');
    expect(lines[0]).toBe('sample,factor_0,factor_1,factor_2');
    expect(lines[1]!.startsWith(`${barcodes[0]},`)).toBe(true);
  });

  it('CLI: fit a 10x folder → model and H with names; --transpose and --feature-names; project names the samples', async () => {
    const tenx = tenxFolder(true);
    const dir = mkdtempSync(join(tmpdir(), 'nmflow-names-cli-'));
    const fit = await nmflow('fit', tenx, '--rank', '3', '--max-iterations', '3', '--out', join(dir, 'm.csv'), '--out-h', join(dir, 'h.parquet'), '--json');
    expect(fit.code).toBe(0);
    const model = await readModel(join(dir, 'm.csv'));
    expect(model.featureNames).toEqual(expectedSymbols);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const h = (await db.runAndReadAll(`SELECT sample FROM read_parquet('${join(dir, 'h.parquet')}') LIMIT 2`)).getRowObjects();
    expect(h.map((r) => r.sample)).toEqual(barcodes.slice(0, 2));
    // project the same cells, their features in another order (a 10x folder with rows reversed would do; here the same)
    const project = await nmflow('project', join(dir, 'm.csv'), tenx, '--out', join(dir, 'codes.parquet'));
    expect(project.code).toBe(0);
    const codes = (await db.runAndReadAll(`SELECT sample FROM read_parquet('${join(dir, 'codes.parquet')}') LIMIT 1`)).getRowObjects();
    expect(codes[0]!.sample).toBe(barcodes[0]);
    // an unnamed .mtx against the named model: refused, saying how to name it
    const unnamed = await nmflow('project', join(dir, 'm.csv'), PBMC, '--out', join(dir, 'x.parquet'));
    expect(unnamed.code).toBe(1);
    expect(unnamed.stderr).toContain('--feature-names');
    // samples × features: --transpose, with names files
    mkdirSync(join(dir, 'names'));
    writeFileSync(join(dir, 'names', 'pixels.txt'), Array.from({ length: 64 }, (_, p) => `px${p}`).join('\n'));
    copyFileSync(`${SHARED_DATA}digits.mtx`, join(dir, 'digits.mtx'));
    const digits = await nmflow('fit', join(dir, 'digits.mtx'), '--transpose', '--feature-names', join(dir, 'names', 'pixels.txt'), '--rank', '4', '--max-iterations', '2', '--out', join(dir, 'd.parquet'), '--json');
    expect(digits.code).toBe(0);
    const d = await readModel(join(dir, 'd.parquet'));
    expect(d.features).toBe(64);
    expect(d.featureNames[3]).toBe('px3');
    expect(d.samples).toBe(1797);
    const table = await nmflow('fit', `${SHARED_DATA}../fixtures/hawaiibirds-long-snappy.parquet`, '--transpose', '--rank', '2');
    expect(table.code).toBe(2);
    expect(table.stderr).toContain('--transpose');
  });
});
