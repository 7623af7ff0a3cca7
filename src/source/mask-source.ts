/**
 * `maskSource` (issue #15): the missing entries of a fit given as another sparse matrix, in any format the readers
 * take. Every pass reads the mask source alongside the data: each data chunk waits until the mask has been read past
 * its last sample, then gets the mask's entries for its samples as NaN (chunk/apply-mask.ts) — the chunk the same
 * data with NaN at those places gives, so the fit is the one of `missing: 'nan'` on that data, byte for byte. The two
 * sources may be cut into chunks differently. The mask is read at its own pace: chunks wait in memory for the other
 * stream (at most one pass of whichever is read faster). Shape: the mask must have the data's features, and no
 * sample past the data's last (SHAPE_MISMATCH naming maskSource); a mask that ends earlier leaves the last samples
 * without missing entries, unless it says how many samples it has (then it must be as many as the data's).
 */
import { Observable } from 'rxjs';
import { applyMask, checkMaskChunk } from '../chunk/apply-mask.js';
import { checkChunk } from '../chunk/check-chunk.js';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { DataError, OptionError } from '../errors.js';
import type { MemoryBudget } from '../memory-limit.js';
import type { MatrixSource } from './matrix-source.js';

/** Checks what both sources say before reading (an OptionError naming maskSource). */
function checkDeclared(data: MatrixSource, mask: MatrixSource): void {
  if (data.rereadable && !mask.rereadable) throw new OptionError('maskSource', 'a re-readable source (it is read once per pass, as the data)', mask.name);
  for (const [what, a, b] of [['features', data.features, mask.features], ['samples', data.samples, mask.samples]] as const) {
    if (a !== undefined && b !== undefined && a !== b) throw new OptionError('maskSource', `a mask of the data's ${a} ${what}`, `${b} ${what} (${mask.name})`);
  }
}

/** The data with the mask's entries missing (NaN), pass by pass. `nanMissing`: the data's own NaN values are missing entries too. */
export function maskedSource(data: MatrixSource, mask: MatrixSource, nanMissing: boolean): MatrixSource {
  checkDeclared(data, mask);
  return {
    get name() { return data.name; },
    get rereadable() { return data.rereadable; },
    get features() { return data.features; },
    get samples() { return data.samples; },
    get featureNames() { return data.featureNames; },
    get sampleNames() { return data.sampleNames; },
    chunks: (budget?: MemoryBudget) => maskedChunks(data, mask, nanMissing, budget),
  } as MatrixSource;
}

function maskedChunks(data: MatrixSource, mask: MatrixSource, nanMissing: boolean, budget: MemoryBudget | undefined): Observable<CscChunk> {
  return new Observable<CscChunk>((subscriber) => {
    const raw: CscChunk[] = []; // mask chunks not yet checked (the data's m is not known before its first chunk)
    const masks: CscChunk[] = [];
    const waiting: CscChunk[] = [];
    let maskEnd = 0, maskDone = false, dataDone = false, dataEnd = 0, m: number | undefined;
    const fail = (error: unknown): void => { if (!subscriber.closed) subscriber.error(error); };
    const drain = (): void => {
      try {
        if (m !== undefined) for (const k of raw.splice(0)) masks.push(checkMaskChunk(k, m, mask.name));
        while (waiting.length > 0 && (maskDone || maskEnd >= waiting[0]!.colStart + waiting[0]!.n) && !subscriber.closed) {
          const chunk = waiting.shift()!;
          while (masks.length > 0 && masks[0]!.colStart + masks[0]!.n <= chunk.colStart) masks.shift();
          subscriber.next(applyMask(chunk, masks));
        }
        if (dataDone && maskDone && waiting.length === 0 && !subscriber.closed) finish();
      } catch (error) {
        fail(error);
      }
    };
    const finish = (): void => {
      for (const k of masks) {
        for (let j = Math.max(0, dataEnd - k.colStart); j < k.n; j++) {
          if (k.colPtr[j + 1]! === k.colPtr[j]!) continue;
          throw new DataError('SHAPE_MISMATCH', `maskSource: the mask has an entry in sample ${k.colStart + j}, past the data's ${dataEnd} samples`,
            { source: mask.name, batch: k.position, feature: k.rowIdx[k.colPtr[j]!]!, sample: k.colStart + j });
        }
      }
      if (mask.samples !== undefined && mask.samples !== dataEnd) {
        throw new DataError('SHAPE_MISMATCH', `maskSource: the mask has ${mask.samples} samples but the data ${dataEnd}`, { source: mask.name });
      }
      subscriber.complete();
    };
    const maskSub = mask.chunks().subscribe({
      next: (k) => { raw.push(k); maskEnd = Math.max(maskEnd, k.colStart + k.n); drain(); },
      error: fail,
      complete: () => { maskDone = true; drain(); },
    });
    const dataSub = data.chunks(budget).subscribe({
      next: (chunk) => {
        try {
          checkChunk(chunk, data.name, nanMissing); // the data's own NaN: an error unless missing: 'nan'
        } catch (error) { fail(error); return; }
        m ??= chunk.m;
        dataEnd = chunk.colStart + chunk.n;
        waiting.push(chunk);
        drain();
      },
      error: fail,
      complete: () => { dataDone = true; drain(); },
    });
    return () => { maskSub.unsubscribe(); dataSub.unsubscribe(); };
  });
}
