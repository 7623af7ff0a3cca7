/**
 * The kinds of value an option may take (the `kind` column of table.ts): a test of a value, and the words
 * "expected …" of the OptionError that a value failing it gets. Sub-options of an object kind (`checkpoint`,
 * `init`) are rows of their own, named `parent.child`.
 */

export type Kind =
  | { readonly type: 'integer'; readonly min?: number; readonly max?: number }
  /** `above` / `below` are exclusive bounds, `min` / `max` inclusive; a number is always finite unless `infinite`. */
  | { readonly type: 'number'; readonly min?: number; readonly max?: number; readonly above?: number; readonly below?: number }
  | { readonly type: 'enum'; readonly values: readonly (string | number)[] }
  | { readonly type: 'boolean' }
  | { readonly type: 'function' }
  /** A non-empty string: a path, a column, a name. */
  | { readonly type: 'string' }
  /** An array of strings (`distinct`: no repeats; `nonEmpty`: at least one; `columns`: none empty). */
  | { readonly type: 'strings'; readonly distinct?: boolean; readonly nonEmpty?: boolean; readonly columns?: boolean }
  /** One number for both factors, or a pair [W, H]; each number of the `of` kind. */
  | { readonly type: 'pair'; readonly of: NumberKind }
  /** An object whose keys are the rows `name.key` of the table. */
  | { readonly type: 'object' }
  /** One of `values`, or an object whose keys are the rows `name.key` (the start: a method or explicit arrays). */
  | { readonly type: 'choice-or-object'; readonly values: readonly string[] }
  /** An array (or Float64Array) of finite numbers ≥ 0. */
  | { readonly type: 'nonnegative-array' }
  /** Names: an array of strings, or the path of a file of names (source/names-file.ts). */
  | { readonly type: 'names' }
  /** A size in bytes: a whole number ≥ 1 MB (the CLI reads 8G, 512M: memory-limit.ts parseBytes). */
  | { readonly type: 'bytes' }
  /** A MatrixSource (source/matrix-source.ts): an object with `chunks()` and `rereadable`. */
  | { readonly type: 'source' };

export type NumberKind = Extract<Kind, { type: 'number' }>;

export function isOfKind(kind: Kind, value: unknown): boolean {
  switch (kind.type) {
    case 'integer': return typeof value === 'number' && Number.isInteger(value) && inRange(kind, value);
    case 'number': return typeof value === 'number' && Number.isFinite(value) && inRange(kind, value);
    case 'enum': return kind.values.includes(value as string | number);
    case 'boolean': return typeof value === 'boolean';
    case 'function': return typeof value === 'function';
    case 'string': return typeof value === 'string' && value.length > 0;
    case 'strings': return isStrings(kind, value);
    case 'pair': return isPair(kind.of, value);
    case 'object': return isPlainObject(value);
    case 'choice-or-object': return kind.values.includes(value as string) || isPlainObject(value);
    case 'nonnegative-array': return Array.isArray(value) || value instanceof Float64Array;
    case 'bytes': return typeof value === 'number' && Number.isSafeInteger(value) && value >= 2 ** 20;
    case 'names': return (typeof value === 'string' && value.length > 0) || isStrings({ type: 'strings' }, value);
    case 'source': return isPlainObject(value) && typeof value.chunks === 'function' && typeof value.rereadable === 'boolean';
  }
}

/** What a value of the kind is, in words: the "expected" of an OptionError. */
export function expectedOf(kind: Kind): string {
  switch (kind.type) {
    case 'integer': return `an integer${rangeWords(kind)}`;
    case 'number': return `a number${rangeWords(kind)}`;
    case 'enum': return listWords(kind.values.map(quote));
    case 'boolean': return 'true or false';
    case 'function': return 'a function';
    case 'string': return 'a non-empty string';
    case 'strings': return `${kind.nonEmpty ? 'a non-empty' : 'an'} array of ${kind.distinct ? 'distinct ' : ''}${kind.columns ? 'column names' : 'strings'}`;
    case 'pair': return `${expectedOf(kind.of)} or a pair [W, H] of them`;
    case 'object': return 'an object';
    case 'choice-or-object': return `${listWords(kind.values.map(quote))} or an object`;
    case 'nonnegative-array': return 'an array of finite numbers ≥ 0';
    case 'bytes': return 'a whole number of bytes ≥ 1 MB';
    case 'names': return 'an array of strings or the path of a names file';
    case 'source': return 'a MatrixSource (fromMtx, fromParquet, fromArrow, fromCsc, …)';
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function inRange(k: NumberKind | Extract<Kind, { type: 'integer' }>, v: number): boolean {
  const { min, max } = k;
  const { above, below } = k.type === 'number' ? k : { above: undefined, below: undefined };
  return (min === undefined || v >= min) && (max === undefined || v <= max)
    && (above === undefined || v > above) && (below === undefined || v < below);
}

function rangeWords(k: NumberKind | Extract<Kind, { type: 'integer' }>): string {
  const low = k.min ?? (k.type === 'number' ? k.above : undefined);
  const high = k.max ?? (k.type === 'number' ? k.below : undefined);
  const open = k.type === 'number' && k.above !== undefined;
  const close = k.type === 'number' && k.below !== undefined;
  if (low !== undefined && high !== undefined) return ` in ${open ? '(' : '['}${low}, ${high}${close ? ')' : ']'}`;
  if (low !== undefined) return ` ${open ? '>' : '≥'} ${low}`;
  if (high !== undefined) return ` ${close ? '<' : '≤'} ${high}`;
  return '';
}

function isStrings(kind: Extract<Kind, { type: 'strings' }>, value: unknown): boolean {
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && (!kind.columns || s.length > 0))) return false;
  return (!kind.nonEmpty || value.length > 0) && (!kind.distinct || new Set(value).size === value.length);
}

function isPair(of: NumberKind, value: unknown): boolean {
  const both = typeof value === 'number' ? [value] : value;
  return Array.isArray(both) && (typeof value === 'number' || both.length === 2) && both.every((v) => isOfKind(of, v));
}

const quote = (v: string | number): string => (typeof v === 'string' ? `'${v}'` : String(v));

function listWords(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}
