/** Flag parsers for commander: they throw commander's InvalidArgumentError (exit code 2); flags made from the options table. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseBytes } from '../memory-limit.js';
import type { Kind } from '../options/kinds.js';
import type { OptionRow } from '../options/row.js';
import { rowsOf, type EntryPoint } from '../options/validate.js';

export function parseInteger(flag: string): (value: string) => number {
  return (value) => {
    const v = Number(value);
    if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(v)) throw new InvalidArgumentError(`${flag} expects an integer, got "${value}".`);
    return v;
  };
}

export function parseNumber(flag: string): (value: string) => number {
  return (value) => {
    const v = Number(value);
    if (value.trim() === '' || !Number.isFinite(v)) throw new InvalidArgumentError(`${flag} expects a number, got "${value}".`);
    return v;
  };
}

export function parsePair(flag: string): (value: string) => [number, number] {
  return (value) => {
    const parts = value.split(',').map((s) => s.trim());
    const nums = parts.map(Number);
    if (parts.length < 1 || parts.length > 2 || parts.some((s) => s === '') || nums.some((v) => !Number.isFinite(v))) {
      throw new InvalidArgumentError(`${flag} expects "W,H" or one number for both, got "${value}".`);
    }
    return parts.length === 1 ? [nums[0]!, nums[0]!] : [nums[0]!, nums[1]!];
  };
}

/**
 * The flags of options of the options table (options/table.ts), added to a command: the flag's name and
 * argument, its parser (by the option's kind) and its help line (the option's doc and default) all come from
 * the table. Values are checked against the table again when the options are resolved (a usage error, exit 2).
 */
export function addTableFlags(command: Command, entry: EntryPoint, names: readonly string[]): Command {
  for (const name of names) command.addOption(flagOf(tableRow(entry, name)));
  return command;
}

/** The option behind a flag of `entry`. */
export function tableRow(entry: EntryPoint, name: string): OptionRow {
  const row = rowsOf(entry).find((r) => r.name === name && r.flag !== undefined);
  if (!row) throw new Error(`the options table has no flag for \`${name}\` of ${entry}`);
  return row;
}

/** A flag's help line: the option's doc, and its default unless the flag is a switch (no argument). */
export function helpOf(row: OptionRow): string {
  const fallback = row.defaultDoc ?? (row.default === undefined ? undefined : String(row.default));
  return fallback === undefined || row.kind.type === 'boolean' ? row.doc : `${row.doc} (default: ${fallback})`;
}

function flagOf(row: OptionRow): Option {
  const flag = new Option(row.flag!, helpOf(row));
  const parse = parserOf(row.kind, /--[\w-]+/.exec(row.flag!)![0]);
  if (parse) flag.argParser(parse);
  if (row.required && !row.name.includes('.')) flag.makeOptionMandatory();
  return flag;
}

function parserOf(kind: Kind, flag: string): ((value: string) => unknown) | undefined {
  switch (kind.type) {
    case 'integer': return parseInteger(flag);
    case 'number': return parseNumber(flag);
    case 'pair': return parsePair(flag);
    case 'bytes': return parseSize(flag);
    case 'enum': return kind.values.every((v) => typeof v === 'number') ? parseInteger(flag) : undefined;
    default: return undefined; // strings (split by the command), booleans (no argument)
  }
}

function parseSize(flag: string): (value: string) => number {
  return (value) => {
    const bytes = parseBytes(value);
    if (bytes === undefined || bytes < 2 ** 20) throw new InvalidArgumentError(`${flag} expects a size of at least 1M, such as 8G or 512M, got "${value}".`);
    return bytes;
  };
}
