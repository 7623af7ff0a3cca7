/**
 * The file formats nmflow reads and writes, one entry each (format.ts says what an entry holds; registry.ts picks
 * one for a path). Readers are in source/, the Matrix Market writer here (write-mtx.ts), the table encoders in
 * io/write-table.ts and the model files in io/model-file.ts.
 */
import { fromArrow } from '../source/from-arrow.js';
import { loadMtx } from '../source/from-mtx.js';
import { fromParquet } from '../source/from-parquet.js';
import { readMtx } from '../source/read-mtx.js';
import { startsWith, type Format, type MatrixMemory } from './format.js';
import type { SourceOptions } from '../source/layout.js';
import { tenxFiles } from '../source/names-file.js';
import { arrowMetadata, parquetMetadata } from './table-metadata.js';
import { writeMtx } from './write-mtx.js';

/** An Arrow IPC stream begins with a message: the continuation marker 0xFFFFFFFF (format 0.15 on). */
const isIpcStream = (head: Uint8Array): boolean => head.length >= 4 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff;
/** gzip's magic bytes: a gzipped file here is a Matrix Market file (source/read-mtx.ts gunzips by them). */
const isGzip = (head: Uint8Array): boolean => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/** A Matrix Market file or a 10x folder / triplet, read whole (from-mtx.ts), with its names and orientation. */
const openMtx = (path: string, options: SourceOptions, memory?: MatrixMemory): ReturnType<typeof loadMtx> => loadMtx(path, {
  ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
  ...(memory?.memoryLimit === undefined ? {} : { memoryLimit: memory.memoryLimit }),
  ...(memory?.featureNames === undefined ? {} : { featureNames: memory.featureNames }),
  ...(memory?.sampleNames === undefined ? {} : { sampleNames: memory.sampleNames }),
  ...(memory?.transpose ? { transpose: true } : {}),
  ...(memory?.missing === undefined ? {} : { missing: memory.missing }),
}, memory?.budget);

export const FORMATS: readonly Format[] = [
  {
    name: 'mtx', title: 'Matrix Market', extensions: ['.mtx', '.mtx.gz'], writtenExtensions: ['.mtx'],
    magic: (head) => startsWith(head, '%%MatrixMarket') || isGzip(head),
    openMatrix: openMtx,
    readMatrix: (path) => readMtx(path),
    writeMatrix: writeMtx,
  },
  {
    // A folder with matrix.mtx[.gz], features.tsv[.gz] (or genes.tsv[.gz]) and barcodes.tsv[.gz] (source/names-file.ts)
    name: '10x', title: '10x Genomics folder', extensions: [], directories: true, claimsDirectory: (path) => tenxFiles(path) !== undefined,
    openMatrix: openMtx,
    readMatrix: async (path) => (await loadMtx(path)).matrix,
  },
  {
    name: 'parquet', title: 'Parquet', extensions: ['.parquet'], directories: true,
    magic: (head) => startsWith(head, 'PAR1'),
    openMatrix: async (path, options) => fromParquet(path, options), openTable: fromParquet, tableMetadata: parquetMetadata,
    writesTables: true, holdsModels: true,
  },
  {
    name: 'arrow', title: 'Arrow IPC file', extensions: ['.arrow', '.feather', '.ipc'],
    magic: (head) => startsWith(head, 'ARROW1'),
    openMatrix: async (path, options) => fromArrow(path, options), openTable: fromArrow, tableMetadata: arrowMetadata,
    writesTables: true, holdsModels: true,
  },
  {
    name: 'arrows', title: 'Arrow IPC stream', extensions: ['.arrows'], magic: isIpcStream,
    openMatrix: async (path, options) => fromArrow(path, options), openTable: fromArrow, tableMetadata: arrowMetadata,
    writesTables: true,
  },
  {
    name: 'csv', title: 'CSV model', extensions: ['.csv'], magic: (head) => startsWith(head, '# nmflow model') || startsWith(head, 'feature,factor_'),
    holdsModels: true,
  },
];
