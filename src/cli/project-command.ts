/**
 * `nmflow project <model> <input> --out <output.parquet|.arrow|.arrows>`: the codes H of the input's
 * samples with the model's W fixed (the ETL stage: pipeline/project.ts), written as a table with the
 * kept input columns and factor_0…factor_{k−1}.
 * Parquet and Arrow inputs are streamed: one record batch is pulled, projected and written before the
 * next is read, so memory is one batch plus the Parquet writer's row group. A .mtx input is read into
 * memory and gives one row per sample: `sample` (0-based index) and the factors.
 * Prints one summary line, or with --json one JSON line {samples, seconds, out}.
 */
import type { Command } from 'commander';
import { Field, Int32, makeData, type Data, type RecordBatch } from 'apache-arrow';
import { Subject } from 'rxjs';
import { DataError, OptionError } from '../errors.js';
import { readModel } from '../io/model-file.js';
import { openTableWriter, tableFormatOf, type TableWriter } from '../io/write-table.js';
import { availableParallelism } from 'node:os';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { makeProjectPool } from '../parallel/project-pool.js';
import { autoParallelNnz, project, toBatch, type ProjectOptions } from '../pipeline/project.js';
import { columnsOf, resolveLayout } from '../source/layout.js';
import { readMtx } from '../source/read-mtx.js';
import { makeProjector, type ProjectionOptions } from '../model/project.js';
import { splitMatrix, tableSource, untilSignal } from './convert-command.js';
import { Interrupted } from './interrupt.js';
import { addInputFlags, sourceOptions, type InputFlags } from './open-input.js';
import { parseInteger, parseNumber } from './parse-flags.js';

interface ProjectFlags extends InputFlags {
  out: string;
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
    .argument('<model>', 'a model written by `nmflow fit --out` (.csv, .arrow or .parquet)')
    .argument('<input>', 'a .parquet (or a directory of parts), .arrow, .arrows or .mtx / .mtx.gz file')
    .requiredOption('-o, --out <output>', 'the output table: .parquet, .arrow or .arrows (written atomically)')
    .option('--pass-through <cols>', 'comma-separated input columns to keep (default: wide/list every column, long only the sample id)')
    .option('--replace-features', 'wide/list: leave the feature (index/value list) columns out of the output')
    .option('--unknown-features <policy>', "a feature the model does not have: 'error' (default) or 'ignore'")
    .option('--lambda <λ>', 'l1 models: weight of the zero entries (default 1)', parseNumber('--lambda'))
    .option('--l1 <h>', 'l2 models: L1 penalty on the codes, in [0, 1) (default 0)', parseNumber('--l1'))
    .option('--l2 <h>', 'l2 models: L2 penalty on the codes, ≥ 0 (default 0)', parseNumber('--l2'))
    .option('--batch-size <N>', 'rows per record batch read from Parquet (default 65536)', parseInteger('--batch-size'))
    .option('--row-group-size <N>', 'rows per Parquet row group written (default 65536)', parseInteger('--row-group-size'))
    .option('--threads <N>', 'threads solving each batch (default: the available cores for batches of ≥ 200 000 nonzeros, l1 models 20 000; 1 = no workers)', parseInteger('--threads'))
    .option('--json', 'print one JSON line: samples, seconds, out')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', `
Examples:
  nmflow project model.arrow ../shared/fixtures/hawaiibirds-long-snappy.parquet --out codes.parquet
  nmflow project model.parquet cells.parquet --layout long --feature gene --sample cell --value umi --out codes.arrows
  nmflow project model.csv table.parquet --layout wide --pass-through id,ts --replace-features --out codes.parquet
  nmflow project model.arrow data.mtx --out codes.arrow --json`)
    .action(async (modelPath: string, input: string, flags: ProjectFlags) => { await runProject(modelPath, input, flags, print); });
  addInputFlags(command, parseInteger('--index-base'));
}

async function runProject(modelPath: string, input: string, flags: ProjectFlags, print: (line: string) => void): Promise<void> {
  tableFormatOf(flags.out);
  const unknown = flags.unknownFeatures ?? 'error';
  if (unknown !== 'error' && unknown !== 'ignore') throw new OptionError('--unknown-features', "'error' or 'ignore'", unknown);
  const penalties: ProjectionOptions = {
    ...(flags.lambda === undefined ? {} : { lambda: flags.lambda }), ...(flags.l1 === undefined ? {} : { l1: flags.l1 }),
    ...(flags.l2 === undefined ? {} : { l2: flags.l2 }),
  };
  const passThrough = flags.passThrough?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const read = { ...sourceOptions(flags), ...(flags.batchSize === undefined ? {} : { batchSize: flags.batchSize }) };
  const options: ProjectOptions = {
    ...read, ...penalties, unknownFeatures: unknown, name: input, ...(flags.threads === undefined ? {} : { threads: flags.threads }),
    ...(passThrough ? { passThrough } : {}), ...(flags.replaceFeatures ? { replaceFeatures: true } : {}),
  };
  const model = await readModel(modelPath);
  const operator = project(model, options); // bad options are usage errors, before anything is read
  const started = performance.now();
  const writer = await openTableWriter(flags.out, flags.rowGroupSize === undefined ? {} : { rowGroupSize: flags.rowGroupSize });
  try {
    if (/\.mtx(\.gz)?$/i.test(input)) await projectMatrix(input, model, penalties, writer, flags.threads);
    else {
      const source = tableSource(input, read);
      if (!source) throw new OptionError('input', 'a .parquet (or a directory of them), .arrow, .arrows, .mtx or .mtx.gz file', input);
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

/** A .mtx input (in memory): blocks of samples, each written as `sample` + the factors. */
async function projectMatrix(input: string, model: Awaited<ReturnType<typeof readModel>>, penalties: ProjectionOptions,
  writer: TableWriter, threadsFlag: number | undefined): Promise<void> {
  const A = await readMtx(input);
  if (A.m !== model.features) {
    throw new DataError('SHAPE_MISMATCH', `the matrix has ${A.m} features; the model has ${model.features}`, { source: input });
  }
  const threads = threadsFlag ?? (A.values.length >= autoParallelNnz(model) ? availableParallelism() : 1);
  const pool = threads > 1 ? makeProjectPool(model, penalties, threads) : undefined;
  const solve = pool ? (chunk: CscChunk) => pool.project(chunk) : makeProjector(model, penalties);
  const field = new Field('sample', new Int32(), false);
  try {
    await pool?.ready;
    await untilSignal(async (stopped) => {
      for await (const chunk of splitMatrix(A, 65536)) {
        if (stopped()) return;
        const ids = Int32Array.from({ length: chunk.n }, (_, j) => chunk.colStart + j);
        const columns: Data[] = [makeData({ type: new Int32(), length: chunk.n, nullCount: 0, data: ids })];
        const where = { source: input, batch: chunk.position, rowOffset: chunk.colStart, unit: 'record batch' as const };
        await writer.write(toBatch({ chunk, fields: [field], columns }, solve(chunk), model.rank, where));
      }
    });
  } finally {
    pool?.close();
  }
}
