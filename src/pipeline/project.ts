/**
 * project(model, options): OperatorFunction<RecordBatch, RecordBatch> — the ETL stage (docs/architecture.md, Projection).
 * Each incoming record batch (in one of the source layouts, layout.ts) becomes CSC samples; their codes
 * are solved with W fixed (makeProjector: exact NNLS for l2, sCD for l1, the fit's penalties) and a
 * record batch goes out with the kept input columns and k float64 columns `factor_0…factor_{k−1}`.
 *
 * - wide / list: one output row per input row; kept columns default to every input column (the factors
 *   are appended), `replaceFeatures` drops the feature (or index/value list) columns. Wide feature columns
 *   are the layout's `features`, else every numeric column not named in `passThrough`. Output for batch b
 *   is emitted when batch b arrives (a 0-row batch gives a 0-row batch).
 * - long: one output row per sample: the sample id column, then `passThrough` columns taken from the
 *   sample's first row. A sample is emitted once a row of another sample (or the end) is seen, so a
 *   sample straddling batches is carried over, as in the sources; a batch that completes no sample emits
 *   nothing. Integer sample ids must be nondecreasing (UNSORTED_INPUT); string ids are only assumed
 *   contiguous — checking that would take memory for every id ever seen, and a repeated id gives a
 *   second output row.
 * Features are matched by name whenever the model has names: string ids (long) and wide column names are
 * looked up in `featureNames` (default: the model's), in any order; a model feature the data lacks counts as
 * zero; a data feature the model lacks is an error (default) or ignored (`unknownFeatures`). Integer ids
 * are indices (id − indexBase), and a wide table none of whose feature columns carries a model name (e.g.
 * f0…f182) is matched by position when it has exactly m of them — both only for a model without names
 * (none, or the indices "0"…"m−1" a model file gives an unnamed fit): against a named model, data without
 * feature names (integer ids, lists, unnamed wide columns) is SCHEMA_MISMATCH, never matched by position.
 *
 * State (the carried sample, the projector's workspace) is created per subscription; processing is
 * synchronous per batch (an output batch is emitted before the upstream's `next` returns); a bad batch errors with a DataError naming the batch, the row and the column,
 * and nothing follows it; unsubscribing unsubscribes the upstream.
 *
 * The plan (options checked, the column plan of wide / list tables): project-plan.ts; record batches →
 * samples as CSC chunks: project-batches.ts.
 */
import { Field, Float64, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { availableParallelism } from 'node:os';
import { concat, defer, finalize, mergeMap, type OperatorFunction } from 'rxjs';
import { dataError, type BatchWhere } from '../chunk/arrow-column.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { DataError, NmfError } from '../errors.js';
import type { Layout } from '../source/layout.js';
import { makeProjector, type ProjectionModel, type ProjectionOptions } from '../model/project.js';
import { makeProjectPool, type ProjectPool } from '../parallel/project-pool.js';
import { familyOf } from '../model/families.js';
import { longProjector, tableProjector, type Projected } from './project-batches.js';
import { resolvePlan } from './project-plan.js';

export interface ProjectExtras extends ProjectionOptions {
  /** Input columns copied to the output. Default: wide / list every column; long none (the sample id is always kept). */
  readonly passThrough?: readonly string[];
  /** wide / list: leave the feature (or index / value list) columns out of the output. Default false. */
  readonly replaceFeatures?: boolean;
  /** Names that string feature ids and wide column names are matched against. Default: the model's featureNames. */
  readonly featureNames?: readonly string[];
  /** A feature the model does not have: 'error' (default) or 'ignore' (it contributes nothing). */
  readonly unknownFeatures?: 'error' | 'ignore';
  /** First integer id of features (default 0; 1 for ids copied from a .mtx). */
  readonly indexBase?: 0 | 1;
  /** Name in error messages (default "record batches"). */
  readonly name?: string;
  /**
   * Threads solving each batch's samples (the main thread + workers). Default: the available cores,
   * for batches of ≥ 200 000 nonzeros (l1 models: 20 000), the workers started by the first such batch; a number > 1
   * starts them at subscription and splits every batch of ≥ 2 samples. Batches that arrive before the
   * workers are up are solved on the calling thread. The codes are the same bytes for any thread count.
   */
  readonly threads?: number;
}

export type ProjectOptions = Layout & ProjectExtras;
export type ProjectModel = ProjectionModel & { readonly featureNames?: readonly string[] | undefined };

/** The ETL operator: record batches of samples in, the same rows with `factor_0…` (their codes with the model's W fixed) out. Bad options throw an OptionError synchronously; bad data goes to the error channel. */
export function project(model: ProjectModel, options: ProjectOptions): OperatorFunction<RecordBatch, RecordBatch> {
  const plan = resolvePlan(model, options);
  const penalties = penaltiesOf(options);
  makeProjector(model, penalties); // bad penalties throw here, before anything is subscribed
  const name = options.name ?? 'record batches'; // checked by resolvePlan
  // Built from RxJS's own operators (defer, mergeMap, concat), so that unsubscribing downstream closes the
  // upstream subscriber at once, even in the middle of a synchronous upstream.
  const threads = options.threads; // checked by resolvePlan
  return (batches$) => defer(() => {
    // Workers start in the background (with `threads` > 1 at subscription, by default at the first large
    // batch); until they are ready, batches are solved here — the upstream is never held back or buffered,
    // and the codes are the same bytes either way.
    let pool: ProjectPool | undefined;
    let poolReady = false;
    let poolFailure: unknown;
    const startPool = (count: number): ProjectPool => {
      const started = makeProjectPool(model, penalties, count);
      started.ready.then(() => { poolReady = true; }, (error: unknown) => { poolFailure = error; });
      return started;
    };
    if (threads !== undefined && threads > 1) pool = startPool(threads);
    const auto = threads === undefined ? Math.max(1, availableParallelism()) : 1;
    const solveHere = makeProjector(model, penalties);
    const solve = (chunk: CscChunk): Float64Array => {
      const nnz = chunk.colPtr[chunk.n]!;
      const large = nnz >= autoParallelNnz(model);
      if (pool === undefined && auto > 1 && large) pool = startPool(auto);
      if (poolFailure !== undefined && threads !== undefined) throw poolFailure;
      const parallel = poolReady && chunk.n > 1 && (threads !== undefined || large);
      return parallel ? pool!.project(chunk) : solveHere(chunk);
    };
    const projector = longProjector(plan) ?? tableProjector(plan);
    let index = 0;
    let rowOffset = 0;
    let where: BatchWhere = { source: name, batch: 0, rowOffset: 0, unit: 'record batch' };
    const step = (take: () => Projected | null): RecordBatch[] => {
      try {
        const got = take();
        return got ? [toBatch(got, solve(got.chunk), plan.k, where)] : [];
      } catch (error) {
        throw asDataError(error, where);
      }
    };
    const each = batches$.pipe(mergeMap((batch) => {
      where = { source: name, batch: index++, rowOffset, unit: 'record batch' };
      rowOffset += batch.numRows;
      return step(() => projector.push(batch, where));
    }));
    return concat(each, defer(() => step(() => projector.finish()))).pipe(finalize(() => pool?.close()));
  });
}

/**
 * Nonzeros in a batch from which the default `threads` splits it: below, the copy into shared memory
 * and the barrier cost more than they save (bench:threads --only-project: an l2 model gains ×1.9 on a
 * batch of 10⁶ nonzeros and loses on one of 75 000; an l1 model, ~10× the work per nonzero, gains on both).
 */
export function autoParallelNnz(model: ProjectionModel): number {
  return familyOf(model.loss).parallelProjectionNnz;
}

function penaltiesOf(o: ProjectionOptions): ProjectionOptions {
  return {
    ...(o.l1 === undefined ? {} : { l1: o.l1 }), ...(o.l2 === undefined ? {} : { l2: o.l2 }),
    ...(o.lambda === undefined ? {} : { lambda: o.lambda }), ...(o.maxSweeps === undefined ? {} : { maxSweeps: o.maxSweeps }),
  };
}

/** The output batch: kept columns, then factor_0…factor_{k−1} (H is k × n row-major). */
export function toBatch(got: Projected, H: Float64Array, k: number, where: BatchWhere): RecordBatch {
  const n = got.chunk.n;
  const fields = [...got.fields];
  const children = [...got.columns];
  for (let a = 0; a < k; a++) {
    const name = `factor_${a}`;
    if (fields.some((f) => f.name === name)) throw dataError('SCHEMA_MISMATCH', `the input already has a column "${name}"; leave it out of passThrough`, where, undefined, name);
    fields.push(new Field(name, new Float64(), false));
    children.push(makeData({ type: new Float64(), length: n, nullCount: 0, data: H.subarray(a * n, (a + 1) * n) }));
  }
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
}

function asDataError(error: unknown, where: BatchWhere): NmfError {
  if (error instanceof NmfError) return error;
  return new DataError('MALFORMED_CHUNK', `cannot project ${where.unit} ${where.batch}: ${(error as Error).message}`,
    { source: where.source, batch: where.batch, row: where.rowOffset }, error);
}
