/** A seeded random sparse matrix for tests: m × n, each entry nonzero with probability `density`, values in [1, 5). */
import type { CscMatrix } from '../../src/chunk/csc-matrix.js';
import { makeRandom } from '../../src/kernel/random.js';

export function seededSparse(m: number, n: number, density: number, seed: number): CscMatrix {
  const random = makeRandom(seed);
  const colPtr = new Int32Array(n + 1), rows: number[] = [], values: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) if (random.uniform() < density) { rows.push(i); values.push(1 + 4 * random.uniform()); }
    colPtr[j + 1] = rows.length;
  }
  return { m, n, colPtr, rowIdx: Int32Array.from(rows), values: Float64Array.from(values) };
}
