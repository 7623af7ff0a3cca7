/**
 * What the snapshot reports about an L1 (sCD) model: how many entries of W and H are exactly 0,
 * and how many components are dead — a column of W or a row of H entirely 0, so the component
 * contributes nothing to W·H. W is row-major m×k, H sample-major n×k. O((m + n)·k).
 */
export interface L1Diagnostics {
  /** Entries of W (m·k in all) that are exactly 0. */
  readonly zerosW: number;
  /** Entries of H (k·n in all) that are exactly 0. */
  readonly zerosH: number;
  /** Components l with W[:, l] = 0 or H[l, :] = 0. */
  readonly deadComponents: number;
}

export function l1Diagnostics(W: Float64Array, H: Float64Array, m: number, n: number, k: number): L1Diagnostics {
  const aliveW = new Uint8Array(k);
  const aliveH = new Uint8Array(k);
  const zerosW = countZeros(W, m, k, aliveW);
  const zerosH = countZeros(H, n, k, aliveH);
  let deadComponents = 0;
  for (let l = 0; l < k; l++) if (aliveW[l] === 0 || aliveH[l] === 0) deadComponents++;
  return { zerosW, zerosH, deadComponents };
}

/** Zeros of a rows×k row-major factor; alive[l] = 1 when component l has a nonzero entry. */
function countZeros(F: Float64Array, rows: number, k: number, alive: Uint8Array): number {
  let zeros = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * k;
    for (let l = 0; l < k; l++) {
      if (F[base + l] === 0) zeros++;
      else alive[l] = 1;
    }
  }
  return zeros;
}
