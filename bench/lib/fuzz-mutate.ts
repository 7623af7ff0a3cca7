/**
 * A seeded byte mutator for the fuzz harness (bench/fuzz.ts): 1–4 mutations of one input, chosen by a
 * xoshiro128** stream, so that a seed always gives the same inputs. Binary formats get bit flips,
 * interesting bytes / int32 / int64 / float64 values, truncation, deletion, duplication, insertion and
 * splices with another file of the corpus; positions lean towards the first and last 512 bytes, where
 * headers, schemas and footers are. Text formats (.mtx, .csv) also get token mutations: a number replaced
 * by an interesting one (−1, 0, 2³¹, 1e400, NaN, 0.5, …), a line deleted, duplicated or swapped, a word
 * of the header changed.
 */
import { makeRandom } from '../../src/kernel/random.js';

export interface Mutator {
  /** A mutated copy of `input`; `other` is another corpus file of the same format (for splices). */
  mutate(input: Uint8Array, other: Uint8Array, text: boolean): { bytes: Uint8Array; steps: string[] };
}

const BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x2d];
const INT32 = [0, 1, -1, 0x7fffffff, -0x80000000, 0x10000, 0xffff, 8, 2 ** 24];
const FLOAT64 = [NaN, Infinity, -Infinity, -1, 0, 1e308, 5e-324, 2 ** 53, 2 ** 31];
const NUMBERS = ['-1', '0', '1', '2147483647', '2147483648', '4294967296', '1e400', '-1e400', 'NaN', 'nan', 'inf', '0.5', '1e-320',
  '9007199254740993', '', '-0', '00000000000000000000001', '1e9', '3e9', '1e18', '0x10', '١'];
const WORDS = ['%%MatrixMarket', 'matrix', 'coordinate', 'array', 'real', 'integer', 'pattern', 'complex', 'general', 'symmetric',
  'skew-symmetric', 'hermitian', '%', ','];

export function makeMutator(seed: number): Mutator {
  const random = makeRandom(seed);
  const below = (n: number): number => Math.floor(random.uniform() * n);
  const pick = <T>(list: readonly T[]): T => list[below(list.length)]!;
  /** A position in [0, length): a third near the start, a third near the end, a third anywhere. */
  const position = (length: number): number => {
    if (length <= 1) return 0;
    const r = below(3);
    if (r === 0) return below(Math.min(length, 512));
    if (r === 1) return length - 1 - below(Math.min(length, 512));
    return below(length);
  };

  function binaryStep(bytes: Uint8Array, other: Uint8Array): { bytes: Uint8Array; step: string } {
    const n = bytes.length;
    const at = position(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    switch (below(10)) {
      case 0: { const bit = below(8); bytes[at] = bytes[at]! ^ (1 << bit); return { bytes, step: `flip bit ${bit} of byte ${at}` }; }
      case 1: { const v = pick(BYTES); bytes[at] = v; return { bytes, step: `byte ${at} = ${v}` }; }
      case 2: {
        if (at + 4 > n) return { bytes, step: 'none' };
        const v = random.uniform() < 0.5 ? pick(INT32) : view.getInt32(at, true) + pick([1, -1, 8, -8, 1024]);
        view.setInt32(at, v, true);
        return { bytes, step: `int32 at ${at} = ${v}` };
      }
      case 3: {
        if (at + 8 > n) return { bytes, step: 'none' };
        if (random.uniform() < 0.5) { const v = pick(FLOAT64); view.setFloat64(at, v, true); return { bytes, step: `float64 at ${at} = ${v}` }; }
        const v = pick([0n, -1n, 2n ** 62n, 2n ** 31n, 2n ** 32n]);
        view.setBigInt64(at, v, true);
        return { bytes, step: `int64 at ${at} = ${v}` };
      }
      case 4: { const cut = Math.max(0, n - 1 - below(Math.min(n, random.uniform() < 0.5 ? 64 : n))); return { bytes: bytes.slice(0, cut), step: `truncate to ${cut}` }; }
      case 5: {
        const len = 1 + below(Math.min(64, Math.max(1, n - at)));
        return { bytes: concat(bytes.subarray(0, at), bytes.subarray(Math.min(n, at + len))), step: `delete ${len} at ${at}` };
      }
      case 6: {
        const len = 1 + below(Math.min(256, Math.max(1, n - at)));
        const from = bytes.slice(at, at + len);
        const to = position(n);
        return { bytes: concat(bytes.subarray(0, to), from, bytes.subarray(to)), step: `copy ${len} from ${at} to ${to}` };
      }
      case 7: {
        const len = 1 + below(16);
        const junk = Uint8Array.from({ length: len }, () => below(256));
        return { bytes: concat(bytes.subarray(0, at), junk, bytes.subarray(at)), step: `insert ${len} random at ${at}` };
      }
      case 8: {
        const from = below(Math.max(1, other.length));
        return { bytes: concat(bytes.subarray(0, at), other.subarray(from)), step: `splice at ${at} with other from ${from}` };
      }
      default: {
        const len = 1 + below(32);
        for (let i = at; i < Math.min(n, at + len); i++) bytes[i] = below(256);
        return { bytes, step: `randomise ${len} at ${at}` };
      }
    }
  }

  function textStep(bytes: Uint8Array): { bytes: Uint8Array; step: string } {
    const text = Buffer.from(bytes).toString('latin1');
    const lines = text.split('\n');
    const line = position(lines.length);
    switch (below(5)) {
      case 0: case 1: {
        const tokens = lines[line]!.split(/([\s,]+)/);
        const numbers = tokens.map((t, i) => (/^[-+0-9.eE]+$/.test(t) ? i : -1)).filter((i) => i >= 0);
        if (numbers.length === 0) return { bytes, step: 'none' };
        const i = pick(numbers);
        tokens[i] = pick(NUMBERS);
        lines[line] = tokens.join('');
        return { bytes: Buffer.from(lines.join('\n'), 'latin1'), step: `line ${line + 1}: a number → ${JSON.stringify(tokens[i])}` };
      }
      case 2: {
        const kind = below(3);
        if (kind === 0) lines.splice(line, 1);
        else if (kind === 1) lines.splice(line, 0, lines[line]!);
        else { const other = position(lines.length); [lines[line], lines[other]] = [lines[other]!, lines[line]!]; }
        return { bytes: Buffer.from(lines.join('\n'), 'latin1'), step: `line ${line + 1}: ${['deleted', 'duplicated', 'swapped'][kind]}` };
      }
      case 3: {
        const words = lines[0]!.split(' ');
        words[below(words.length)] = pick(WORDS);
        lines[0] = words.join(' ');
        return { bytes: Buffer.from(lines.join('\n'), 'latin1'), step: `header: ${JSON.stringify(lines[0])}` };
      }
      default: {
        const tokens = lines[line]!.split(/([\s,]+)/);
        tokens.splice(below(tokens.length + 1), 0, pick([' ', ',', pick(NUMBERS), ' ' + pick(NUMBERS)]));
        lines[line] = tokens.join('');
        return { bytes: Buffer.from(lines.join('\n'), 'latin1'), step: `line ${line + 1}: a token inserted` };
      }
    }
  }

  return {
    mutate(input, other, text) {
      let bytes: Uint8Array = new Uint8Array(input); // a copy (Buffer.prototype.slice would be a view)
      const steps: string[] = [];
      const count = 1 + below(4);
      for (let s = 0; s < count && bytes.length > 0; s++) {
        const r = text && random.uniform() < 0.7 ? textStep(bytes) : binaryStep(bytes, other);
        bytes = r.bytes;
        steps.push(r.step);
      }
      return { bytes, steps };
    },
  };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

