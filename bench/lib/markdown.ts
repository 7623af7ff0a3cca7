/** Number formatting and a padded markdown table for the benchmark reports. */

export const NA = 'n/a';

/** A markdown table whose columns are padded to a common width (readable as plain text too). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], rightAlign: readonly boolean[] = []): string {
  const widths = header.map((cell, c) => Math.max(3, cell.length, ...rows.map((row) => (row[c] ?? '').length)));
  const pad = (cell: string, c: number): string => {
    const width = widths[c] ?? cell.length;
    return rightAlign[c] ? cell.padStart(width) : cell.padEnd(width);
  };
  const line = (cells: readonly string[]): string => `| ${header.map((_, c) => pad(cells[c] ?? '', c)).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (rightAlign[c] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Seconds as milliseconds with three significant digits. */
export function ms(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return NA;
  const value = seconds * 1000;
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

export function secondsText(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return NA;
  return seconds >= 10 ? seconds.toFixed(1) : seconds.toPrecision(3);
}

export function ratioText(ratio: number | undefined, digits = 2): string {
  return ratio === undefined || !Number.isFinite(ratio) ? NA : ratio.toFixed(digits);
}

export function lossText(loss: number | undefined): string {
  return loss === undefined || !Number.isFinite(loss) ? NA : loss.toPrecision(6);
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || !(b > 0) ? undefined : a / b;
}
