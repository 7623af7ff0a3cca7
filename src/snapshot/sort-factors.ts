/**
 * Presentation order: factors sorted by d, decreasing (stable, so ties keep their order).
 * Returns permuted copies; the inputs are not modified.
 */
export function sortFactors(
  W: Float64Array, m: number, k: number, d: Float64Array, H: Float64Array | undefined, n: number,
): { W: Float64Array; d: Float64Array; H: Float64Array | undefined; order: Int32Array } {
  const order = Int32Array.from({ length: k }, (_, a) => a);
  order.sort((a, b) => (d[b]! - d[a]!) || a - b);
  const Ws = new Float64Array(m * k);
  const ds = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    const from = order[a]!;
    ds[a] = d[from]!;
    for (let i = 0; i < m; i++) Ws[i * k + a] = W[i * k + from]!;
  }
  let Hs: Float64Array | undefined;
  if (H) {
    Hs = new Float64Array(k * n);
    for (let a = 0; a < k; a++) Hs.set(H.subarray(order[a]! * n, order[a]! * n + n), a * n);
  }
  return { W: Ws, d: ds, H: Hs, order };
}

/** Zero entries of an array, and the components (columns of a row-major rows×k W) that are all 0. */
export function countZeros(X: Float64Array, len: number): number {
  let z = 0;
  for (let p = 0; p < len; p++) if (X[p] === 0) z++;
  return z;
}
