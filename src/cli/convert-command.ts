/**
 * `nmflow convert <input> <output> [--out-layout long|wide|list] [input layout flags]`: a matrix between
 * Matrix Market (.mtx, .mtx.gz), Parquet (.parquet) and Arrow IPC (.arrow file, .arrows stream), in any
 * table layout. Output layouts (0-based integer ids):
 *   long — feature int32, sample int32, value float64: one row per nonzero, ordered by sample;
 *   wide — one float64 column per feature (named by the input's feature names, else f0…f{m−1});
 *   list — indices list<int32>, values list<float64>: one row per sample.
 * The schema metadata records `nmflow.features` (m) and, when known before writing, `nmflow.samples` (n),
 * and `convert` reads them back, so trailing empty features and samples survive a round trip.
 * Parquet and Arrow inputs are streamed (one record batch at a time, pulled only when the previous one
 * has been written); a .mtx input is read into memory first, and a .mtx output is assembled in memory.
 */
import type { Command } from 'commander';
import { makeCscBuilder } from '../chunk/csc-builder.js';
import { makeCscChunk, nnzOf, type CscChunk } from '../chunk/csc-chunk.js';
import { DataError, OptionError } from '../errors.js';
import type { Format } from '../format/format.js';
import { toBatches } from '../format/chunk-batches.js';
import { formatsFor, formatToRead, formatToWrite } from '../format/registry.js';
import { openTableWriter } from '../io/write-table.js';
import { makeConverter } from '../source/batch-source.js';
import { defaultMemoryLimit, readerBudget } from '../memory-limit.js';
import { splitColumns, type CscMatrix } from '../source/from-csc.js';
import { columnsOf, resolveLayout } from '../source/layout.js';
import { Interrupted, untilSignal } from './interrupt.js';
import { addInputFlags, checkTableInputFlags, readWholeInput, sourceOptions, type InputFlags } from './open-input.js';
import { addTableFlags } from './parse-flags.js';

export { toBatches };
interface ConvertFlags extends InputFlags { outLayout?: string; json?: boolean; quiet?: boolean }


export function addConvertCommand(program: Command, print: (line: string) => void): void {
  const command = program.command('convert')
    .description('convert a matrix between .mtx, Parquet and Arrow IPC, in the long, wide or list layout')
    .argument('<input>', formatsFor('matrix'))
    .argument('<output>', `${formatsFor('matrix-out')} (written atomically)`)
    .option('--out-layout <layout>', "layout of a table output: 'long', 'wide' or 'list' (default: the input's; long for .mtx)")
    .option('--json', 'print one JSON line: samples, features, nonzeros, seconds, out')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', `
Examples:
  nmflow convert examples/data/hawaiibirds.mtx.gz birds.parquet                      # long
  nmflow convert examples/data/hawaiibirds.mtx.gz birds-wide.arrow --out-layout wide
  nmflow convert birds.parquet birds.mtx
  nmflow convert counts.parquet --layout long --feature gene --sample cell --value umi counts-list.arrows --out-layout list`)
    .action(async (input: string, output: string, flags: ConvertFlags) => { await runConvert(input, output, flags, print); });
  addTableFlags(command, 'source', ['chunkSize']); // samples per chunk: per output batch
  addInputFlags(command);
}

async function runConvert(input: string, output: string, flags: ConvertFlags, print: (line: string) => void): Promise<void> {
  // format/registry.ts: the output by its ending (a table, or a matrix written whole), the input by its ending or first bytes
  const writeMatrix = formatToWrite(output, 'matrix-out').writeMatrix;
  const from = formatToRead(input, 'matrix');
  const outLayout = flags.outLayout ?? (from.openTable ? flags.layout ?? 'long' : 'long');
  if (outLayout !== 'long' && outLayout !== 'wide' && outLayout !== 'list') throw new OptionError('--out-layout', "'long', 'wide' or 'list'", outLayout);
  const chunkSize = flags.chunkSize ?? 4096;
  if (chunkSize < 1) throw new OptionError('--chunk-size', 'an integer ≥ 1', chunkSize);
  const started = performance.now();
  const { m, n, featureNames, chunks } = await openChunks(input, from, flags, chunkSize);
  const collected = makeCscBuilder(m); // a matrix output (.mtx) is assembled in memory
  let samples = 0;
  let nonzeros = 0;
  const writer = writeMatrix ? undefined : await openTableWriter(output);
  try {
    await untilSignal(async (stopped) => {
      for await (const chunk of chunks) {
        const signal = stopped();
        if (signal) throw new Interrupted(signal);
        samples += chunk.n;
        nonzeros += nnzOf(chunk);
        if (!writer) { collected.append(chunk, input); continue; }
        for (const batch of toBatches(chunk, outLayout, m, n, featureNames)) await writer.write(batch);
      }
    });
    if (writer && writer.batches === 0) await writer.write(toBatches(emptyChunk(m), outLayout, m, n, featureNames)[0]!);
    await writer?.close();
  } catch (error) {
    await writer?.abort();
    if (error instanceof Interrupted) process.stderr.write(`nmflow: ${error.message}; stopped cleanly, nothing written\n`);
    throw error;
  }
  if (writeMatrix) await writeMatrix(output, collected.finish());
  const seconds = (performance.now() - started) / 1000;
  if (flags.quiet) return;
  if (flags.json) print(JSON.stringify({ samples, features: m, nonzeros, seconds, out: output }));
  else print(`nmflow convert ${input}: ${m} features × ${samples} samples, ${nonzeros} nonzeros → ${output}${writeMatrix ? '' : ` (${outLayout})`} in ${seconds.toFixed(3)} s`);
}

export interface Chunks { m: number; n: number | undefined; featureNames: readonly string[] | undefined; chunks: AsyncIterable<CscChunk> }

/** The input's chunks, pulled one at a time (a table input reads its next batch only when asked). */
export async function openChunks(input: string, format: Format, flags: InputFlags, chunkSize: number): Promise<Chunks> {
  if (!format.openTable) {
    const { matrix: A, featureNames } = await readWholeInput(input, flags);
    return { m: A.m, n: A.n, featureNames, chunks: splitMatrix(A, chunkSize) };
  }
  checkTableInputFlags(input, flags);
  let options = sourceOptions(flags);
  const meta = await format.tableMetadata!(input, format.openTable(input, options));
  const features = Number(meta.get('nmflow.features') ?? NaN);
  const samples = Number(meta.get('nmflow.samples') ?? NaN);
  if (options.layout !== 'wide' && Number.isInteger(features) && features > 0) options = { ...options, features };
  if (Number.isInteger(samples) && samples > 0) options = { ...options, samples };
  const source = format.openTable(input, options);
  const layout = resolveLayout(options);
  const info = await source.prepare();
  const budget = readerBudget(defaultMemoryLimit(), layout.chunkSize);
  budget.check(info.features ?? 0, info.samples ?? 0, { source: source.name });
  const converter = makeConverter(layout, info, false, budget)!;
  const chunks = async function* (): AsyncGenerator<CscChunk> {
    const it = source.batches(layout.layout === 'wide' ? info.columns : columnsOf(layout));
    let rows = 0;
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        rows += r.value.batch.numRows;
        yield* converter.push(r.value.batch, r.value.where);
      }
    } finally {
      await it.return?.();
    }
    if (rows === 0) throw new DataError('EMPTY_INPUT', 'the input has no rows', { source: input });
    yield* converter.finish();
  };
  return { m: info.features ?? info.columns!.length, n: info.samples, featureNames: info.featureNames, chunks: chunks() };
}

/** Column blocks of an in-memory matrix, as chunks that view its arrays. */
export async function* splitMatrix(A: CscMatrix, chunkSize: number): AsyncGenerator<CscChunk> {
  yield* splitColumns(A, chunkSize);
}

const emptyChunk = (m: number): CscChunk => makeCscChunk({ m, colStart: 0, colPtr: new Int32Array(1), rowIdx: new Int32Array(0), values: new Float64Array(0) });
