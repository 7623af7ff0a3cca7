/**
 * Verifies the structure of an Arrow IPC file or stream before apache-arrow decodes it, reading only the
 * metadata (never the bodies): every message's FlatBuffer is bounds-checked (flatbuffer-check.ts), every
 * offset and length must lie inside the file, and the framing must be complete. apache-arrow trusts all of
 * these; a damaged one made it loop for ever (a record-batch block of the footer that points at a schema
 * message is read again and again), expand a cyclic schema without end, or read past the data.
 *
 * What counts as complete (MALFORMED_FILE otherwise, naming the message or batch):
 * - an IPC *file* begins with "ARROW1", ends with its footer, the footer's length and "ARROW1"; the footer's
 *   schema is sound, and each of its blocks lies before the footer and holds a record batch (or, for the
 *   dictionary blocks, a dictionary batch) whose body fits in the block.
 * - an IPC *stream* is a schema message, then record and dictionary batches, then the end-of-stream marker
 *   (0xFFFFFFFF 0x00000000, or the pre-1.0 0x00000000). A stream that stops at a message boundary without the
 *   marker was cut short (a writer that was killed, a copy that did not finish) and is refused, not read as
 *   complete. Bytes after the marker are ignored, as readers do.
 * Cost: one read of each message's prefix and metadata (bodies are skipped), before each pass.
 */
import { FlatBuffer, FlatBufferError, type FlatTable } from './flatbuffer-check.js';

/** Reads `length` bytes at `position` (fewer at the end of the file). */
export type ReadAt = (position: number, length: number) => Promise<Uint8Array>;

/** A structural problem, with the message (stream) or record batch (file) it is in. */
export class IpcStructureError extends Error {
  constructor(message: string, readonly batch: number | undefined) { super(message); }
}

const HEADER = { schema: 1, dictionary: 2, recordBatch: 3 } as const;
const TYPE_TIMESTAMP = 10;
const TYPE_UNION = 14;
const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
/** Nesting deeper than this is refused (apache-arrow decodes fields recursively). */
const MAX_DEPTH = 64;
/** Metadata larger than this is refused before it is read (a damaged length must not allocate gigabytes). */
const MAX_METADATA = 256 * 2 ** 20;

const isMagic = (bytes: Uint8Array, at: number): boolean => MAGIC.every((b, i) => bytes[at + i] === b);

/** True when the bytes begin like an Arrow IPC file (not a stream). */
export function startsLikeIpcFile(head: Uint8Array): boolean {
  return head.length >= 6 && isMagic(head, 0);
}

export async function checkArrowIpc(read: ReadAt, size: number): Promise<void> {
  const head = await read(0, Math.min(size, 8));
  try {
    if (startsLikeIpcFile(head)) await checkFile(read, size);
    else await checkStream(read, size);
  } catch (error) {
    if (error instanceof FlatBufferError) throw new IpcStructureError(`its metadata is damaged: ${error.message}`, undefined);
    throw error;
  }
}

/** The budget of tables a piece of metadata may describe (each takes at least 4 bytes). */
const flat = (bytes: Uint8Array): FlatBuffer => new FlatBuffer(bytes, Math.max(1024, bytes.length >> 2));

function checkField(fb: FlatBuffer, field: FlatTable, depth: number): void {
  if (depth > MAX_DEPTH) throw new FlatBufferError(`fields are nested more than ${MAX_DEPTH} deep`);
  fb.string(field, 0, 'a field name');
  const typeAt = fb.field(field, 2, 1);
  const typeType = typeAt === undefined ? 0 : fb.u8(typeAt);
  const type = fb.child(field, 3, 'field type');
  if (type && typeType === TYPE_TIMESTAMP) fb.string(type, 1, 'a time zone');
  if (type && typeType === TYPE_UNION) fb.vector(type, 1, 4, 'the type ids of a union');
  const dictionary = fb.child(field, 4, 'dictionary encoding');
  if (dictionary) fb.child(dictionary, 1, 'dictionary index type');
  for (const child of fb.tables(field, 5, 'field')) checkField(fb, child, depth + 1);
  checkKeyValues(fb, field, 6);
}

function checkKeyValues(fb: FlatBuffer, t: FlatTable, index: number): void {
  for (const kv of fb.tables(t, index, 'metadata entry')) { fb.string(kv, 0, 'a metadata key'); fb.string(kv, 1, 'a metadata value'); }
}

function checkSchema(fb: FlatBuffer, schema: FlatTable): void {
  for (const field of fb.tables(schema, 1, 'field')) checkField(fb, field, 0);
  checkKeyValues(fb, schema, 2);
  fb.vector(schema, 3, 8, 'the schema features');
}

/** A record batch's nodes and buffers: inside the metadata, with lengths ≥ 0 and buffers inside the body. */
function checkRecordBatch(fb: FlatBuffer, batch: FlatTable, bodyLength: number): void {
  const lengthAt = fb.field(batch, 0, 8);
  const rows = lengthAt === undefined ? 0 : fb.i64(lengthAt);
  if (!(rows >= 0 && rows <= 2 ** 31 - 1)) throw new FlatBufferError(`the batch claims ${rows} rows`);
  const nodes = fb.vector(batch, 1, 16, 'the list of field nodes');
  for (let k = 0; k < nodes.length; k++) {
    const length = fb.i64(nodes.start + 16 * k);
    const nulls = fb.i64(nodes.start + 16 * k + 8);
    if (!(length >= 0 && length <= 2 ** 31 - 1 && nulls >= 0 && nulls <= length)) {
      throw new FlatBufferError(`field node ${k} claims ${length} values with ${nulls} nulls`);
    }
  }
  const buffers = fb.vector(batch, 2, 16, 'the list of buffers');
  for (let k = 0; k < buffers.length; k++) {
    const offset = fb.i64(buffers.start + 16 * k);
    const length = fb.i64(buffers.start + 16 * k + 8);
    if (!(offset >= 0 && length >= 0 && offset + length <= bodyLength)) {
      throw new FlatBufferError(`buffer ${k} (${length} bytes at ${offset}) lies outside the ${bodyLength}-byte message body`);
    }
  }
  fb.child(batch, 3, 'body compression');
  fb.vector(batch, 4, 8, 'the variadic buffer counts');
}

interface Message { readonly header: number; readonly bodyLength: number }

/** A message's metadata: its header checked (schema, record batch or dictionary batch; others are refused). */
function checkMessage(bytes: Uint8Array): Message {
  const fb = flat(bytes);
  const message = fb.root('message');
  const typeAt = fb.field(message, 1, 1);
  const header = typeAt === undefined ? 0 : fb.u8(typeAt);
  const bodyAt = fb.field(message, 3, 8);
  const bodyLength = bodyAt === undefined ? 0 : fb.i64(bodyAt);
  if (!(bodyLength >= 0 && bodyLength <= Number.MAX_SAFE_INTEGER)) throw new FlatBufferError(`the message claims a body of ${bodyLength} bytes`);
  const body = fb.child(message, 2, 'message header');
  if (!body) throw new FlatBufferError('the message has no header');
  if (header === HEADER.schema) checkSchema(fb, body);
  else if (header === HEADER.recordBatch) checkRecordBatch(fb, body, bodyLength);
  else if (header === HEADER.dictionary) {
    const data = fb.child(body, 1, 'dictionary data');
    if (!data) throw new FlatBufferError('the dictionary batch has no data');
    checkRecordBatch(fb, data, bodyLength);
  } else throw new FlatBufferError(`message type ${header} is not a schema, record batch or dictionary batch`);
  checkKeyValues(fb, message, 4);
  return { header, bodyLength };
}

/** The message framed at `at`: continuation marker (or none, before 1.0) and metadata length, then the metadata. */
async function messageAt(read: ReadAt, at: number, end: number): Promise<{ metadata: Uint8Array; next: number } | 'end'> {
  if (at + 4 > end) throw new FlatBufferError(at === end ? 'end' : 'a message prefix is cut short');
  const prefix = await read(at, Math.min(8, end - at));
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  let length = view.getInt32(0, true);
  let start = at + 4;
  if (length === -1) {
    if (prefix.length < 8) throw new FlatBufferError('a message prefix is cut short');
    length = view.getInt32(4, true);
    start = at + 8;
  }
  if (length === 0) return 'end';
  if (length < 0 || start + length > end) throw new FlatBufferError(`a message's metadata (${length} bytes) runs past the end of the data`);
  if (length > MAX_METADATA) throw new FlatBufferError(`a message's metadata claims ${length} bytes (more than the ${MAX_METADATA / 2 ** 20} MiB read)`);
  return { metadata: await read(start, length), next: start + length };
}

async function checkStream(read: ReadAt, size: number): Promise<void> {
  let at = 0;
  let batches = 0;
  for (let index = 0; ; index++) {
    let framed: Awaited<ReturnType<typeof messageAt>>;
    try {
      framed = await messageAt(read, at, size);
    } catch (error) {
      if (error instanceof FlatBufferError && error.message === 'end') {
        throw new IpcStructureError(index === 0 ? 'it is empty'
          : `the stream ends after ${batches} record batch${batches === 1 ? '' : 'es'} without its end-of-stream marker (cut short)`, batches);
      }
      throw error;
    }
    if (framed === 'end') {
      if (index === 0) throw new IpcStructureError('the stream ends before its schema', 0);
      return;
    }
    let message: Message;
    try {
      message = checkMessage(framed.metadata);
    } catch (error) {
      if (error instanceof FlatBufferError) throw new IpcStructureError(`message ${index} is damaged: ${error.message}`, batches);
      throw error;
    }
    if ((index === 0) !== (message.header === HEADER.schema)) {
      throw new IpcStructureError(index === 0 ? 'the stream does not begin with a schema' : `message ${index} is a second schema`, batches);
    }
    if (framed.next + message.bodyLength > size) {
      throw new IpcStructureError(`the body of message ${index} runs past the end of the data (cut short)`, batches);
    }
    if (message.header === HEADER.recordBatch) batches++;
    at = framed.next + message.bodyLength;
  }
}

async function checkFile(read: ReadAt, size: number): Promise<void> {
  if (size < 16) throw new IpcStructureError('the file is cut short (no footer)', undefined);
  const tail = await read(size - 10, 10);
  if (!isMagic(tail, 4)) throw new IpcStructureError('the file does not end with its footer and "ARROW1" (cut short or damaged)', undefined);
  const footerLength = new DataView(tail.buffer, tail.byteOffset, 4).getInt32(0, true);
  const footerStart = size - 10 - footerLength;
  if (!(footerLength > 0 && footerStart >= 8)) throw new IpcStructureError(`the footer length (${footerLength}) does not fit in the file`, undefined);
  if (footerLength > MAX_METADATA) throw new IpcStructureError(`the footer claims ${footerLength} bytes (more than the ${MAX_METADATA / 2 ** 20} MiB read)`, undefined);
  const fb = flat(await read(footerStart, footerLength));
  const footer = fb.root('footer');
  const schema = fb.child(footer, 1, 'schema');
  if (!schema) throw new FlatBufferError('the footer has no schema');
  checkSchema(fb, schema);
  checkKeyValues(fb, footer, 4);
  for (const [index, expected] of [[2, HEADER.dictionary], [3, HEADER.recordBatch]] as const) {
    const blocks = fb.vector(footer, index, 24, 'the list of blocks');
    for (let k = 0; k < blocks.length; k++) {
      const what = expected === HEADER.recordBatch ? `record batch ${k}` : `dictionary batch ${k}`;
      const batch = expected === HEADER.recordBatch ? k : undefined;
      const offset = fb.i64(blocks.start + 24 * k);
      const metadataLength = fb.i32(blocks.start + 24 * k + 8);
      const bodyLength = fb.i64(blocks.start + 24 * k + 16);
      if (!(offset >= 8 && metadataLength > 0 && bodyLength >= 0 && offset + metadataLength + bodyLength <= footerStart)) {
        throw new IpcStructureError(`the footer places ${what} outside the file`, batch);
      }
      let message: Message;
      try {
        const framed = await messageAt(read, offset, offset + metadataLength);
        if (framed === 'end') throw new FlatBufferError('it is an end-of-stream marker');
        message = checkMessage(framed.metadata);
      } catch (error) {
        if (error instanceof FlatBufferError) throw new IpcStructureError(`${what} is damaged: ${error.message}`, batch);
        throw error;
      }
      if (message.header !== expected) throw new IpcStructureError(`the footer's block for ${what} holds another kind of message`, batch);
      if (message.bodyLength > bodyLength) throw new IpcStructureError(`the body of ${what} is longer than its block`, batch);
    }
  }
}
