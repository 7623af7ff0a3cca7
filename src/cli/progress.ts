/**
 * Progress of a fit on a terminal: one cli-progress bar over the iterations, updated per chunk with
 * the samples and nonzeros read in the current pass, their rate, the loss and tol of the last
 * completed iteration, and an ETA. Used only when stderr is a TTY and neither --json nor --quiet is given.
 *
 * Rate and ETA come from measured time (passClock): a pass's time runs from the end of the previous pass (or
 * the start), so the pass's first chunk — the only one of an in-memory matrix — is counted with the time it took;
 * the ETA is the time per pass — the mean of the completed passes, or the current pass's time when longer — times
 * the passes left (an upper bound: the fit may converge sooner), or before the first pass ends, the pass's elapsed time over the share of its samples read (when the
 * source says how many). Anything not yet measurable is shown as '–', never NaN or Infinity.
 */
import { SingleBar } from 'cli-progress';
import type { ChunkProgress } from '../options.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { passClock } from './pass-progress.js';

export interface FitProgress {
  onChunk(progress: ChunkProgress): void;
  onSnapshot(snapshot: Snapshot): void;
  stop(): void;
}

/** What the bar shows of time: the rate of the current pass and the ETA, in words. */
export interface PassClock {
  /** A chunk of pass `iteration` was read; `samples` read in this pass so far. */
  chunk(iteration: number, samples: number): { rate: string; eta: string };
  /** Iteration `iteration` completed. */
  passEnded(iteration: number): { eta: string };
}

/** Times below this are not measured (a rate over them would be noise). */
const MIN_SECONDS = 1e-3;

export function makePassClock(maxIterations: number, samples: number | undefined, now: () => number = () => performance.now()): PassClock {
  const started = now();
  let passStart = started;
  let completed = 0;
  const etaOf = (seconds: number): string => (Number.isFinite(seconds) && seconds >= 0 ? formatSeconds(seconds) : '–');
  const meanPass = (): number => (completed > 0 ? (passStart - started) / 1000 / completed : NaN);
  return {
    chunk(iteration, read) {
      const seconds = (now() - passStart) / 1000;
      const rate = seconds >= MIN_SECONDS && read > 0 ? `${Math.round(read / seconds).toLocaleString('en-US')}` : '–';
      const left = Math.max(0, maxIterations - iteration);
      let eta = NaN;
      if (completed > 0) {
        const pass = Math.max(meanPass(), seconds); // a pass already longer than the mean is the better estimate
        eta = pass - seconds + left * pass;
      }
      else if (samples !== undefined && samples > 0 && read > 0 && seconds >= MIN_SECONDS) {
        const pass = seconds * samples / Math.min(read, samples);
        eta = pass - seconds + left * pass;
      }
      return { rate, eta: etaOf(eta) };
    },
    passEnded(iteration) {
      completed += 1;
      passStart = now();
      return { eta: etaOf(Math.max(0, maxIterations - iteration) * meanPass()) };
    },
  };
}

/** 42s, 3m05s, 1h02m. */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

export function makeFitProgress(maxIterations: number, samples: number | undefined): FitProgress {
  const bar = new SingleBar({
    format: 'pass {pass}/{total} chunk {chunk} |{bar}| {samples} samples, {nnz} nonzeros | {rate} samples/s | loss {loss} tol {tol} | ETA {eta}',
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
    fps: 10,
  });
  const clock = makePassClock(maxIterations, samples);
  let loss = '–';
  let tol = '–';
  // the chunk within the pass (pass-progress.ts): long out-of-core fits
  const chunks = passClock(maxIterations);
  bar.start(maxIterations, 0, { pass: 1, chunk: 0, samples: 0, nnz: 0, rate: '–', loss, tol, eta: '–' });
  return {
    onChunk: (p) => {
      const within = samples ? Math.min(1, p.samples / samples) : 0;
      bar.update(p.iteration - 1 + within, { pass: p.iteration, chunk: chunks(p).chunk, samples: p.samples, nnz: p.nnz, loss, tol, ...clock.chunk(p.iteration, p.samples) });
    },
    onSnapshot: (s) => {
      loss = s.relativeLoss.toPrecision(6);
      tol = s.tol.toExponential(2);
      bar.update(s.iteration, { pass: s.iteration, loss, tol, ...(s.final ? {} : clock.passEnded(s.iteration)) });
    },
    stop: () => bar.stop(),
  };
}
