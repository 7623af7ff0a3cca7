/**
 * nmflow — streaming nonnegative matrix factorization.
 *
 * Data flows  source → chunk → model (kernel) → snapshot, driven by pipeline/ (docs/architecture.md):
 *   source/   where chunks come from (in-memory CSC or dense, Matrix Market, Arrow, Parquet)
 *   chunk/    the CscChunk type (consecutive samples = columns of A, in CSC) and its validation
 *   kernel/   pure typed-array math: Gram, sparse right-hand sides, exact NNLS, weighted medians, sCD
 *   model/    engine contracts, the family records (families.ts), l2/ and l1/: state, step, end of pass, online
 *   snapshot/ what leaves the library: immutable copies of the model
 *   pipeline/ the RxJS wiring: fit (multi-pass), fitModel, fitOnline
 *   parallel/ worker threads sharing W, H and the statistics (l2)
 *   diagnostics/, report/  sparsity, angles, model matching, k-means / rank-1 similarity; the HTML report
 *             (report/ is `nmflow/report`, a separate entry: its charting libraries load only when a chart is drawn)
 *   cli/      the command-line tool
 * Start reading at pipeline/fit.ts, then model/families.ts, model/l2/engine.ts and kernel/nnls-solve.ts.
 */

// Errors
export { NmfError, OptionError, DataError, ClusterError, type NmfErrorCode, type DataLocation } from './errors.js';

// Options
export type { FitOptions, Loss, InitMethod, MaskFitOptions, TestZeros } from './options.js';

// Sources
export type { MatrixSource } from './source/matrix-source.js';
export { fromCsc, fromDense, type CscMatrix, type InMemoryOptions } from './source/from-csc.js';
export { fromMtx, loadMtx, type MtxOptions } from './source/from-mtx.js';
export { readMtx } from './source/read-mtx.js';
export { writeMtx } from './format/write-mtx.js';
export { readCsvMatrix, type DenseMatrix } from './source/read-csv-matrix.js';
export { fromArrow, type ArrowInput } from './source/from-arrow.js';
export { fromParquet, type ParquetInput } from './source/from-parquet.js';
export type { FileSource, SourceBatch } from './source/batch-source.js';
export type { Layout, LongLayout, WideLayout, ListLayout, SourceOptions } from './source/layout.js';

// Chunks
export { makeCscChunk, type CscChunk } from './chunk/csc-chunk.js';
export type { DataFingerprint } from './chunk/data-fingerprint.js';
export { checkChunk } from './chunk/check-chunk.js';

// Fitting
export { fit, fitModel } from './pipeline/fit.js';
export { fitOnline, type OnlineOptions } from './pipeline/fit-online.js';
// Scale-out, live streams and the ETL stage on NATS JetStream (issue #14) are the subpath export `nmflow/cluster`
// (src/cluster/index.ts): the NATS client loads only when asked for.
export { crossValidate, CV_TEST_FRACTION, type CrossValidateOptions, type CvEvent, type CvPoint, type CvFit, type CvTable } from './pipeline/cross-validate.js';
export { cvTable, parseRanks } from './pipeline/cv-table.js';
export { fitAutoRank, searchRank, type AutoRankOptions, type AutoRankResult } from './pipeline/auto-rank.js';
export { isHeldOut } from './kernel/holdout.js';
export { nndsvdStart, randomizedSvd, type NndsvdStart, type NndsvdStartOptions, type RandomizedSvdOptions } from './pipeline/nndsvd-start.js';
export type { SvdResult } from './model/svd/sketch.js';
export { projectChunk, makeProjector, type ProjectionModel, type ProjectionOptions } from './model/project.js';
export { project, type ProjectOptions, type ProjectModel, type ProjectExtras } from './pipeline/project.js';

// Snapshots and model files
export type { Snapshot, Model, Diagnostics, TracePoint } from './snapshot/snapshot.js';
export { writeModel, readModel, writeFactorsH, type StoredModel } from './io/model-file.js';
export { openTableWriter, writeTable, tableFormatOf, type TableWriter, type TableWriterOptions, type TableFormat } from './io/write-table.js';

// Diagnostics (the HTML report is the subpath export `nmflow/report`: src/report/index.ts)
export * from './diagnostics/index.js';

// Kernels (for benchmarks and advanced use)
export { makeRandom, type Random } from './kernel/random.js';

// A source that is a position in a durable log (fromJetStream of `nmflow/cluster`)
export type { LogPosition, LogSource } from './source/matrix-source.js';
