/**
 * Seeded pseudo-random numbers: xoshiro128** (Blackman & Vigna 2018), 32-bit state words,
 * seeded from one 32-bit integer through SplitMix32. `uniform()` returns (x >>> 8) / 2^24 ∈ [0, 1)
 * with 24 random bits, identical on every platform. The state is four uint32 words, so it can be
 * saved and restored (checkpoints) with `state()` / `fromState()`.
 *
 * Reference: https://prng.di.unimi.it/xoshiro128starstar.c
 */
export interface Random {
  /** Next uint32. */
  nextU32(): number;
  /** Next number uniform in [0, 1). */
  uniform(): number;
  /** A copy of the four state words. */
  state(): Uint32Array;
}

/** A seeded pseudo-random generator (xoshiro128** seeded by SplitMix32): the same numbers for the same seed on every platform. */
export function makeRandom(seed: number): Random {
  let x = seed >>> 0;
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    // SplitMix32
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    s[i] = (z ^ (z >>> 16)) >>> 0;
  }
  return fromState(s);
}

export function fromState(initial: Uint32Array): Random {
  const s = new Uint32Array(initial);
  const nextU32 = (): number => {
    const s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
    const r = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0;
    const n3 = (s3 ^ s1) >>> 0;
    s[1] = (s1 ^ n2) >>> 0;
    s[0] = (s0 ^ n3) >>> 0;
    s[2] = (n2 ^ t) >>> 0;
    s[3] = rotl(n3, 11);
    return r;
  };
  return {
    nextU32,
    uniform: () => (nextU32() >>> 8) / 16777216,
    state: () => new Uint32Array(s),
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
