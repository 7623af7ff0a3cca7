/**
 * The HTML around the charts: escaping, tables of numbers, sections and the page itself (one file,
 * inline CSS, inline SVG; nothing is fetched when it is opened).
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A number for a table cell: 4 significant digits, '–' when absent. */
export function formatNumber(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '–';
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  return abs !== 0 && (abs < 1e-3 || abs >= 1e6) ? value.toExponential(3) : String(Number(value.toPrecision(4)));
}

export type Cell = string | number | undefined;

export function table(headers: readonly string[], rows: readonly (readonly Cell[])[], caption?: string): string {
  const cell = (c: Cell): string => (typeof c === 'string' ? escapeHtml(c) : formatNumber(c));
  return `<table>${caption ? `<caption>${escapeHtml(caption)}</caption>` : ''}`
    + `<thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>`
    + `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** A chart: the SVG inside a <figure> whose data-chart attribute names it (tests count these). */
export function figure(name: string, svg: string): string {
  return `<figure class="chart" data-chart="${escapeHtml(name)}">${svg}</figure>`;
}

export function section(id: string, title: string, body: string): string {
  return `<section id="${escapeHtml(id)}"><h2>${escapeHtml(title)}</h2>${body}</section>`;
}

export function paragraph(text: string): string {
  return `<p>${escapeHtml(text)}</p>`;
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; } .meta { color: #666; margin-top: 0; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; } figure { margin: 0; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0 1rem; } caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: right; } th { background: #f5f5f5; } td:first-child, th:first-child { text-align: left; }
nav a { margin-right: 1rem; } .flag { color: #8a4b00; background: #fff4e0; border-left: 3px solid #e08a00; padding: .3rem .6rem; margin: .3rem 0; }`;

export function page(title: string, subtitle: string, nav: readonly [string, string][], body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="nmflow report"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><header><h1>${escapeHtml(title)}</h1><p class="meta">${escapeHtml(subtitle)}</p>
<nav>${nav.map(([id, label]) => `<a href="#${escapeHtml(id)}">${escapeHtml(label)}</a>`).join('')}</nav></header>
${body}
</body></html>
`;
}
