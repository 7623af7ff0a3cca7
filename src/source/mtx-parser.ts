/**
 * MtxParser: the bytes of a Matrix Market `coordinate` file (read-mtx.ts), pushed chunk by chunk, parsed
 * line by line — banner, size line, then the entries as COO triplets — and turned into CSC at the end
 * (mtx-csc.ts). Numbers are parsed from the bytes: integers by hand, reals by Clinger's fast path for
 * ≤ 15 significant digits, exactDecimal (mtx-decimal.ts) for up to 19, `Number` on the token otherwise.
 * Semantics and errors: read-mtx.ts.
 */
import { memoryBudget, type MemoryBudget } from '../memory-limit.js';
import { DataError } from '../errors.js';
import type { CscMatrix } from './from-csc.js';
import { toCsc } from './mtx-csc.js';
import { exactDecimal, POW10 } from './mtx-decimal.js';

const MAX_LINE = 1 << 20;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

const BANNER = 0, SIZE = 1, ENTRIES = 2; // parser phases, in file order

export class MtxParser {
  /** 1-based number of the last line read. */
  line = 0;
  private phase = BANNER;
  private carry: Buffer | null = null; // the unfinished last line of the previous chunk
  private m = 0; private n = 0; private declared = 0; private count = 0;
  private pattern = false; private integer = false; private symmetric = false;
  private num = 0; // the last number parsed by int / real
  // COO triplets (0-based), grown geometrically; `sorted` while each is after the previous in column-major order
  private rows = new Int32Array(0); private cols = new Int32Array(0); private vals = new Float64Array(0);
  private len = 0; private sorted = true;
  /** `missing: 'nan'`: a value `nan` (any case) is a missing entry, kept as NaN. */
  nanMissing = false;

  constructor(private readonly source: string, private readonly memoryLimit: number, private readonly budget: MemoryBudget | undefined) {}

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry !== null) { buf = Buffer.concat([this.carry, chunk]); this.carry = null; }
    const last = buf.lastIndexOf(10);
    if (last >= 0) this.lines(buf, last + 1);
    if (last + 1 < buf.length) {
      if (buf.length - last > MAX_LINE) this.fail('MALFORMED_FILE', `line ${this.line + 1} is longer than ${MAX_LINE} bytes`, this.line + 1);
      this.carry = Buffer.from(buf.subarray(last + 1));
    }
  }

  finish(): CscMatrix {
    if (this.carry !== null) { const tail = this.carry; this.carry = null; this.lines(tail, tail.length); }
    if (this.phase === BANNER) this.fail('MALFORMED_FILE', 'file is empty; expected a "%%MatrixMarket" banner', 1);
    if (this.phase === SIZE) this.fail('MALFORMED_FILE', 'file ends before the size line "rows cols entries"', this.line);
    if (this.count < this.declared) {
      this.fail('MALFORMED_FILE', `file ends after ${this.count} entries; the size line declares ${this.declared}`, this.line);
    }
    return toCsc(this.m, this.n, this.rows, this.cols, this.vals, this.len, this.sorted);
  }

  /** Every complete line of buf[0, end); a line ends at '\n' or at `end`. */
  private lines(b: Buffer, end: number): void {
    let s = 0;
    while (s < end) {
      let nl = b.indexOf(10, s);
      if (nl < 0 || nl > end) nl = end;
      const e = nl > s && b[nl - 1] === 13 ? nl - 1 : nl;
      this.line++;
      if (this.phase === ENTRIES) this.entry(b, s, e);
      else this.header(b.toString('utf8', s, e).trim());
      s = nl + 1;
    }
  }

  private header(text: string): void {
    if (this.phase === BANNER) {
      if (text === '') return;
      this.banner(text);
      this.phase = SIZE;
      return;
    }
    if (text === '' || text.startsWith('%')) return;
    const t = text.split(/\s+/);
    if (t.length !== 3 || !t.every((x) => /^\d+$/.test(x))) {
      this.fail('MALFORMED_FILE', `expected the size line "rows cols entries" (three integers), found "${text}"`);
    }
    const [m, n, nnz] = t.map(Number) as [number, number, number];
    if (m < 1 || n < 1 || m > 0x7fffffff || n > 0x7fffffff || !Number.isSafeInteger(nnz)) {
      this.fail('MALFORMED_FILE', `size line "${text}": rows and cols must be in 1..2147483647, entries a safe integer`);
    }
    if (this.symmetric && m !== n) this.fail('MALFORMED_FILE', `a symmetric matrix must be square, the size line says ${m} × ${n}`);
    // The triplets (4 + 4 + 8 bytes), the row-sorted order (4) and the CSC copy (4 + 8) of every declared entry, and the offsets.
    const entries = nnz * (this.symmetric ? 2 : 1);
    memoryBudget(this.memoryLimit, { base: 32 * entries, perFeature: 4, perSample: 4, what: `reading its ${entries.toLocaleString('en-US')} entries` })
      .check(m, n, { source: this.source, line: this.line });
    this.budget?.check(m, n, { source: this.source, line: this.line });
    this.m = m; this.n = n; this.declared = nnz;
    const capacity = Math.max(16, Math.min(nnz * (this.symmetric ? 2 : 1), 1 << 22));
    this.rows = new Int32Array(capacity); this.cols = new Int32Array(capacity); this.vals = new Float64Array(capacity);
    this.phase = ENTRIES;
  }

  private banner(text: string): void {
    const t = text.toLowerCase().split(/\s+/);
    if (t[0] !== '%%matrixmarket' || t.length !== 5) {
      this.fail('MALFORMED_FILE', `expected the banner "%%MatrixMarket matrix coordinate <real|integer|pattern> <general|symmetric>", found "${text}"`);
    }
    const [, object, format, field, symmetry] = t as [string, string, string, string, string];
    const check = (ok: boolean, unsupported: boolean, what: string, value: string): void => {
      if (ok) return;
      if (unsupported) this.fail('UNSUPPORTED', `Matrix Market ${what} "${value}" is not supported (only coordinate real|integer|pattern general|symmetric)`);
      this.fail('MALFORMED_FILE', `unknown Matrix Market ${what} "${value}" in the banner`);
    };
    check(object === 'matrix', object === 'vector', 'object', object);
    check(format === 'coordinate', format === 'array', 'format', format);
    check(field === 'real' || field === 'integer' || field === 'pattern', field === 'complex', 'field', field);
    check(symmetry === 'general' || symmetry === 'symmetric', symmetry === 'skew-symmetric' || symmetry === 'hermitian', 'symmetry', symmetry);
    this.pattern = field === 'pattern'; this.integer = field === 'integer'; this.symmetric = symmetry === 'symmetric';
  }

  /** The hot path: one entry line b[s, e) → COO. */
  private entry(b: Buffer, s: number, e: number): void {
    let p = skip(b, s, e);
    if (p === e || b[p] === 37) return; // blank or % comment
    p = this.int(b, p, e);
    const i = this.num;
    p = p < 0 ? -1 : this.int(b, skip(b, p, e), e);
    const j = this.num;
    let v = 1;
    if (!this.pattern && p >= 0) {
      const at = skip(b, p, e);
      p = this.real(b, at, e); v = this.num;
      if (p < 0 && this.nanMissing) { p = nanEnd(b, at, e); v = NaN; }
    }
    if (p < 0 || skip(b, p, e) !== e) this.badLine(b.toString('utf8', s, e));
    if (++this.count > this.declared) this.fail('MALFORMED_FILE', `more entries than the ${this.declared} declared in the size line`);
    if (i < 1 || i > this.m || j < 1 || j > this.n) {
      const [what, index, max] = i < 1 || i > this.m ? ['row', i, this.m] : ['column', j, this.n];
      this.fail('INDEX_OUT_OF_RANGE', `${what} index ${index} is outside the allowed range 1..${max}`, this.line, i - 1, j - 1);
    }
    if ((!(v >= 0) || v === Infinity) && !(this.nanMissing && v !== v)) this.fail('INVALID_VALUE', `value ${v} is not finite and nonnegative`, this.line, i - 1, j - 1);
    if (this.integer && !Number.isInteger(v) && v === v) this.fail('MALFORMED_FILE', `value ${v} is not an integer, but the banner says integer`);
    if (v === 0) return;
    this.add(i - 1, j - 1, v);
    if (this.symmetric && i !== j) this.add(j - 1, i - 1, v);
  }

  private add(r: number, c: number, v: number): void {
    const k = this.len;
    if (k === this.rows.length) this.grow();
    if (k > 0) {
      const pc = this.cols[k - 1]!;
      if (c < pc || (c === pc && r <= this.rows[k - 1]!)) this.sorted = false;
    }
    this.rows[k] = r; this.cols[k] = c; this.vals[k] = v;
    this.len = k + 1;
  }

  private grow(): void {
    const size = this.rows.length * 2;
    const rows = new Int32Array(size); rows.set(this.rows); this.rows = rows;
    const cols = new Int32Array(size); cols.set(this.cols); this.cols = cols;
    const vals = new Float64Array(size); vals.set(this.vals); this.vals = vals;
  }

  /** An optionally signed decimal integer at b[p..); sets `num`, returns the end or -1. */
  private int(b: Buffer, p: number, e: number): number {
    const neg = b[p] === 45;
    if (neg || b[p] === 43) p++;
    const start = p;
    let x = 0;
    for (let c = b[p]!; p < e && c >= 48 && c <= 57; c = b[++p]!) x = x * 10 + (c - 48);
    this.num = neg ? -x : x;
    return p > start && (p === e || b[p] === 32 || b[p] === 9) ? p : -1;
  }

  /** A decimal number `[+-]digits[.digits][e[+-]digits]` at b[p..); sets `num`, returns the end or -1. */
  private real(b: Buffer, p: number, e: number): number {
    const start = p;
    const neg = b[p] === 45;
    if (neg || b[p] === 43) p++;
    let hi = 0, lo = 0, sig = 0, extra = 0, digits = 0, frac = 0, dot = false, c = b[p]!;
    for (; p < e; c = b[++p]!) {
      if (c >= 48 && c <= 57) {
        digits++;
        if (dot) frac++;
        if (sig < 15) { hi = hi * 10 + (c - 48); if (hi !== 0) sig++; } // leading zeros are not significant
        else { if (sig < 19) { lo = lo * 10 + (c - 48); extra++; } sig++; }
      } else if (c === 46 && !dot) dot = true;
      else break;
    }
    if (digits === 0) return -1;
    let exp = 0;
    if (p < e && (c === 101 || c === 69)) {
      const eneg = b[++p] === 45;
      if (eneg || b[p] === 43) p++;
      const es = p;
      for (c = b[p]!; p < e && c >= 48 && c <= 57; c = b[++p]!) if (exp < 100000) exp = exp * 10 + (c - 48);
      if (p === es) return -1;
      if (eneg) exp = -exp;
    }
    if (p < e && c !== 32 && c !== 9) return -1;
    exp -= frac; // value = (hi·10^extra + lo)·10^exp while sig ≤ 19
    let x = NaN;
    if (exp >= -22 && exp <= 22) {
      if (sig <= 15) x = exp < 0 ? hi / POW10[-exp]! : hi * POW10[exp]!;
      else if (sig <= 19) x = exactDecimal(hi, lo, extra, exp);
    }
    if (x !== x) x = Number(b.toString('latin1', neg ? start + 1 : start, p));
    this.num = neg ? -x : x;
    return p;
  }

  /** Slow path: say what is wrong with a line the fast path rejected. */
  private badLine(text: string): never {
    const t = text.trim().split(/\s+/);
    const want = this.pattern ? 2 : 3;
    if (t.length !== want) {
      this.fail('MALFORMED_FILE', `expected ${want} fields (row column${this.pattern ? '' : ' value'}), found ${t.length}: "${text.trim()}"`);
    }
    const names = ['row index', 'column index', 'value'];
    for (let f = 0; f < 2; f++) {
      if (!/^[+-]?\d+$/.test(t[f]!)) this.fail('MALFORMED_FILE', `${names[f]} "${t[f]}" is not an integer`);
    }
    if (NON_FINITE.test(t[2]!)) this.fail('INVALID_VALUE', `value "${t[2]}" is not finite`);
    return this.fail('MALFORMED_FILE', `value "${t[2]}" is not a number`);
  }

  private fail(code: 'MALFORMED_FILE' | 'UNSUPPORTED' | 'INDEX_OUT_OF_RANGE' | 'INVALID_VALUE', message: string,
    line = this.line, feature?: number, sample?: number): never {
    throw new DataError(code, message, feature === undefined || sample === undefined
      ? { source: this.source, line } : { source: this.source, line, feature, sample });
  }
}

function skip(b: Buffer, p: number, e: number): number {
  while (p < e && (b[p] === 32 || b[p] === 9)) p++;
  return p;
}

/** The end of a token `nan` (any case) at b[p..) followed by a blank or the line's end; −1 when it is not one. */
function nanEnd(b: Buffer, p: number, e: number): number {
  if (p + 3 > e || (b[p]! | 32) !== 110 || (b[p + 1]! | 32) !== 97 || (b[p + 2]! | 32) !== 110) return -1;
  return p + 3 === e || b[p + 3] === 32 || b[p + 3] === 9 || b[p + 3] === 13 ? p + 3 : -1;
}
