/**
 * Convergence measure of docs/architecture.md, Least squares: tol = 1 − Pearson correlation of two equally long arrays
 * (all m·k entries of W at successive iterations). Two constant arrays give 0 when equal, 1 otherwise.
 * Cost O(len), one pass. Allocates nothing.
 */
export function pearsonTol(x: Float64Array, y: Float64Array, len: number): number {
  let sx = 0, sy = 0;
  for (let i = 0; i < len; i++) { sx += x[i]!; sy += y[i]!; }
  const mx = sx / len, my = sy / len;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < len; i++) {
    const dx = x[i]! - mx, dy = y[i]! - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) {
    for (let i = 0; i < len; i++) if (x[i] !== y[i]) return 1;
    return 0;
  }
  return 1 - sxy / Math.sqrt(sxx * syy);
}
