/**
 * `nmflow/report`: the HTML report — Vega-Lite charts rendered to SVG in Node, inlined in one self-contained page.
 * A subpath export of its own, so that importing `nmflow` never loads it; Vega and Vega-Lite load when the first
 * chart is drawn (render-svg.ts), and no type of theirs is part of this entry's declarations.
 */
export { buildReport, writeReport, type ReportModel, type ReportOptions, type ReportableModel } from './build-report.js';
export { modelTagsFromPath, modelFileStem, type ModelTags } from './model-tags.js';
export { cvSpec, isCvCurve, type CvCurve } from './cv-charts.js';
