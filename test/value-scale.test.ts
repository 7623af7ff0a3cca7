/**
 * Issue #13 (silently wrong results): values far from 1 — whose squares underflow (≤ ~1e−154) or overflow
 * (≥ ~1e154), or that merely fall below the kernels' absolute floors (~1e−18 changed an l2 model, ~1e−30
 * zeroed an l1 model) — are fitted exactly: the data is scaled by an even power of two fixed by its first
 * nonempty sample, and d unscaled (src/pipeline/value-scale.ts). A value still above 2^480 after scaling is
 * INVALID_VALUE naming the feature and the sample.
 */
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import { writeTable } from '../src/io/write-table.js';
import { fitModel } from '../src/pipeline/fit.js';
import { fitOnline } from '../src/pipeline/fit-online.js';
import { scaleExponent } from '../src/pipeline/value-scale.js';
import { fromCsc, type CscMatrix } from '../src/source/from-csc.js';
import { fromParquet } from '../src/source/from-parquet.js';
import type { Model } from '../src/snapshot/snapshot.js';
import { tmpDir } from './fixtures/sources.js';

/** 9 × 14 counts in 1…3 (first sample's largest value 3: in [1, 4), so the scale rule leaves it as it is). */
function counts(): CscMatrix {
  const colPtr = [0];
  const rows: number[] = [];
  const values: number[] = [];
  for (let j = 0; j < 14; j++) {
    for (let i = 0; i < 9; i++) if ((i * 5 + j * 3) % 4 !== 0) { rows.push(i); values.push(1 + ((i + 2 * j) % 3)); }
    colPtr.push(rows.length);
  }
  return { m: 9, n: 14, colPtr: Int32Array.from(colPtr), rowIdx: Int32Array.from(rows), values: Float64Array.from(values) };
}

const A = counts();
const times = (s: number): CscMatrix => ({ ...A, values: A.values.map((v) => v * s) });
const bytes = (x: Float64Array): Buffer => Buffer.from(x.buffer, x.byteOffset, x.byteLength);

function expectScaledModel(got: Model, reference: Model, s: number): void {
  expect(bytes(got.W).equals(bytes(reference.W))).toBe(true);
  expect(Array.from(got.d)).toEqual(Array.from(reference.d, (x) => x * s));
  expect(got.relativeLoss).toBe(reference.relativeLoss);
  expect(Number.isFinite(got.relativeLoss)).toBe(true);
}

describe('values far from 1 are fitted exactly', () => {
  it('the scale rule: nothing for a first sample whose largest value is in [2^-30, 2^100], else an even exponent to [1, 4)', () => {
    expect([scaleExponent(1), scaleExponent(3), scaleExponent(2 ** -30), scaleExponent(2 ** 100)]).toEqual([0, 0, 0, 0]);
    expect([scaleExponent(1e-160), scaleExponent(2 ** -31), scaleExponent(3 * 2 ** 200)]).toEqual([532, 32, -200]);
    for (const v of [1e-160, 7e-40, 5e120, 1e300]) expect(v * 2 ** scaleExponent(v)).toBeGreaterThanOrEqual(1);
    for (const v of [1e-160, 7e-40, 5e120, 1e300]) expect(v * 2 ** scaleExponent(v)).toBeLessThan(4);
  });

  for (const loss of ['l2', 'l1'] as const) {
    it(`${loss}: data times 2^-600, 2^-100, 2^-60, 2^300 and 2^900 gives the model of the data, d times the same power`, async () => {
      const options = { rank: 3, seed: 5, maxIterations: 6, loss };
      const reference = await fitModel(fromCsc(A, { chunkSize: 4 }), options);
      for (const e of [-600, -100, -60, 300, 900]) {
        expectScaledModel(await fitModel(fromCsc(times(2 ** e), { chunkSize: 4 }), options), reference, 2 ** e);
      }
    });
  }

  it('a Parquet file of values around 1e-180 (squares underflow to 0) gives the model of the same counts', async () => {
    const path = join(tmpDir('value-scale'), 'tiny.parquet');
    const s = 2 ** -600;
    const feature: number[] = [];
    const sample: number[] = [];
    for (let j = 0; j < A.n; j++) for (let p = A.colPtr[j]!; p < A.colPtr[j + 1]!; p++) { feature.push(A.rowIdx[p]!); sample.push(j); }
    await writeTable(path, tableFromArrays({ feature: Int32Array.from(feature), sample: Int32Array.from(sample), value: A.values.map((v) => v * s) }).batches);
    const options = { rank: 3, seed: 5, maxIterations: 6 };
    const reference = await fitModel(fromCsc(A, { chunkSize: 5 }), options);
    expectScaledModel(await fitModel(fromParquet(path, { layout: 'long', features: 9, chunkSize: 5 }), options), reference, s);
  });

  it('fitOnline of data times 2^-560 gives the online model of the data', async () => {
    const options = { rank: 2, seed: 3 };
    const reference = await lastValueFrom(fitOnline(fromCsc(A, { chunkSize: 3 }), options)) as Model;
    const tiny = await lastValueFrom(fitOnline(fromCsc(times(2 ** -560), { chunkSize: 3 }), options)) as Model;
    expect(bytes(tiny.W).equals(bytes(reference.W))).toBe(true);
    expect(Array.from(tiny.d)).toEqual(Array.from(reference.d, (x) => x * 2 ** -560));
  });

  it('a value still above 2^480 once the data is scaled is INVALID_VALUE naming the source, feature and sample', async () => {
    const values = A.values.slice();
    const p = A.colPtr[6]! + 1;
    values[p] = 1e150;
    const error = await fitModel(fromCsc({ ...A, values }, { name: 'huge' }), { rank: 2, maxIterations: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect([(error as DataError).code, (error as DataError).location]).toEqual(['INVALID_VALUE', { source: 'huge', feature: A.rowIdx[p], sample: 6 }]);
    expect((error as DataError).message).toMatch(/value 1e\+150 is above 2\^480/);
  });
});
