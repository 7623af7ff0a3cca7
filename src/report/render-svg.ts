/**
 * Vega-Lite spec → SVG text, in Node, with no browser and no canvas: vega-lite compiles the spec to
 * Vega, a headless Vega View (renderer 'none') renders it, and `toSVG` serialises the scenegraph.
 * Element ids inside the SVG (clip paths, gradients) are prefixed with `prefix`, so that several
 * charts inlined in one HTML page never share an id.
 */
import type { TopLevelSpec } from 'vega-lite';

// Loaded when the first chart is drawn: importing the library (index.ts re-exports the report) or the
// CLI for another command costs nothing (Vega and Vega-Lite take ~0.3 s to load).
let libraries: Promise<[typeof import('vega'), typeof import('vega-lite')]> | undefined;
const loadVega = () => (libraries ??= Promise.all([import('vega'), import('vega-lite')]));

export async function renderSvg(spec: TopLevelSpec, prefix: string): Promise<string> {
  const [{ View, parse }, { compile }] = await loadVega();
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg
      .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}-${id}"`)
      .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}-${id})`)
      .replace(/href="#([^"]+)"/g, (_, id: string) => `href="#${prefix}-${id}"`);
  } finally {
    view.finalize();
  }
}
