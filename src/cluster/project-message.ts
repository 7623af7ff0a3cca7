/**
 * One input message of a projection worker: an Arrow IPC stream of record batches (any layout `project` takes) →
 * the projection ETL operator (pipeline/project.ts) with the model in hand → one Arrow IPC stream of the output
 * batches. Messages are projected independently (a long-layout sample must not straddle two messages). A message
 * that is not Arrow IPC is a DataError naming the stream, subject and sequence.
 */
import { RecordBatchReader, Table, tableToIPC, type RecordBatch } from 'apache-arrow';
import { from, lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import { DataError, NmfError } from '../errors.js';
import { describeMessage, type MessageWhere } from './message-chunk.js';

/** The record batches of a message: a DataError naming it when it is not Arrow IPC. */
export function messageBatches(bytes: Uint8Array, where: MessageWhere): RecordBatch[] {
  try {
    const reader = RecordBatchReader.from(bytes);
    return reader.readAll();
  } catch (error) {
    throw new DataError('MALFORMED_FILE', `the message is not Arrow IPC record batches (${bytes.length} bytes): ${(error as Error)?.message ?? error}`,
      { source: describeMessage(where) }, error);
  }
}

/** The projected message: output batches as one Arrow IPC stream, and the samples in it. */
export async function projectMessage(bytes: Uint8Array, operator: OperatorFunction<RecordBatch, RecordBatch>, where: MessageWhere): Promise<{ data: Uint8Array; rows: number }> {
  const batches = messageBatches(bytes, where);
  let out: RecordBatch[];
  try {
    out = await lastValueFrom(from(batches).pipe(operator, toArray()));
  } catch (error) {
    if (error instanceof NmfError) {
      throw new DataError(error.code, `${describeMessage(where)}: ${error.message}`, { source: describeMessage(where) }, error);
    }
    throw error;
  }
  const table = new Table(out);
  return { data: out.length === 0 ? new Uint8Array(0) : tableToIPC(table, 'stream'), rows: table.numRows };
}
