/**
 * `nmflow project <model> <input> --out <output.parquet|.arrow|.arrows>`: the codes H of the input's
 * samples with the model's W fixed (the ETL stage: pipeline/project.ts), written as a table with the
 * kept input columns and factor_0…factor_{k−1}.
 * Parquet and Arrow inputs are streamed: one record batch is pulled, projected and written before the
 * next is read, so memory is one batch plus the Parquet writer's row group. A .mtx input is read into
 * memory and gives one row per sample: `sample` (its name — a 10x folder's barcode, `--sample-names` — else its
 * 0-based index) and the factors; its features are matched to the model's by name when both have names.
 * Prints one summary line, or with --json one JSON line {samples, seconds, out}.
 */
import type { Command } from 'commander';
import { Field, Int32, Utf8, makeData, vectorFromArray, type Data, type RecordBatch } from 'apache-arrow';
import { Subject } from 'rxjs';
import { DataError, OptionError } from '../errors.js';
import { readModel } from '../io/model-file.js';
import { openTableWriter, tableFormatOf, type TableWriter } from '../io/write-table.js';
import { availableParallelism } from 'node:os';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { makeProjectPool } from '../parallel/project-pool.js';
import { autoParallelNnz, project, toBatch, type ProjectOptions } from '../pipeline/project.js';
import { namedFeatures, unnamedDataMessage } from '../pipeline/feature-names.js';
import { columnsOf, resolveLayout } from '../source/layout.js';
import type { CscMatrix } from '../source/from-csc.js';
import { makeProjector, type ProjectionOptions } from '../model/project.js';
import { splitMatrix } from './convert-command.js';
import { formatsFor, formatToRead } from '../format/registry.js';
import { validate } from '../options/validate.js';
import { Interrupted, untilSignal } from './interrupt.js';
import { addInputFlags, checkTableInputFlags, readWholeInput, sourceOptions, type InputFlags } from './open-input.js';
import { addTableFlags } from './parse-flags.js';
import { addStreamWorkerFlags, runProjectWorkerCommand, type StreamWorkerFlags } from './project-stream.js';

interface ProjectFlags extends InputFlags, StreamWorkerFlags {
  out?: string;
  passThrough?: string;
  replaceFeatures?: boolean;
  unknownFeatures?: string;
  lambda?: number;
  l1?: number;
  l2?: number;
  batchSize?: number;
  rowGroupSize?: number;
  threads?: number;
  json?: boolean;
  quiet?: boolean;
}

export function addProjectCommand(program: Command, print: (line: string) => void): void {
  const command = program.command('project')
    .description('codes of new samples with W fixed: a table with the kept input columns and factor_0…factor_{k−1}')
    .argument('[model]', `a model written by \`nmflow fit --out\`: ${formatsFor('model')} (not with --from-jetstream)`)
    .argument('[input]', `${formatsFor('matrix')} (not with --from-jetstream)`)
    .option('-o, --out <output>', `the output table: ${formatsFor('table-out')} (written atomically)`)
    .option('--json', 'print one JSON line: samples, seconds, out')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', `
Examples:
  nmflow project model.arrow examples/data/hawaiibirds.mtx.gz --out codes.parquet
  nmflow project model.parquet cells.parquet --layout long --feature gene --sample cell --value umi --out codes.arrows
  nmflow project model.csv table.parquet --layout wide --pass-through id,ts --replace-features --out codes.parquet
  nmflow project model.arrow data.mtx --out codes.arrow --json
  nmflow project --from-jetstream --nats nats://127.0.0.1:4222 --stream BIRDS --subject birds.in --durable proj \\
    --model-bucket models --to-subject birds.codes        # a worker: start N of them on the same --durable`)
    .action(async (modelPath: string | undefined, input: string | undefined, flags: ProjectFlags) => { await runProject(modelPath, input, flags, print); });
  addStreamWorkerFlags(command);
  // The options' flags: names, parsers and help from the options table (options/table-data.ts)
  addTableFlags(command, 'project', ['passThrough', 'replaceFeatures', 'unknownFeatures', 'lambda', 'l1', 'l2', 'threads']);
  addTableFlags(command, 'source', ['batchSize']);
  addTableFlags(command, 'tableWriter', ['rowGroupSize']);
  addInputFlags(command);
}

async function runProject(modelPath: string | undefined, input: string | undefined, flags: ProjectFlags, print: (line: string) => void): Promise<void> {
  if (flags.fromJetstream) {
    flags.layout ??= 'list'; // what `nmflow stream publish` writes
    if (modelPath !== undefined || flags.out !== undefined) throw new OptionError('--from-jetstream', 'no model file, input or --out (the model comes from --model-bucket, the input from --subject, the output goes to --to-subject)', modelPath ?? flags.out);
  } else {
    if (modelPath === undefined || input === undefined) throw new OptionError('<model> <input>', 'a model file and an input (or --from-jetstream)', modelPath);
    if (flags.out === undefined) throw new OptionError('--out', 'the output table (required without --from-jetstream)', undefined);
    tableFormatOf(flags.out);
  }
  const penalties: ProjectionOptions = {
    ...(flags.lambda === undefined ? {} : { lambda: flags.lambda }), ...(flags.l1 === undefined ? {} : { l1: flags.l1 }),
    ...(flags.l2 === undefined ? {} : { l2: flags.l2 }),
  };
  const passThrough = flags.passThrough?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const read = { ...sourceOptions(flags), ...(flags.batchSize === undefined ? {} : { batchSize: flags.batchSize }) };
  // the reader's own options (chunkSize, batchSize) are not the operator's
  const { chunkSize: _chunkSize, batchSize: _batchSize, unknownFeatures: _unknown, ...layoutOptions } = read;
  const options: ProjectOptions = {
    ...layoutOptions, ...penalties, ...(flags.unknownFeatures === undefined ? {} : { unknownFeatures: flags.unknownFeatures as 'error' | 'ignore' }), name: input ?? `JetStream ${flags.stream ?? ''} ${flags.subject ?? ''}`, ...(flags.threads === undefined ? {} : { threads: flags.threads }),
    ...(passThrough ? { passThrough } : {}), ...(flags.replaceFeatures ? { replaceFeatures: true } : {}),
  };
  validate('project', options); // bad options are usage errors, before anything is read (options/table-data.ts)
  if (flags.fromJetstream) { await runProjectWorkerCommand(options, flags, print); return; }
  if (modelPath === undefined || input === undefined || flags.out === undefined) return; // checked above
  const model = await readModel(modelPath);
  const operator = project(model, options);
  const started = performance.now();
  const writer = await openTableWriter(flags.out, flags.rowGroupSize === undefined ? {} : { rowGroupSize: flags.rowGroupSize });
  try {
    const format = formatToRead(input, 'matrix'); // format/registry.ts: by the ending, else by the first bytes
    if (!format.openTable) await projectMatrix(await readWholeInput(input, flags), input, model, penalties, writer, flags);
    else {
      checkTableInputFlags(input, flags);
      const source = format.openTable(input, read);
      const layout = resolveLayout(read);
      const needed = layout.layout === 'wide' && !layout.columns ? undefined : passThrough && [...new Set([...columnsOf(layout)!, ...passThrough])];
      const columns = layout.layout === 'long' ? needed ?? columnsOf(layout) : needed;
      // The operator is synchronous: each batch pushed into the subject has been projected when next() returns.
      const batches = new Subject<RecordBatch>();
      const ready: RecordBatch[] = [];
      let failure: { error: unknown } | undefined;
      batches.pipe(operator).subscribe({ next: (b) => ready.push(b), error: (error: unknown) => { failure = { error }; } });
      const flush = async (): Promise<void> => {
        if (failure) throw failure.error;
        for (const b of ready.splice(0)) await writer.write(b);
      };
      await untilSignal(async (stopped) => {
        const it = source.batches(columns);
        try {
          for (let r = await it.next(); !r.done && !stopped(); r = await it.next()) {
            batches.next(r.value.batch);
            await flush();
          }
        } finally {
          await it.return?.();
        }
        if (!stopped()) batches.complete();
        await flush();
      });
    }
    if (writer.batches === 0) throw new DataError('EMPTY_INPUT', 'the input has no rows', { source: input });
    await writer.close();
  } catch (error) {
    await writer.abort();
    if (error instanceof Interrupted) process.stderr.write(`nmflow: ${error.message}; stopped cleanly, nothing written\n`);
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  if (flags.quiet) return;
  if (flags.json) print(JSON.stringify({ samples: writer.rows, seconds, out: flags.out }));
  else print(`nmflow project ${input}: ${writer.rows} samples, rank ${model.rank} (${model.loss}) → ${flags.out} in ${seconds.toFixed(3)} s`);
}

/** A matrix input read whole (.mtx, 10x): blocks of samples, each written as `sample` (name, else index) + the factors. */
async function projectMatrix(input: Awaited<ReturnType<typeof readWholeInput>>, path: string, model: Awaited<ReturnType<typeof readModel>>, penalties: ProjectionOptions,
  writer: TableWriter, flags: ProjectFlags): Promise<void> {
  const threadsFlag = flags.threads;
  const A = matchedRows(input, path, model, flags.unknownFeatures === 'ignore');
  if (A.m !== model.features) {
    throw new DataError('SHAPE_MISMATCH', `the matrix has ${A.m} features; the model has ${model.features}`, { source: path });
  }
  const threads = threadsFlag ?? (A.values.length >= autoParallelNnz(model) ? availableParallelism() : 1);
  const pool = threads > 1 ? makeProjectPool(model, penalties, threads) : undefined;
  const solve = pool ? (chunk: CscChunk) => pool.project(chunk) : makeProjector(model, penalties);
  const names = input.sampleNames;
  const field = names ? new Field('sample', new Utf8(), false) : new Field('sample', new Int32(), false);
  try {
    await pool?.ready;
    await untilSignal(async (stopped) => {
      for await (const chunk of splitMatrix(A, 65536)) {
        if (stopped()) return;
        const columns: Data[] = [names
          ? vectorFromArray(names.slice(chunk.colStart, chunk.colStart + chunk.n), new Utf8()).data[0]!
          : makeData({ type: new Int32(), length: chunk.n, nullCount: 0, data: Int32Array.from({ length: chunk.n }, (_, j) => chunk.colStart + j) })];
        const where = { source: path, batch: chunk.position, rowOffset: chunk.colStart, unit: 'record batch' as const };
        await writer.write(toBatch({ chunk, fields: [field], columns }, solve(chunk), model.rank, where));
      }
    });
  } finally {
    pool?.close();
  }
}

/**
 * The input's rows in the model's feature order. An unnamed input (or model) is taken in its own order; with
 * names on both sides, each model feature is looked up by name: one the input lacks is all zero, an input feature
 * the model lacks is an error (SCHEMA_MISMATCH naming it) unless `--unknown-features ignore`.
 */
function matchedRows(input: Awaited<ReturnType<typeof readWholeInput>>, path: string, model: Awaited<ReturnType<typeof readModel>>, ignoreUnknown: boolean): CscMatrix {
  const A = input.matrix;
  const dataNames = input.featureNames;
  const named = namedFeatures(model.featureNames);
  if (named && dataNames === undefined) throw new DataError('SCHEMA_MISMATCH', unnamedDataMessage(named, 'the rows of a Matrix Market file (no names: give --feature-names)'), { source: path });
  if (!named || dataNames === undefined || dataNames.every((name, i) => model.featureNames[i] === name) && dataNames.length === model.features) return A;
  const index = new Map(model.featureNames.map((name, i) => [name, i]));
  const rowOf = dataNames.map((name) => index.get(name) ?? -1);
  const unknown = rowOf.indexOf(-1);
  if (unknown >= 0 && !ignoreUnknown) {
    throw new DataError('SCHEMA_MISMATCH', `feature ${JSON.stringify(dataNames[unknown])} (row ${unknown + 1}) is not one of the model's ${model.features} features (--unknown-features ignore drops such rows)`, { source: path, feature: unknown });
  }
  const colPtr = new Int32Array(A.n + 1);
  const rowIdx: number[] = [];
  const values: number[] = [];
  for (let j = 0; j < A.n; j++) {
    const entries: [number, number][] = [];
    for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) {
      const row = rowOf[A.rowIdx[p]!]!;
      if (row >= 0) entries.push([row, A.values[p]!]);
    }
    entries.sort((a, b) => a[0] - b[0]);
    for (const [row, v] of entries) { rowIdx.push(row); values.push(v); }
    colPtr[j + 1] = rowIdx.length;
  }
  return { m: model.features, n: A.n, colPtr, rowIdx: Int32Array.from(rowIdx), values: Float64Array.from(values) };
}
