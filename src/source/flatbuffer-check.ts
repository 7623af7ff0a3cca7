/**
 * Bounds-checked reading of a FlatBuffer (the encoding of Arrow IPC metadata), for verifying untrusted
 * metadata before apache-arrow decodes it: apache-arrow reads FlatBuffers without bounds checks (a byte
 * past the end reads as 0), so a damaged length makes it loop over billions of entries, and a cyclic
 * offset makes it expand a schema tree without end. Every accessor here checks that what it reads lies
 * inside the buffer and throws a `FlatBufferError` saying what does not; `visit()` counts tables against
 * a budget, so a tree that would expand past it (a cycle, or a DAG that multiplies) is an error too.
 *
 * Layout (flatbuffers.dev, "Internals"): a table starts with a signed offset back to its vtable; the
 * vtable is u16 [vtable bytes, table bytes, field offsets…]; a field absent from the vtable (or with
 * offset 0) takes its default. Offsets to tables, vectors and strings are u32, relative to where they are
 * stored; a vector is a u32 length followed by its elements.
 */

export class FlatBufferError extends Error {}

export interface FlatTable { readonly pos: number; readonly vtable: number; readonly vtableSize: number; readonly size: number }

export class FlatBuffer {
  private readonly view: DataView;
  private visits = 0;
  constructor(readonly bytes: Uint8Array, private readonly budget: number) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(at: number, size: number, what: string): void {
    if (!(at >= 0 && at + size <= this.bytes.length)) throw new FlatBufferError(`${what} lies outside the ${this.bytes.length} bytes of metadata`);
  }

  u8(at: number): number { this.need(at, 1, 'a byte'); return this.view.getUint8(at); }
  i16(at: number): number { this.need(at, 2, 'a short'); return this.view.getInt16(at, true); }
  i32(at: number): number { this.need(at, 4, 'an int'); return this.view.getInt32(at, true); }
  u32(at: number): number { this.need(at, 4, 'an offset'); return this.view.getUint32(at, true); }
  /** An int64 as a number (exact below 2⁵³; larger values are damaged lengths anyway). */
  i64(at: number): number { this.need(at, 8, 'a long'); return Number(this.view.getBigInt64(at, true)); }

  /** The table at `pos`, its vtable checked; counts against the budget. */
  table(pos: number, what: string): FlatTable {
    if (++this.visits > this.budget) throw new FlatBufferError(`the metadata describes more than ${this.budget} ${what}s (a loop in its offsets?)`);
    this.need(pos, 4, what);
    const vtable = pos - this.i32(pos);
    this.need(vtable, 4, `the vtable of a ${what}`);
    const vtableSize = this.view.getUint16(vtable, true);
    const size = this.view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2 !== 0) throw new FlatBufferError(`the vtable of a ${what} is damaged`);
    this.need(vtable, vtableSize, `the vtable of a ${what}`);
    this.need(pos, Math.max(4, size), what);
    return { pos, vtable, vtableSize, size };
  }

  /** The root table (the u32 at 0 points to it). */
  root(what: string): FlatTable { return this.table(this.u32(0), what); }

  /** Position of field `index` of `t`, or undefined when absent; `size` bytes must lie inside the table. */
  field(t: FlatTable, index: number, size: number): number | undefined {
    const slot = 4 + 2 * index;
    if (slot + 2 > t.vtableSize) return undefined;
    const offset = this.view.getUint16(t.vtable + slot, true);
    if (offset === 0) return undefined;
    if (offset + size > t.size) throw new FlatBufferError(`a field lies outside its table (offset ${offset}, table ${t.size} bytes)`);
    return t.pos + offset;
  }

  /** Where the offset stored at `at` points. */
  target(at: number, what: string): number {
    const to = at + this.u32(at);
    this.need(to, 4, what);
    return to;
  }

  /** The table referenced by field `index` of `t`, if present. */
  child(t: FlatTable, index: number, what: string): FlatTable | undefined {
    const at = this.field(t, index, 4);
    return at === undefined ? undefined : this.table(this.target(at, what), what);
  }

  /** Field `index` of `t` as a vector of `elementSize`-byte elements: its first element and length (absent: length 0). */
  vector(t: FlatTable, index: number, elementSize: number, what: string): { start: number; length: number } {
    const at = this.field(t, index, 4);
    if (at === undefined) return { start: 0, length: 0 };
    const to = this.target(at, what);
    const length = this.u32(to);
    if (length * elementSize > this.bytes.length - to - 4) {
      throw new FlatBufferError(`${what} claims ${length} entries, more than its ${this.bytes.length} bytes of metadata can hold`);
    }
    return { start: to + 4, length };
  }

  /** The tables of a vector of tables (field `index` of `t`). */
  tables(t: FlatTable, index: number, what: string): FlatTable[] {
    const { start, length } = this.vector(t, index, 4, `the list of ${what}s`);
    return Array.from({ length }, (_, k) => this.table(this.target(start + 4 * k, what), what));
  }

  /** Checks a string field (a vector of bytes). */
  string(t: FlatTable, index: number, what: string): void {
    this.vector(t, index, 1, what);
  }
}
