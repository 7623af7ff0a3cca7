/**
 * The schema metadata of a table input — where `convert` records `nmflow.features` (m) and `nmflow.samples` (n)
 * so that trailing empty features and samples survive a round trip (cli/convert-command.ts): from the Parquet
 * footer's key-value metadata (of the first part file), or from the first record batch of an Arrow input.
 */
import { stat } from 'node:fs/promises';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import type { FileSource, SourceBatch } from '../source/batch-source.js';
import { partFiles } from '../source/from-parquet.js';

export async function parquetMetadata(path: string): Promise<Map<string, string>> {
  try {
    const isDirectory = (await stat(path)).isDirectory();
    const first = isDirectory ? (await partFiles([path], path))[0]! : path;
    const footer = await parquetMetadataAsync(await asyncBufferFromFile(first));
    return new Map((footer.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? '']));
  } catch {
    return new Map(); // the source reports a bad file or directory properly
  }
}

export async function arrowMetadata(_path: string, source: FileSource): Promise<Map<string, string>> {
  const it = source.batches();
  try {
    const first = await it.next() as IteratorResult<SourceBatch>;
    return first.done ? new Map() : first.value.batch.schema.metadata;
  } finally {
    await it.return?.();
  }
}
