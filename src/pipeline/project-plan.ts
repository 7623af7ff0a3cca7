/**
 * The plan of project() (project.ts): its options checked once against the options table (resolvePlan,
 * before anything is subscribed), and for wide / list tables the column plan the first batch settles
 * (`settle`: kept columns, feature columns and their model index; matching by name: project.ts).
 */
import type { Schema } from 'apache-arrow';
import { dataError, isNumericType, type BatchWhere } from '../chunk/arrow-column.js';
import { OptionError, type DataError } from '../errors.js';
import { namedFeatures, unnamedDataMessage } from './feature-names.js';
import { layoutFrom, type ResolvedLayout } from '../source/layout.js';
import { validate } from '../options/validate.js';
import type { ProjectModel, ProjectOptions } from './project.js';

export interface ProjectPlan {
  readonly model: ProjectModel;
  readonly layout: ResolvedLayout;
  readonly passThrough: readonly string[] | undefined;
  readonly replaceFeatures: boolean;
  readonly names: ReadonlyMap<string, number> | undefined;
  readonly ignoreUnknown: boolean;
  readonly k: number;
  /** The names features are matched against when the model has real names (feature-names.ts), else undefined. */
  readonly named: readonly string[] | undefined;
}

/** SCHEMA_MISMATCH for a batch whose features (`what`) cannot be matched to the model's names. */
export function unnamedDataError(named: readonly string[], what: string, where: BatchWhere, column: string): DataError {
  return dataError('SCHEMA_MISMATCH', unnamedDataMessage(named, what), where, undefined, column);
}

/** Checks the options once against the options table (OptionError), before anything is subscribed. */
export function resolvePlan(model: ProjectModel, options: ProjectOptions): ProjectPlan {
  const v = validate('project', options);
  // the project's featureNames are matched against the model's, not a reader's dictionary
  const layout = layoutFrom({ ...v, featureNames: undefined });
  if (layout.layout !== 'wide' && layout.features !== undefined && layout.features !== model.features) {
    throw new OptionError('features', `the model's ${model.features} features (or nothing)`, layout.features);
  }
  const featureNames = (v.featureNames as readonly string[] | undefined) ?? model.featureNames;
  if (featureNames !== undefined && featureNames.length !== model.features) {
    throw new OptionError('featureNames', `${model.features} names (the model's features)`, featureNames);
  }
  const names = featureNames ? new Map(featureNames.map((f, i) => [f, i] as const)) : undefined;
  return {
    model, layout, passThrough: v.passThrough as readonly string[] | undefined, replaceFeatures: v.replaceFeatures as boolean, names,
    ignoreUnknown: v.unknownFeatures === 'ignore', k: model.rank,
    named: namedFeatures(featureNames),
  };
}

/** wide / list, from the first batch's schema: the kept columns and the feature columns with their model index. */
export function settle(plan: ProjectPlan, schema: Schema, where: BatchWhere): { keep: string[]; columns: string[]; featureOf: Int32Array | null } {
  const { layout, model, names } = plan;
  const all = schema.fields.map((f) => f.name);
  let data: string[];
  let columns: string[] = [];
  let featureOf: Int32Array | null = null;
  if (layout.layout === 'wide') {
    data = layout.columns ? [...layout.columns]
      : schema.fields.filter((f) => isNumericType(f.type) && !(plan.passThrough ?? []).includes(f.name)).map((f) => f.name);
    for (const c of data) if (!all.includes(c)) throw dataError('SCHEMA_MISMATCH', `feature column "${c}" not found`, where, undefined, c);
    const byName = names && data.some((c) => names.has(c)) ? names : undefined;
    if (!byName && plan.named) throw unnamedDataError(plan.named, `columns none of which is a model feature (${data.slice(0, 3).join(', ')}…)`, where, data[0] ?? '*');
    if (!byName && data.length !== model.features) {
      throw dataError('SCHEMA_MISMATCH', `${data.length} feature columns match none of the model's feature names, and the model has ${model.features} features`
        + ' (name the feature columns with `features`)', where, undefined, data[0] ?? '*');
    }
    const index: number[] = [];
    for (const c of data) {
      const i = byName ? byName.get(c) : columns.length;
      if (i === undefined) {
        if (plan.ignoreUnknown) continue;
        throw dataError('SCHEMA_MISMATCH', `column "${c}" is not one of the model's features (keep it with passThrough, or set unknownFeatures: 'ignore')`,
          where, undefined, c);
      }
      columns.push(c);
      index.push(i);
    }
    featureOf = Int32Array.from(index);
  } else {
    data = layout.layout === 'list' ? (layout.entries !== undefined ? [layout.entries] : [layout.indices, layout.values]) : [];
    if (plan.named) throw unnamedDataError(plan.named, 'integer indices (list layout)', where, data[0]!);
    columns = data;
  }
  const keep = (plan.passThrough ?? all).filter((c) => !(plan.replaceFeatures && data.includes(c)));
  for (const c of keep) if (!all.includes(c)) throw dataError('SCHEMA_MISMATCH', `pass-through column "${c}" not found`, where, undefined, c);
  return { keep, columns, featureOf };
}
