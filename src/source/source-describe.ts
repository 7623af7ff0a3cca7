/**
 * What a batch source (batch-source.ts) knows before its first chunk: m, the feature names and, when cheap,
 * n — from the options, else the format's statistics and metadata, else a first pass over the id column
 * (`scan`, which also builds the dictionary of string feature ids; `fromScan` turns it into SourceInfo).
 */
import { defer, from, map, of, reduce, switchMap, type Observable } from 'rxjs';
import type { Schema } from 'apache-arrow';
import { columnData, isStringType, type BatchWhere } from '../chunk/arrow-column.js';
import { appearanceLookup, scanIds, sortedNames, type IdScan } from '../chunk/id-dictionary.js';
import { listIndexData } from '../chunk/list-to-csc.js';
import { wideColumns } from '../chunk/wide-to-csc.js';
import { DataError } from '../errors.js';
import type { BatchInput, SourceInfo } from './batch-source.js';
import type { ResolvedLayout } from './layout.js';
import { pullBatches } from './pull-batches.js';

/** m, feature names and (when cheap) n, before the first chunk. */
export function describe(input: BatchInput, layout: ResolvedLayout): Observable<SourceInfo> {
  const names = layout.featureNames;
  const base = { samples: layout.samples, featureNames: names, columns: undefined };
  const where0: BatchWhere = { source: input.name, batch: 0, rowOffset: 0, unit: 'record batch' };
  const schema$: Observable<Schema | undefined> = input.schema ? from(input.schema()) : of(undefined);
  // n before reading, when metadata has it: rows (wide, list) or the largest integer sample id (long).
  const samples$ = defer(async () => {
    if (layout.samples !== undefined) return layout.samples;
    if (layout.layout !== 'long') return input.rows?.();
    const max = await input.maxOf?.(layout.sample);
    return max === undefined ? undefined : max + 1 - layout.indexBase;
  });
  if (layout.layout === 'wide') {
    return schema$.pipe(switchMap((schema) => samples$.pipe(map((samples): SourceInfo => {
      const columns = layout.columns ?? (schema ? wideColumns(schema, undefined, where0) : undefined);
      return { samples, columns, features: columns?.length, featureNames: names ?? columns };
    }))));
  }
  const idColumn = layout.layout === 'long' ? layout.feature : layout.entries ?? layout.indices;
  const fixed = layout.features ?? names?.length;
  const extend = layout.layout === 'long' && layout.extend;
  // A one-shot input cannot be scanned: with 'extend' it starts from what the options say and grows.
  if (extend && !input.rereadable) return samples$.pipe(map((samples) => ({ ...base, samples, features: fixed ?? 0 })));
  const m$ = schema$.pipe(switchMap((schema) => {
    const field = schema?.fields.find((f) => f.name === idColumn);
    const stringIds = layout.layout === 'long' && field !== undefined && isStringType(field.type);
    // 'extend' on a re-readable input: the options give the first features, the data may add more.
    if (fixed !== undefined && !(stringIds && !names) && !extend) return of<SourceInfo>({ ...base, features: fixed });
    const stats$ = !stringIds && input.maxOf ? from(input.maxOf(idColumn)) : of(undefined);
    return stats$.pipe(switchMap((max) => (max !== undefined
      ? of<SourceInfo>({ ...base, features: Math.max(extend ? fixed ?? 0 : 0, max + 1 - layout.indexBase) })
      : scan(input, layout, idColumn).pipe(map((acc) => fromScan(acc, layout, fixed, input.name))))));
  }));
  return m$.pipe(switchMap((info) => samples$.pipe(map((samples) => ({ ...info, samples })))));
}

function scan(input: BatchInput, layout: ResolvedLayout, idColumn: string): Observable<IdScan> {
  const entries = layout.layout === 'list' && layout.entries !== undefined;
  return pullBatches(() => input.open([idColumn])).pipe(reduce((acc: IdScan, { batch, where }) => {
    const [data, rowOf] = layout.layout === 'long' ? [columnData(batch, idColumn, where)] : listIndexData(batch, idColumn, entries, where);
    scanIds(data, idColumn, where, layout.indexBase, acc, rowOf);
    return acc;
  }, { maxIndex: -1, strings: null }));
}

function fromScan(acc: IdScan, layout: ResolvedLayout, fixed: number | undefined, name: string): SourceInfo {
  const base = { samples: layout.samples, columns: undefined };
  if (layout.layout === 'long' && layout.extend) {
    const given = layout.featureNames;
    if (acc.strings && given) {
      // The dictionary a one-shot read would end with: the given names, then new ids in order of first appearance.
      const dictionary = appearanceLookup(given);
      for (const id of acc.strings) dictionary(id, 0);
      return { ...base, features: dictionary.ids.length, featureNames: dictionary.ids };
    }
    // Integer ids: the given features, or more.
    if (!acc.strings && acc.maxIndex >= 0) return { ...base, features: Math.max(fixed ?? 0, acc.maxIndex + 1), featureNames: given };
  }
  if (acc.strings) {
    const names = sortedNames(acc.strings);
    if (fixed !== undefined && fixed !== names.length) {
      throw new DataError('SHAPE_MISMATCH', `option \`features\` is ${fixed} but the data has ${names.length} distinct feature ids`, { source: name });
    }
    return { ...base, features: names.length, featureNames: names };
  }
  if (acc.maxIndex < 0) throw new DataError('EMPTY_INPUT', 'the input has no feature ids', { source: name });
  return { ...base, features: acc.maxIndex + 1, featureNames: layout.featureNames };
}
