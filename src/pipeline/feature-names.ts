/**
 * Whether a model's features have names that data must be matched by (pipeline/project.ts and
 * `nmflow project`, cli/project-command.ts): a model file always lists one name per feature, and an
 * unnamed fit is written with the indices "0"…"m−1" (io/model-file.ts) — those are positions, not names.
 */

/** The model's feature names when they are names, not the indices "0"…"m−1"; else undefined. */
export function namedFeatures(names: readonly string[] | undefined): readonly string[] | undefined {
  return names && names.some((name, i) => name !== String(i)) ? names : undefined;
}

/** Says that the model's features are named and the data's (`what`) cannot be matched to those names. */
export function unnamedDataMessage(named: readonly string[], what: string): string {
  const preview = named.slice(0, 3).map((f) => JSON.stringify(f)).join(', ') + (named.length > 3 ? ', …' : '');
  return `the model's ${named.length} features are named (${preview}) but the data's features are ${what}, which would be `
    + "matched by position: give the data the model's feature names (string feature ids, or named wide columns)";
}
