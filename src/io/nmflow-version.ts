/**
 * The version of nmflow, recorded in every model file and printed by `nmflow --version`. A constant rather than
 * a read of package.json, so that bundles and the CommonJS build carry it too; test/model-file.test.ts checks
 * that it equals package.json's.
 */
export const NMFLOW_VERSION = '0.1.0';
