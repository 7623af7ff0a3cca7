/**
 * One row of the options table (table.ts): an option's name, kind, default, where it applies, a one-line doc
 * and its command-line flag. validate.ts checks options against the rows; cli/table-flags.ts makes flags of them.
 */
import type { Kind } from './kinds.js';

/**
 * Groups of options; an entry point accepts the rows of its scopes (validate.ts ENTRY_SCOPES).
 * fit: FitOptions (fit, fitModel, fitOnline) · online: OnlineOptions' own · layout: a table's layout (sources
 * and project) · read: the readers' ReadOptions (fromArrow, fromParquet) · project: the ETL operator's own ·
 * writer: openTableWriter · mtx: fromMtx / loadMtx · csc: fromCsc / fromDense · dense: fromDense's own ·
 * svd: randomizedSvd (and nndsvdStart) · nndsvd: nndsvdStart's own.
 */
export type Scope = 'fit' | 'online' | 'layout' | 'read' | 'project' | 'writer' | 'mtx' | 'csc' | 'dense' | 'svd' | 'nndsvd';

export type LayoutName = 'long' | 'wide' | 'list';

/** The options resolved so far (rows earlier in the table), and the options as given. */
export type Values = Readonly<Record<string, unknown>>;

export interface OptionRow {
  /** The key; a sub-option of an object option is `parent.key` (e.g. `checkpoint.every`). */
  readonly name: string;
  readonly kind: Kind;
  readonly scopes: readonly Scope[];
  /** Only for these table layouts (rows of the layout and read scopes). */
  readonly layouts?: readonly LayoutName[];
  /** The value when the option is not given (absent: undefined). */
  readonly default?: unknown;
  /** A default that depends on other options (rows above this one, or the options as given). */
  readonly fallback?: (resolved: Values, given: Values) => unknown;
  /** The default in words, when it is computed (fallback, or decided later by the code that uses it). */
  readonly defaultDoc?: string;
  readonly required?: boolean;
  /** One line: what the option does. */
  readonly doc: string;
  /** The "expected …" words of its OptionError, when the kind's own words say too little. */
  readonly expected?: string;
  /** Its command-line flag with the argument's name, e.g. `--max-iterations <N>` (`--no-diag` for a default-true boolean). */
  readonly flag?: string;
}
