/**
 * The NNDSVD start of a fit (`init: 'nndsvd' | 'nndsvda'`), computed before its first pass:
 * `randomizedSvd` reads a re-readable source 2q + 2 times (q = 1 power iteration: 4 passes),
 * one `source.chunks()` subscription per pass, and emits the leading k singular triplets once;
 * `nndsvdStart` turns them into W (m×k) and H (k×n) (kernel/nndsvd.ts), with NNDSVDa's zeros
 * filled by the mean of A over all m·n entries. Memory O((m + n)·(k + 10)).
 *
 * Both are cold Observables with state per subscription; unsubscribing stops the current pass.
 */
import { Observable, map, type Subscription } from 'rxjs';
import { checkChunk } from '../chunk/check-chunk.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { NmfError } from '../errors.js';
import { fillZeros, nndsvd } from '../kernel/nndsvd.js';
import type { MatrixSource } from '../source/matrix-source.js';
import { validate } from '../options/validate.js';
import {
  beginSvdPass, endSvdPass, makeSvdSketch, stepSvdSketch, svdOfSketch,
  type SvdResult,
} from '../model/svd/sketch.js';

export interface RandomizedSvdOptions {
  readonly rank: number;
  /** Seed of the Gaussian test matrix Ω. */
  readonly seed: number;
  /** Extra columns p of the sketch (default 10) and power iterations q (default 1). */
  readonly oversample?: number;
  readonly powerIterations?: number;
  /** The products in WebAssembly where the runtime has SIMD (default true; false: TypeScript, the same bytes). */
  readonly wasm?: boolean;
}

export interface NndsvdStart {
  /** m×k row-major and k×n row-major (the public layouts): W·H ≈ A; H is empty when `withH` was false. */
  readonly W: Float64Array;
  readonly H: Float64Array;
  readonly m: number;
  readonly n: number;
  /** Leading singular values of A, the passes read and the seconds the whole start took. */
  readonly sigma: Float64Array;
  readonly passes: number;
  readonly seconds: number;
}

/** The leading `rank` singular triplets of the source's matrix, one pass per product with A or Aᵀ. */
export function randomizedSvd(source: MatrixSource, options: RandomizedSvdOptions): Observable<SvdResult> {
  const v = validate('randomizedSvd', options) as Required<RandomizedSvdOptions>; // kinds and defaults: options/table-start.ts
  return new Observable<SvdResult>((subscriber) => {
    const state = makeSvdSketch(v.rank, v.seed, source.samples, v.oversample, v.powerIterations, v.wasm);
    // Chunks are immutable: one that comes again (an in-memory source replays the same objects) was checked.
    const checked = new WeakSet<CscChunk>();
    let pass: Subscription | undefined;
    let pending: ReturnType<typeof setImmediate> | undefined;
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      pass?.unsubscribe();
      subscriber.error(error instanceof NmfError ? error
        : new NmfError('NUMERICAL', `the SVD start failed: ${(error as Error)?.message ?? String(error)}`, { cause: error }));
    };
    // An error from the source itself (not an NmfError: the user's Observable, a network) is an IO error.
    const sourceFailed = (error: unknown): void => fail(error instanceof NmfError ? error
      : new NmfError('IO', `source ${source.name} failed: ${(error as Error)?.message ?? String(error)}`, { location: { source: source.name }, cause: error }));
    const runPass = (): void => {
      pending = undefined;
      beginSvdPass(state);
      const onChunk = (chunk: CscChunk): void => {
        if (failed || subscriber.closed) return;
        try {
          if (!checked.has(chunk)) {
            checkChunk(chunk, source.name);
            checked.add(chunk);
          }
          stepSvdSketch(state, chunk, source.name);
        } catch (error) {
          fail(error);
        }
      };
      const onComplete = (): void => {
        if (failed || subscriber.closed) return;
        try {
          if (!endSvdPass(state, source.name)) {
            pending = setImmediate(runPass);
            return;
          }
          subscriber.next(svdOfSketch(state));
          subscriber.complete();
        } catch (error) {
          fail(error);
        }
      };
      const subscription = source.chunks().subscribe({ next: onChunk, error: sourceFailed, complete: onComplete });
      if (failed) subscription.unsubscribe();
      else pass = subscription;
    };
    runPass();
    return () => {
      failed = true;
      pass?.unsubscribe();
      if (pending !== undefined) clearImmediate(pending);
    };
  });
}

export interface NndsvdStartOptions extends RandomizedSvdOptions {
  /** NNDSVDa (true: zeros filled with the mean of A) or NNDSVD. */
  readonly fill: boolean;
  /** Compute H (default true; an l2 fit, which starts from W alone, passes false). */
  readonly withH?: boolean;
}

/** NNDSVD (fill = false) or NNDSVDa (fill = true) of the source's matrix. */
export function nndsvdStart(source: MatrixSource, options: NndsvdStartOptions): Observable<NndsvdStart> {
  const { fill, withH, ...svdOptions } = validate('nndsvdStart', options) as Required<NndsvdStartOptions>;
  return new Observable<NndsvdStart>((subscriber) => {
    const started = performance.now();
    return randomizedSvd(source, svdOptions).pipe(map((svd): NndsvdStart => {
      const { m, n, k } = svd;
      // W overwrites U, column by column (nndsvd allows it); an empty H is skipped (V's part norms still count)
      const W = svd.U, H = new Float64Array(withH ? k * n : 0);
      nndsvd(svd.U, m, svd.sigma, svd.V, n, k, k, W, H, new Float64Array(6 * k));
      const mean = svd.sumA / (m * n);
      if (fill) fillZeros(W, m * k, mean);
      if (fill && withH) fillZeros(H, k * n, mean);
      return { W, H, m, n, sigma: svd.sigma, passes: svd.passes, seconds: (performance.now() - started) / 1000 };
    })).subscribe(subscriber);
  });
}
