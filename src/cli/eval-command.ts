/**
 * `nmflow eval <model> <input>`: the diagnostics of a saved model on a data set — relative loss
 * (H solved for the data), the relative L1 objective for l1 models, sparsity of W and H, cosine
 * similarity between factors, similarity to k-means centroids and to the rank-1 model.
 * Text by default; with --json one JSON object on one line.
 */
import type { Command } from 'commander';
import { lastValueFrom, toArray } from 'rxjs';
import { evaluateModel, type ModelEvaluation } from '../diagnostics/evaluate.js';
import { DataError } from '../errors.js';
import { readModel } from '../io/model-file.js';
import type { CscMatrix } from '../source/from-csc.js';
import type { MatrixSource } from '../source/matrix-source.js';
import { openInput } from './open-input.js';
import { parseInteger, parseNumber } from './parse-flags.js';

interface EvalFlags {
  json?: boolean;
  lambda?: number;
  kmeansSeed?: number;
  kmeans: boolean;
  chunkSize?: number;
}

export function addEvalCommand(program: Command, print: (line: string) => void): void {
  program.command('eval')
    .description('diagnostics of a saved model on data: loss, sparsity, angles between factors, k-means and rank-1 similarity')
    .argument('<model>', 'a model written by `nmflow fit --out` (.csv, .arrow or .parquet)')
    .argument('<input>', 'the data (features × samples), in any format `nmflow fit` reads')
    .option('--json', 'print one JSON object')
    .option('--lambda <λ>', 'l1 models: weight of the zero entries in the objective (default 1)', parseNumber('--lambda'))
    .option('--kmeans-seed <s>', 'seed of the k-means++ start (default 42)', parseInteger('--kmeans-seed'))
    .option('--no-kmeans', 'skip the k-means comparison')
    .option('--chunk-size <N>', 'samples per chunk while reading', parseInteger('--chunk-size'))
    .addHelpText('after', `
Examples:
  nmflow eval model.arrow examples/data/hawaiibirds.mtx.gz
  nmflow eval model.csv data.mtx.gz --json --no-kmeans`)
    .action(async (modelPath: string, input: string, flags: EvalFlags) => {
      const model = await readModel(modelPath);
      const matrix = await readMatrix(input, flags.chunkSize);
      if (matrix.m !== model.features) {
        throw new DataError('SCHEMA_MISMATCH', `the model has ${model.features} features but the data has ${matrix.m}`, { source: input });
      }
      const evaluation = evaluateModel(model, matrix, {
        kmeans: flags.kmeans,
        ...(flags.lambda === undefined ? {} : { lambda: flags.lambda }),
        ...(flags.kmeansSeed === undefined ? {} : { kmeansSeed: flags.kmeansSeed }),
      });
      if (flags.json) print(JSON.stringify({ model: modelPath, input, loss: model.loss, ...evaluation }));
      else for (const line of describe(modelPath, input, model.loss, evaluation)) print(line);
    });
}

/** Opens an input file and gathers all its chunks into one CSC matrix. */
export async function readMatrix(input: string, chunkSize?: number): Promise<CscMatrix> {
  const source = await openInput(input, chunkSize === undefined ? {} : { chunkSize });
  return await collectMatrix(source);
}

export async function collectMatrix(source: MatrixSource): Promise<CscMatrix> {
  const whole = (source as { matrix?: CscMatrix }).matrix;
  if (whole) return whole;
  const chunks = await lastValueFrom(source.chunks().pipe(toArray()));
  if (chunks.length === 0) throw new DataError('EMPTY_INPUT', 'the source produced no chunks', { source: source.name });
  const m = chunks[0]!.m;
  const n = chunks.reduce((s, c) => s + c.n, 0);
  const nnz = chunks.reduce((s, c) => s + c.colPtr[c.n]!, 0);
  const colPtr = new Int32Array(n + 1), rowIdx = new Int32Array(nnz), values = new Float64Array(nnz);
  let j = 0, p = 0;
  for (const c of chunks) {
    const count = c.colPtr[c.n]!;
    rowIdx.set(c.rowIdx.subarray(0, count), p);
    values.set(c.values.subarray(0, count), p);
    for (let q = 1; q <= c.n; q++) colPtr[j + q] = p + c.colPtr[q]!;
    j += c.n;
    p += count;
  }
  return { m, n, colPtr, rowIdx, values };
}

function describe(modelPath: string, input: string, loss: string, e: ModelEvaluation): string[] {
  const f = (v: number | undefined, digits = 4): string => (v === undefined ? '–' : v.toFixed(digits));
  return [
    `nmflow eval ${modelPath} on ${input}: rank ${e.rank}, ${e.features} features × ${e.samples ?? '?'} samples, loss ${loss}`,
    `  relative loss          ${f(e.relativeLoss, 6)}` + (e.relativeL1Objective === undefined ? '' : `   relative L1 objective ${f(e.relativeL1Objective, 6)}`),
    `  sparsity of W          ${f(e.sparsityW)}   of H ${f(e.sparsityH)}   dead factors ${e.deadFactors}`,
    `  mean cosine (factors)  ${f(e.meanCosine)}   (diagonal included ${f(e.meanCosineWithDiagonal)})`,
    `  similarity to k-means  ${f(e.kmeansSimilarity)}   to the rank-1 model ${f(e.rankOneSimilarity)}`,
    `  sparsity per factor    ${e.sparsityPerFactor.map((s) => s.toFixed(2)).join(' ')}`,
  ];
}
