/**
 * Squared loss by the Gram identity, no dense W·H:
 *   ‖A − W diag(d) H‖²_F = ‖A‖² − 2 Σ_{i,a} W[i,a] d[a] B[i,a] + Σ_{a,c} (WᵀW)[a,c] d[a] d[c] S[a,c]
 * with B = A Hᵀ (m×k row-major) and S = H Hᵀ (k×k). WtW is WᵀW (k×k). Returns the squared loss,
 * clamped at 0 (cancellation). Cost O(m·k + k²). Allocates nothing. Its two terms are also exported
 * (crossTerm, reconTerm) for callers that compute them on different threads.
 */
export function gramLoss(
  normA2: number, W: Float64Array, m: number, k: number, d: Float64Array,
  B: Float64Array, S: Float64Array, WtW: Float64Array,
): number {
  return lossOfTerms(normA2, crossTerm(W, m, k, d, B), reconTerm(k, d, S, WtW));
}

/** Σ_{i,a} W[i,a] d[a] B[i,a], in row-major order. */
export function crossTerm(W: Float64Array, m: number, k: number, d: Float64Array, B: Float64Array): number {
  let cross = 0;
  for (let i = 0; i < m; i++) {
    const o = i * k;
    for (let a = 0; a < k; a++) cross += W[o + a]! * d[a]! * B[o + a]!;
  }
  return cross;
}

/** Σ_{a,c} (WᵀW)[a,c] d[a] d[c] S[a,c]. */
export function reconTerm(k: number, d: Float64Array, S: Float64Array, WtW: Float64Array): number {
  let recon = 0;
  for (let a = 0; a < k; a++) {
    for (let c = 0; c < k; c++) recon += WtW[a * k + c]! * d[a]! * d[c]! * S[a * k + c]!;
  }
  return recon;
}

/** ‖A‖² − 2·cross + recon, clamped at 0. */
export function lossOfTerms(normA2: number, cross: number, recon: number): number {
  const loss = normA2 - 2 * cross + recon;
  return loss > 0 ? loss : 0;
}
