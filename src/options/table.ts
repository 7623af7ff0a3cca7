/**
 * Every option of nmflow in one declarative table: name, kind (kinds.ts), default, where it applies (row.ts
 * scopes), a one-line doc and its command-line flag. validate.ts checks options against it at every public
 * entry point; cli/table-flags.ts makes the commands' flags and their help from it.
 */
import type { OptionRow } from './row.js';
import { FIT_ROWS } from './table-fit.js';
import { START_ROWS } from './table-start.js';
import { IN_MEMORY_ROWS, LAYOUT_ROWS, PROJECT_ROWS, READ_ROWS, WRITER_ROWS } from './table-data.js';

export const OPTION_TABLE: readonly OptionRow[] = [...FIT_ROWS, ...LAYOUT_ROWS, ...READ_ROWS, ...PROJECT_ROWS, ...WRITER_ROWS, ...IN_MEMORY_ROWS, ...START_ROWS];

export type { OptionRow, Scope, LayoutName, Values } from './row.js';
