/**
 * What a model file's name says about how it was fitted, for `nmflow report` with several models
 * (model files keep W, d and the trace, not the options): `l1-0.05` / `l1=0.05` / `l1_0.05`,
 * the same for `l2`, `none` (no penalty) and `seed-123`, anywhere in the base name, e.g.
 * `birds-l1-0.05-seed-123.arrow` or `birds_none_seed=7.csv`. A name with none of l1, l2 or
 * `none` is not part of a sweep.
 */
import { basename } from 'node:path';

export interface ModelTags {
  readonly l1?: number;
  readonly l2?: number;
  readonly seed?: number;
}

const NUMBER = String.raw`(\d+(?:\.\d+)?(?:e-?\d+)?)`;

/** The L1/L2 penalty and seed a model file's name states (`…-l1-0.01-seed-1.arrow`, `…_l2=1e-3_seed_7.csv`); zeros where it states none. */
export function modelTagsFromPath(path: string): ModelTags {
  const name = basename(path).replace(/\.(csv|arrow|feather|ipc|parquet)$/i, '');
  const find = (key: string): number | undefined => {
    const match = new RegExp(String.raw`(?:^|[^a-z0-9])${key}[-_=]?${NUMBER}(?![\d.])`, 'i').exec(name);
    return match ? Number(match[1]) : undefined;
  };
  const l1 = find('l1'), l2 = find('l2'), seed = find('seed');
  const none = /(?:^|[^a-z0-9])(?:none|unpenali[sz]ed)(?:[^a-z0-9]|$)/i.test(name);
  return {
    ...(l1 !== undefined ? { l1 } : none || l2 !== undefined ? { l1: 0 } : {}),
    ...(l2 !== undefined ? { l2 } : none || l1 !== undefined ? { l2: 0 } : {}),
    ...(seed !== undefined && Number.isInteger(seed) ? { seed } : {}),
  };
}

/** The name under which a model file's fit settings are recognised (the inverse of modelTagsFromPath). */
export function modelFileStem(tags: ModelTags): string {
  const penalty = (tags.l1 ?? 0) > 0 || (tags.l2 ?? 0) > 0
    ? [(tags.l1 ?? 0) > 0 ? `l1-${tags.l1}` : '', (tags.l2 ?? 0) > 0 ? `l2-${tags.l2}` : ''].filter(Boolean).join('-')
    : 'none';
  return tags.seed === undefined ? penalty : `${penalty}-seed-${tags.seed}`;
}
