/**
 * The options of nmflow: src/options/ holds the table (table.ts), its validation (validate.ts) and the fit's
 * resolution (resolve-fit.ts). This file keeps the names that the rest of the code imports from here.
 */
export {
  resolveOptions, resolveFit, withSolver, fingerprintOf, checkShape, FAST_SWEEPS, ONLINE_W_SWEEPS,
  type Loss, type FitOptions, type Solver, type InitMethod, type ChunkProgress, type ResolvedOptions,
} from './options/resolve-fit.js';
export type { MaskFitOptions, ResolvedMask, TestZeros } from './options/resolve-mask.js';
export { validate, rowsOf, type EntryPoint } from './options/validate.js';
export { OPTION_TABLE, type OptionRow, type Values } from './options/table.js';
