/**
 * Progress of a fit on a terminal: one cli-progress bar over the iterations, updated per chunk with
 * the samples and nonzeros read in the current pass, their rate, and the loss and tol of the last
 * completed iteration. Used only when stderr is a TTY and neither --json nor --quiet is given.
 */
import { SingleBar } from 'cli-progress';
import type { ChunkProgress } from '../options.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { formatEta, passClock } from './pass-progress.js';

export interface FitProgress {
  onChunk(progress: ChunkProgress): void;
  onSnapshot(snapshot: Snapshot): void;
  stop(): void;
}

export function makeFitProgress(maxIterations: number, samples: number | undefined): FitProgress {
  const bar = new SingleBar({
    format: 'pass {pass}/{total} chunk {chunk} |{bar}| {samples} samples, {nnz} nonzeros | {rate} samples/s | loss {loss} tol {tol} | ETA {passEta}',
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
    fps: 10,
  });
  let passStart = performance.now();
  let lastPass = 0;
  let loss = '–';
  let tol = '–';
  // Pass, chunk and an ETA from the measured pass time (pass-progress.ts): long out-of-core fits.
  const clock = passClock(maxIterations);
  bar.start(maxIterations, 0, { pass: 1, chunk: 0, passEta: '–', samples: 0, nnz: 0, rate: '–', loss, tol });
  return {
    onChunk: (p) => {
      const r = clock(p);
      if (p.iteration !== lastPass) { lastPass = p.iteration; passStart = performance.now(); }
      const seconds = (performance.now() - passStart) / 1000;
      const within = samples ? Math.min(1, p.samples / samples) : 0;
      bar.update(p.iteration - 1 + within, {
        pass: p.iteration, chunk: r.chunk, passEta: formatEta(r.eta), samples: p.samples, nnz: p.nnz,
        rate: seconds > 0 ? Math.round(p.samples / seconds).toLocaleString('en-US') : '–', loss, tol,
      });
    },
    onSnapshot: (s) => {
      loss = s.relativeLoss.toPrecision(6);
      tol = s.tol.toExponential(2);
      bar.update(s.iteration, { pass: s.iteration, loss, tol });
    },
    stop: () => bar.stop(),
  };
}
