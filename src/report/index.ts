/**
 * The HTML report: Vega-Lite charts rendered to SVG in Node, inlined in one self-contained page.
 */
export { buildReport, writeReport, type ReportModel, type ReportOptions, type ReportableModel } from './build-report.js';
export { modelTagsFromPath, modelFileStem, type ModelTags } from './model-tags.js';
export { renderSvg } from './render-svg.js';
export { cvSpec, isCvCurve, type CvCurve } from './cv-charts.js';
