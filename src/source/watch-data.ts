/**
 * watchData(watch): one pass of a re-readable source under the data fingerprint of chunk/data-fingerprint.ts.
 * Each subscription is a pass: the first records the marks, every later one (and a resumed fit's, against
 * its checkpoint's marks) fails with DATA_CHANGED at the first chunk whose running totals differ, and at
 * its end when the totals or the sample count do. Chunks pass through unchanged.
 */
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { beginDataPass, endDataPass, watchChunk, type DataWatch } from '../chunk/data-fingerprint.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import type { MatrixSource } from './matrix-source.js';

export function watchData(watch: DataWatch): MonoTypeOperatorFunction<CscChunk> {
  return (chunks) => new Observable<CscChunk>((subscriber) => {
    beginDataPass(watch);
    return chunks.subscribe({
      next: (chunk) => {
        if (subscriber.closed) return; // a synchronous source still emitting after an error
        try { watchChunk(watch, chunk); } catch (error) { subscriber.error(error); return; }
        subscriber.next(chunk);
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => {
        try { endDataPass(watch); } catch (error) { subscriber.error(error); return; }
        subscriber.complete();
      },
    });
  });
}

/** The same source, every pass of it watched (for drivers that take a MatrixSource, e.g. the SVD start). */
export function watchedSource(source: MatrixSource, watch: DataWatch): MatrixSource {
  return {
    name: source.name, rereadable: source.rereadable, chunks: () => source.chunks().pipe(watchData(watch)),
    ...(source.features === undefined ? {} : { features: source.features }),
    ...(source.samples === undefined ? {} : { samples: source.samples }),
    ...(source.featureNames === undefined ? {} : { featureNames: source.featureNames }),
  };
}
