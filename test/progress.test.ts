/** Issue #16: the progress bar's rate and ETA come from measured pass time — never absurd, never NaN. */
import { describe, expect, it } from 'vitest';
import { formatSeconds, makePassClock } from '../src/cli/progress.js';

describe('progress bar clock', () => {
  it('an in-memory matrix (one chunk per pass): the rate is the samples over the pass time, the ETA the passes left', () => {
    let t = 0;
    const clock = makePassClock(10, 1183, () => t);
    t = 40; // the only chunk of pass 1 is solved 40 ms after the start
    const first = clock.chunk(1, 1183);
    expect(first.rate).toBe(Math.round(1183 / 0.04).toLocaleString('en-US'));
    expect(first.eta).toBe('0s'); // 9 passes × 40 ms
    t = 50;
    expect(clock.passEnded(1).eta).toBe('0s');
    t = 2050; // pass 2 took 2 s: longer than the mean, it is the estimate of the 8 passes left
    expect(clock.chunk(2, 1183)).toEqual({ rate: '592', eta: '16s' });
  });

  it('a source that does not say its samples (Parquet): no ETA before a pass ends, then from the passes measured', () => {
    let t = 0;
    const clock = makePassClock(5, undefined, () => t);
    t = 3000;
    expect(clock.chunk(1, 100)).toEqual({ rate: '33', eta: '–' });
    t = 6000;
    expect(clock.passEnded(1).eta).toBe('24s');
    t = 6000; // a chunk at the very start of a pass: no rate yet, never Infinity or NaN
    expect(clock.chunk(2, 0)).toEqual({ rate: '–', eta: '24s' });
  });

  it('formats seconds', () => {
    expect([formatSeconds(42.4), formatSeconds(185), formatSeconds(3720)]).toEqual(['42s', '3m05s', '1h02m']);
  });
});

describe('--help examples', () => {
  it('name only paths a user has (examples/data/…), never the development tree (../shared/…)', async () => {
    const { readFileSync, readdirSync, existsSync } = await import('node:fs');
    const root = new URL('../', import.meta.url).pathname;
    const help = readdirSync(`${root}src/cli`).filter((f) => f.endsWith('-command.ts')).map((f) => readFileSync(`${root}src/cli/${f}`, 'utf8')).join('\n');
    expect(help).not.toContain('../shared');
    const paths = [...help.matchAll(/\bexamples\/data\/[\w.-]+/g)].map((m) => m[0]);
    expect(paths.length).toBeGreaterThan(4);
    for (const path of new Set(paths)) expect(existsSync(`${root}${path}`), path).toBe(true);
  });
});
