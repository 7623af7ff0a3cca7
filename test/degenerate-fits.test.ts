/**
 * Issue #13 (silently wrong results): a fit never reports a model it does not have. All-zero data is
 * EMPTY_INPUT; an all-zero (or NaN / negative) start is a bad option; a start that becomes all zero, and a
 * NaN or infinite loss, are NUMERICAL (src/pipeline/fit-checks.ts) — before, each ended "converged".
 */
import { join } from 'node:path';
import { tableFromArrays } from 'apache-arrow';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { NmfError, OptionError } from '../src/errors.js';
import { writeTable } from '../src/io/write-table.js';
import { fit, fitModel } from '../src/pipeline/fit.js';
import { checkFiniteLoss } from '../src/pipeline/fit-checks.js';
import { fitOnline } from '../src/pipeline/fit-online.js';
import { fromCsc, fromDense, type CscMatrix } from '../src/source/from-csc.js';
import { fromParquet } from '../src/source/from-parquet.js';
import { tmpDir } from './fixtures/sources.js';

/** The typed error a fit ends with (fails the test if it ends with a model). */
async function fitError(run: Promise<unknown>): Promise<NmfError> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(NmfError);
    return error as NmfError;
  }
  throw new Error('expected the fit to fail');
}

/** 6 × 8: features 0–2 carry every value, features 3–5 none. */
function topHalf(): CscMatrix {
  const dense = Array.from({ length: 48 }, (_, p) => (p % 6 < 3 ? 1 + ((p * 7) % 5) : 0));
  return fromDense(dense, 6, 8).matrix;
}

const losses = ['l2', 'l1'] as const;

describe('all-zero data is EMPTY_INPUT', () => {
  const stored: CscMatrix = { m: 4, n: 3, colPtr: Int32Array.of(0, 2, 3, 4), rowIdx: Int32Array.of(0, 2, 1, 3), values: new Float64Array(4) };
  const none: CscMatrix = { m: 4, n: 3, colPtr: new Int32Array(4), rowIdx: new Int32Array(0), values: new Float64Array(0) };

  for (const loss of losses) {
    it(`${loss}: stored zeros only, and no nonzero at all`, async () => {
      for (const matrix of [stored, none]) {
        const err = await fitError(fitModel(fromCsc(matrix), { rank: 2, loss, maxIterations: 5 }));
        expect([err.code, err.location?.source]).toEqual(['EMPTY_INPUT', 'in-memory CSC']);
        expect(err.message).toContain('every value of the data is zero');
      }
    });
  }

  it('a Parquet long table whose values are all zero', async () => {
    const path = join(tmpDir('degenerate'), 'zeros.parquet');
    await writeTable(path, tableFromArrays({ feature: Int32Array.of(0, 1, 2), sample: Int32Array.of(0, 0, 1), value: new Float64Array(3) }).batches);
    const err = await fitError(fitModel(fromParquet(path, { layout: 'long', features: 3 }), { rank: 1, maxIterations: 3 }));
    expect([err.code, err.location?.source]).toEqual(['EMPTY_INPUT', path]);
  });

  it('fitOnline over a stream of all-zero chunks', async () => {
    const err = await fitError(lastValueFrom(fitOnline(fromCsc(stored, { chunkSize: 1 }), { rank: 2 })));
    expect(err.code).toBe('EMPTY_INPUT');
  });
});

describe('a start that cannot give a model', () => {
  it('an all-zero init.W (or init.H) is a bad option, thrown before anything is read', () => {
    const source = fromCsc(topHalf());
    expect(() => fit(source, { rank: 2, init: { W: new Float64Array(12) } })).toThrow(OptionError);
    expect(() => fit(source, { rank: 2, init: { W: new Float64Array(12) } })).toThrow(/init\.W.*not all zero.*12 zeros/);
    expect(() => fit(source, { rank: 2, loss: 'l1', init: { W: new Float64Array(12).fill(1), H: new Float64Array(16) } })).toThrow(/init\.H/);
  });

  it('NaN, negative or infinite entries of init.W are bad options', () => {
    const source = fromCsc(topHalf());
    for (const bad of [NaN, -1, Infinity]) {
      const W = new Float64Array(12).fill(0.5);
      W[5] = bad;
      expect(() => fit(source, { rank: 2, init: { W } })).toThrow(/init\.W.*at index 5/);
    }
  });

  for (const loss of losses) {
    it(`${loss}: a start that becomes all zero (W only on features without data) is NUMERICAL, not "converged"`, async () => {
      const W = new Float64Array(12);
      for (let i = 3; i < 6; i++) W.fill(1, 2 * i, 2 * i + 2);
      const err = await fitError(fitModel(fromCsc(topHalf()), { rank: 2, loss, maxIterations: 5, warmupIterations: 0, init: { W } }));
      expect(err.code).toBe('NUMERICAL');
      expect(err.message).toMatch(/every component of the model became zero/);
    });
  }
});

describe('a NaN or infinite loss is NUMERICAL', () => {
  it('checkFiniteLoss rejects NaN and infinite losses and passes finite ones', () => {
    const point = { iteration: 3, relativeLoss: 0.5, objective: 0.5, tol: 1, seconds: 0 };
    expect(() => checkFiniteLoss(point, 'x')).not.toThrow();
    for (const bad of [NaN, Infinity]) {
      expect(() => checkFiniteLoss({ ...point, relativeLoss: bad }, 'x')).toThrow(/iteration 3 gave a loss of/);
      expect(() => checkFiniteLoss({ ...point, objective: bad }, 'x')).toThrow(NmfError);
    }
  });
});
