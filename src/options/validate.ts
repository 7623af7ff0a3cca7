/**
 * validate(entry, options): the options of a public entry point checked against the table (table.ts) — every
 * key known, every value of its kind — and returned with the defaults filled in. A bad value or an unknown key
 * throws an OptionError synchronously; an unknown key's message suggests the nearest known one
 * ("did you mean `maxIterations`?"). Relations between options (a penalty with loss 'l1', rank ≤ the data's
 * size) are checked by the code that resolves them (resolve-fit.ts, source/layout.ts, pipeline/project.ts).
 */
import { OptionError } from '../errors.js';
import { expectedOf, isOfKind, isPlainObject } from './kinds.js';
import { nearest } from './nearest.js';
import { OPTION_TABLE, type LayoutName, type OptionRow, type Scope, type Values } from './table.js';

export type EntryPoint = 'fit' | 'fitOnline' | 'project' | 'source' | 'tableWriter' | 'mtx' | 'csc' | 'dense' | 'randomizedSvd' | 'nndsvdStart';

/** The scopes of rows each entry point accepts. */
export const ENTRY_SCOPES: Readonly<Record<EntryPoint, readonly Scope[]>> = {
  fit: ['fit'], fitOnline: ['fit', 'online'], project: ['layout', 'project'], source: ['layout', 'read'], tableWriter: ['writer'], mtx: ['mtx'], csc: ['csc'], dense: ['csc', 'dense'], randomizedSvd: ['svd'], nndsvdStart: ['svd', 'nndsvd'],
};

/** The entry points as a message names them. */
const CALLED: Readonly<Record<EntryPoint, string>> = {
  fit: 'fit', fitOnline: 'fitOnline', project: 'project', source: 'fromArrow / fromParquet', tableWriter: 'openTableWriter', mtx: 'fromMtx', csc: 'fromCsc', dense: 'fromDense', randomizedSvd: 'randomizedSvd', nndsvdStart: 'nndsvdStart',
};

/** The rows an entry point accepts (for a table layout: that layout's; without one: every layout's). */
export function rowsOf(entry: EntryPoint, layout?: LayoutName): OptionRow[] {
  const scopes = ENTRY_SCOPES[entry];
  return OPTION_TABLE.filter((row) => row.scopes.some((s) => scopes.includes(s))
    && (layout === undefined || row.layouts === undefined || row.layouts.includes(layout)));
}

export function validate(entry: EntryPoint, options: unknown): Values {
  if (!isPlainObject(options)) throw new OptionError('options', 'an object', options);
  const layout = ENTRY_SCOPES[entry].includes('layout') ? layoutOf(options) : undefined;
  return validateObject(rowsOf(entry, layout), '', options, { entry, layout });
}

/** The words of a row's OptionError. */
export function expectedWords(row: OptionRow): string {
  return row.expected ?? expectedOf(row.kind);
}

interface Where { readonly entry: EntryPoint; readonly layout: LayoutName | undefined }

function layoutOf(options: Values): LayoutName {
  const row = OPTION_TABLE.find((r) => r.name === 'layout' && r.scopes.includes('layout'))!;
  const layout = options.layout ?? row.default;
  if (!isOfKind(row.kind, layout)) throw new OptionError('layout', expectedWords(row), layout);
  return layout as LayoutName;
}

/** The keys of `given` (an object option's value when `parent` is its name) against the rows under `parent`. */
function validateObject(rows: readonly OptionRow[], parent: string, given: Values, where: Where): Values {
  const prefix = parent === '' ? '' : `${parent}.`;
  const children = rows.filter((r) => r.name.startsWith(prefix) && !r.name.slice(prefix.length).includes('.'));
  const keys = children.map((r) => r.name.slice(prefix.length));
  for (const key of Object.keys(given)) {
    if (!keys.includes(key)) throw unknownOption(prefix + key, children.map((r) => r.name), where);
  }
  const resolved: Record<string, unknown> = {};
  for (const row of children) {
    const key = row.name.slice(prefix.length);
    resolved[key] = valueOf(row, given[key], resolved, given, rows, where);
  }
  return resolved;
}

function valueOf(row: OptionRow, value: unknown, resolved: Values, given: Values, rows: readonly OptionRow[], where: Where): unknown {
  if (value === undefined) {
    if (row.required) throw new OptionError(row.name, expectedWords(row), undefined);
    return row.fallback ? row.fallback(resolved, given) : row.default;
  }
  if (!isOfKind(row.kind, value)) throw new OptionError(row.name, expectedWords(row), value);
  const nested = row.kind.type === 'object' || row.kind.type === 'choice-or-object';
  return nested && isPlainObject(value) ? validateObject(rows, row.name, value, where) : value;
}

function unknownOption(key: string, known: readonly string[], where: Where): OptionError {
  const called = CALLED[where.entry];
  const guess = nearest(key, known);
  if (guess !== undefined) return new OptionError(key, '', undefined, `Unknown option \`${key}\` of ${called}: did you mean \`${guess}\`?`);
  const elsewhere = where.layout === undefined ? undefined : rowsOf(where.entry).find((r) => r.name === key && r.layouts !== undefined);
  const hint = elsewhere ? `it is an option of the ${elsewhere.layouts!.join(' and ')} layout${elsewhere.layouts!.length > 1 ? 's' : ''}, not of "${where.layout}"`
    : `the options are ${known.map((k) => `\`${k}\``).join(', ')}`;
  return new OptionError(key, '', undefined, `Unknown option \`${key}\` of ${called}${where.layout ? ` (layout "${where.layout}")` : ''}: ${hint}.`);
}
