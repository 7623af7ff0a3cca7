/**
 * Progress of long fits (issue #17): the pass, the chunk within it, the rate, and an ETA from the measured time of
 * the last complete pass (a long out-of-core fit has passes of similar length; the first one includes warm-up and is
 * replaced as soon as a second has been timed). The ETA runs to --max-iterations (tol may stop the fit sooner).
 * With --json and --progress-every S: one `{"progress":true,…}` line on stdout at most every S seconds, during a pass.
 */
import type { ChunkProgress } from '../options.js';

export interface PassReading {
  readonly pass: number;
  readonly chunk: number;
  readonly samples: number;
  readonly nnz: number;
  /** Seconds since the pass began. */
  readonly passSeconds: number;
  /** Nonzeros per second in this pass. */
  readonly rate: number;
  /** Seconds to --max-iterations, once a pass has been timed. */
  readonly eta: number | undefined;
}

/** Folds the per-chunk progress of a fit into readings. */
export function passClock(maxIterations: number): (p: ChunkProgress) => PassReading {
  let pass = 0;
  let chunk = 0;
  let start = performance.now();
  let lastPass: number | undefined;
  return (p) => {
    const now = performance.now();
    if (p.iteration !== pass) {
      if (pass > 0) lastPass = (now - start) / 1000;
      pass = p.iteration;
      start = now;
      chunk = 0;
    }
    chunk++;
    const passSeconds = (now - start) / 1000;
    const eta = lastPass === undefined ? undefined : (maxIterations - pass) * lastPass + Math.max(0, lastPass - passSeconds);
    return { pass, chunk, samples: p.samples, nnz: p.nnz, passSeconds, rate: passSeconds > 0 ? p.nnz / passSeconds : 0, eta };
  };
}

/** `h:mm:ss` (or `–` when not known yet). */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** An onChunk that prints a JSON progress line at most every `everySeconds`. */
export function jsonProgress(maxIterations: number, everySeconds: number, print: (line: string) => void): (p: ChunkProgress) => void {
  const clock = passClock(maxIterations);
  let last = performance.now();
  return (p) => {
    const r = clock(p);
    const now = performance.now();
    if ((now - last) / 1000 < everySeconds) return;
    last = now;
    print(JSON.stringify({ progress: true, iteration: r.pass, chunk: r.chunk, samples: r.samples, nnz: r.nnz,
      passSeconds: r.passSeconds, nnzPerSecond: Math.round(r.rate), ...(r.eta === undefined ? {} : { etaSeconds: r.eta }) }));
  };
}
