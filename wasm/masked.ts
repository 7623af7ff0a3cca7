/**
 * The masked least-squares pass (issue #15) in WebAssembly (AssemblyScript; one module with sparse.ts and fast.ts,
 * `npm run build:wasm`; wrapped by src/model/l2/masked-wasm.ts). The same floating-point operations in the same
 * order as the TypeScript path (src/model/l2/masked-pass.ts solveSample + accumulateRows, masked-end.ts's row loop,
 * kernel/gram.ts, kernel/nnls-solve.ts NNLS_CD_WARM, kernel/accumulate-stats.ts accumulateOuter,
 * kernel/unit-rows.ts), so the same bits: each f64x2 lane does one component's scalar operations, no fused
 * multiply-add.
 *   maskedColumns: for the columns jl in [j0, j1) of one unit, split beforehand into observed nonzeros
 *     (obsPtr/obsRows/obsValues) and rows left out of the fit (maskPtr/maskRows):
 *       G_j = Σ_obs w_i w_iᵀ + l2H·I (zeros missing) or G − Σ_masked w_i w_iᵀ (zeros are data; G = WᵀW + l2H·I),
 *       b_j = Σ_obs a_ij w_i − shift, h_j from the warm start by ≤ maxSweeps CD sweeps (fast.ts cdWarm);
 *       then the unit's S += h hᵀ (upper), hSum += h; AHᵀ rows over the observed nonzeros into Bu;
 *       R rows (the upper triangle packed: k(k+1)/2 numbers a row) += h hᵀ over the observed (zeros missing) or
 *       masked (zeros are data) rows, in the canonical unit order (openRowsR, foldRowsR).
 *     Returns the CD sweeps used.
 *   maskedRows: every row i of W from G_i = (zeros ? R_i : S − R_i)·inv_a·inv_c + l2W·I, b_i = B_i·inv − shift,
 *     warm start w_i·hSum (diag), the CD sweeps; R_i and B_i are zeroed after use (the next pass starts from zero).
 *     Returns Σ_i (ŵᵀG_iŵ − l2W‖ŵ‖² − 2ŵ·bn_i) (masked-end.ts's row terms); the sweeps go to out[0].
 * Pointers are byte offsets into the module's memory; matrices row-major with k (R: k²) entries per row.
 * Cost O((observed + masked)·k + masked·k²/2) per pass (zeros are data; observed·k² with zeros missing) plus
 * O(m·k²·sweeps) at its end. Allocates nothing.
 */
import { cdWarm, openUnitRows } from './fast';
import { rhsColumns, scatterColumns } from './sparse';

// @ts-ignore: decorator
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 3);
}

/**
 * G's upper triangle += sign·Σ_p w_p w_pᵀ over the rows rows[p0..p1) of W (from +0 when `fromZero`), each entry
 * summed over p in order: the sums of masked-pass.ts addOuters (the zero products it skips add nothing: +0 to a sum
 * that starts at +0 when sign = 1; −0, when sign = −1, to anything). Two rows a, a + 1 of G at a time over columns
 * c ≥ a in blocks of ≤ 10 (≤ 5 f64x2 pairs each, held in registers through the p loop); some lower entries are
 * written too (symmetrize overwrites them).
 */
function gramRows(W: usize, k: i32, rows: usize, p0: i32, p1: i32, G: usize, sign: f64, fromZero: bool): void {
  let a = 0;
  for (; a + 1 < k; a += 2) {
    for (let c0 = a; c0 < k; c0 += 10) {
      const n = min<i32>(k - c0, 10), pairs = n >> 1, odd = n & 1;
      const ga = G + (<usize>(a * k + c0) << 3), gb = ga + (<usize>k << 3);
      const zero = f64x2.splat(0.0);
      let x0 = zero, x1 = zero, x2 = zero, x3 = zero, x4 = zero, y0 = zero, y1 = zero, y2 = zero, y3 = zero, y4 = zero;
      let xs = 0.0, ys = 0.0;
      if (!fromZero) {
        if (pairs > 0) { x0 = v128.load(ga); y0 = v128.load(gb); }
        if (pairs > 1) { x1 = v128.load(ga, 16); y1 = v128.load(gb, 16); }
        if (pairs > 2) { x2 = v128.load(ga, 32); y2 = v128.load(gb, 32); }
        if (pairs > 3) { x3 = v128.load(ga, 48); y3 = v128.load(gb, 48); }
        if (pairs > 4) { x4 = v128.load(ga, 64); y4 = v128.load(gb, 64); }
        if (odd != 0) { xs = load<f64>(at(ga, n - 1)); ys = load<f64>(at(gb, n - 1)); }
      }
      for (let p = p0; p < p1; p++) {
        const w = W + (<usize>(load<i32>(rows + (<usize>p << 2)) * k) << 3);
        const sa = sign * load<f64>(at(w, a)), sb = sign * load<f64>(at(w, a + 1));
        const wa = f64x2.splat(sa), wb = f64x2.splat(sb), wc = w + (<usize>c0 << 3);
        if (pairs > 0) { const v = v128.load(wc); x0 = f64x2.add(x0, f64x2.mul(wa, v)); y0 = f64x2.add(y0, f64x2.mul(wb, v)); }
        if (pairs > 1) { const v = v128.load(wc, 16); x1 = f64x2.add(x1, f64x2.mul(wa, v)); y1 = f64x2.add(y1, f64x2.mul(wb, v)); }
        if (pairs > 2) { const v = v128.load(wc, 32); x2 = f64x2.add(x2, f64x2.mul(wa, v)); y2 = f64x2.add(y2, f64x2.mul(wb, v)); }
        if (pairs > 3) { const v = v128.load(wc, 48); x3 = f64x2.add(x3, f64x2.mul(wa, v)); y3 = f64x2.add(y3, f64x2.mul(wb, v)); }
        if (pairs > 4) { const v = v128.load(wc, 64); x4 = f64x2.add(x4, f64x2.mul(wa, v)); y4 = f64x2.add(y4, f64x2.mul(wb, v)); }
        if (odd != 0) { const v = load<f64>(at(wc, n - 1)); xs += sa * v; ys += sb * v; }
      }
      if (pairs > 0) { v128.store(ga, x0); v128.store(gb, y0); }
      if (pairs > 1) { v128.store(ga, x1, 16); v128.store(gb, y1, 16); }
      if (pairs > 2) { v128.store(ga, x2, 32); v128.store(gb, y2, 32); }
      if (pairs > 3) { v128.store(ga, x3, 48); v128.store(gb, y3, 48); }
      if (pairs > 4) { v128.store(ga, x4, 64); v128.store(gb, y4, 64); }
      if (odd != 0) { store<f64>(at(ga, n - 1), xs); store<f64>(at(gb, n - 1), ys); }
    }
  }
  if (a < k) { // k odd: the last diagonal entry
    let s = fromZero ? 0.0 : load<f64>(at(G, a * k + a));
    for (let p = p0; p < p1; p++) {
      const v = load<f64>(at(W + (<usize>(load<i32>(rows + (<usize>p << 2)) * k) << 3), a));
      s += (sign * v) * v;
    }
    store<f64>(at(G, a * k + a), s);
  }
}

/** X (upper triangle, k-wide rows at X + row·k) += h hᵀ for h ≠ 0 components (accumulate-stats.ts accumulateOuter's S part). */
function addOuter(h: usize, k: i32, X: usize): void {
  for (let a = 0; a < k; a++) {
    const ha = load<f64>(at(h, a));
    if (ha == 0) continue;
    const xa = X + (<usize>(a * k) << 3);
    const hv = f64x2.splat(ha);
    let c = a;
    for (; c + 1 < k; c += 2) v128.store(at(xa, c), f64x2.add(v128.load(at(xa, c)), f64x2.mul(hv, v128.load(at(h, c)))));
    if (c < k) store<f64>(at(xa, c), load<f64>(at(xa, c)) + ha * load<f64>(at(h, c)));
  }
}

/** out = h hᵀ's upper triangle, packed (row a's entries c = a..k−1 follow row a − 1's). */
function packOuter(h: usize, k: i32, out: usize): void {
  let q = out;
  for (let a = 0; a < k; a++) {
    const ha = load<f64>(at(h, a));
    for (let c = a; c < k; c++, q += 8) store<f64>(q, ha * load<f64>(at(h, c)));
  }
}

/**
 * X += hh over P numbers: a packed h hᵀ added to a packed row Gram — the sums of the TypeScript path's
 * `Ru[a, c] += h_a·h_c` (its skipped h_a = 0 rows add +0 products here: nothing, to sums that start at +0).
 */
function addPacked(X: usize, hh: usize, P: i32): void {
  let q = 0;
  for (; q + 1 < P; q += 2) v128.store(at(X, q), f64x2.add(v128.load(at(X, q)), v128.load(at(hh, q))));
  if (q < P) store<f64>(at(X, q), load<f64>(at(X, q)) + load<f64>(at(hh, q)));
}

/**
 * The per-row Grams' canonical order (kernel/unit-rows.ts) with one shortcut: a row's first unit of the pass sums
 * straight into R_i (from zero: R_i = 0 + its unit sum, bit for bit), later units into Ru_i as usual.
 * lastR[i]: −1 untouched this pass; u ≥ 0: Ru_i holds unit u's sum; −2 − u: R_i holds unit u's sum (the first).
 * Before unit `unit` adds to the rows rows[p0..p1): a row holding an earlier unit's sum in Ru_i adds it to R_i,
 * and Ru_i restarts from zero.
 */
function openRowsR(rows: usize, p0: i32, p1: i32, unit: i32, P: i32, R: usize, Ru: usize, lastR: usize): void {
  for (let p = p0; p < p1; p++) {
    const i = load<i32>(rows + (<usize>p << 2));
    const l = lastR + (<usize>i << 2);
    const seen = load<i32>(l);
    if (seen == unit || seen == -2 - unit) continue;
    if (seen == -1) { store<i32>(l, -2 - unit); continue; }
    const o = <usize>(i * P) << 3;
    if (seen >= 0) for (let a = 0; a < P; a++) store<f64>(at(R + o, a), load<f64>(at(R + o, a)) + load<f64>(at(Ru + o, a)));
    memory.fill(Ru + o, 0, <usize>P << 3);
    store<i32>(l, unit);
  }
}

/** The end of a pass: every row's pending unit sum into R_i; lastR all −1. */
export function foldRowsR(P: i32, R: usize, Ru: usize, lastR: usize, m: i32): void {
  for (let i = 0; i < m; i++) {
    const l = lastR + (<usize>i << 2);
    if (load<i32>(l) >= 0) {
      const o = <usize>(i * P) << 3;
      for (let a = 0; a < P; a++) store<f64>(at(R + o, a), load<f64>(at(R + o, a)) + load<f64>(at(Ru + o, a)));
    }
    store<i32>(l, -1);
  }
}

function symmetrize(G: usize, k: i32): void {
  for (let a = 0; a < k; a++) for (let c = a + 1; c < k; c++) store<f64>(at(G, c * k + a), load<f64>(at(G, a * k + c)));
}

function addDiagonal(G: usize, k: i32, alpha: f64): void {
  if (alpha == 0) return;
  for (let a = 0; a < k; a++) store<f64>(at(G, a * k + a), load<f64>(at(G, a * k + a)) + alpha);
}

function invertDiagonal(G: usize, k: i32, invDiag: usize): void {
  for (let a = 0; a < k; a++) {
    const g = load<f64>(at(G, a * k + a));
    store<f64>(at(invDiag, a), g > 0 ? 1 / g : 0.0);
  }
}

/** The Gram of column jl (masked-pass.ts solveSample). */
function columnGram(W: usize, G: usize, k: i32, zeros: i32, l2H: f64, obsPtr: usize, obsRows: usize,
  maskPtr: usize, maskRows: usize, jl: i32, Gj: usize): void {
  const kk = k * k;
  if (zeros != 0) {
    gramRows(W, k, obsRows, load<i32>(obsPtr + (<usize>jl << 2)), load<i32>(obsPtr + (<usize>jl << 2), 4), Gj, 1.0, true);
    symmetrize(Gj, k);
    addDiagonal(Gj, k, l2H);
  } else {
    memory.copy(Gj, G, <usize>kk << 3);
    gramRows(W, k, maskRows, load<i32>(maskPtr + (<usize>jl << 2)), load<i32>(maskPtr + (<usize>jl << 2), 4), Gj, -1.0, false);
    symmetrize(Gj, k);
  }
}

export function maskedColumns(W: usize, G: usize, warmScale: usize, warm: i32, k: i32, zeros: i32, l2H: f64, shift: f64,
  obsPtr: usize, obsRows: usize, obsValues: usize, maskPtr: usize, maskRows: usize, j0: i32, j1: i32, H: usize,
  maxSweeps: i32, tol: f64, Gj: usize, invDiag: usize, r: usize, b: usize,
  unit: i32, S: usize, hSum: usize, B: usize, Bu: usize, last: usize, R: usize, Ru: usize, lastR: usize, m: i32): f64 {
  const P = (k * (k + 1)) >> 1;
  let sweeps = 0.0;
  for (let jl = j0; jl < j1; jl++) {
    const x = H + (<usize>(jl * k) << 3);
    columnGram(W, G, k, zeros, l2H, obsPtr, obsRows, maskPtr, maskRows, jl, Gj);
    const o0 = load<i32>(obsPtr + (<usize>jl << 2)), o1 = load<i32>(obsPtr + (<usize>jl << 2), 4);
    if (shift == 0) {
      // sparse.ts's register-blocked sums from −0: the same sums as 0 + Σ then − 0 (−0 + x = x; an empty column's
      // b = −0 instead of +0 moves no coordinate: its residuals are ±0 or −G·x either way)
      rhsColumns(W, k, obsPtr, obsRows, obsValues, jl, jl + 1, 0.0, b);
    } else {
      for (let a = 0; a < k; a++) store<f64>(at(b, a), 0.0);
      for (let p = o0; p < o1; p++) {
        const w = W + (<usize>(load<i32>(obsRows + (<usize>p << 2)) * k) << 3);
        const v = load<f64>(at(obsValues, p));
        const vv = f64x2.splat(v);
        let a = 0;
        for (; a + 1 < k; a += 2) v128.store(at(b, a), f64x2.add(v128.load(at(b, a)), f64x2.mul(vv, v128.load(at(w, a)))));
        if (a < k) store<f64>(at(b, a), load<f64>(at(b, a)) + v * load<f64>(at(w, a)));
      }
      for (let a = 0; a < k; a++) store<f64>(at(b, a), load<f64>(at(b, a)) - shift);
    }
    for (let a = 0; a < k; a++) store<f64>(at(x, a), warm != 0 ? load<f64>(at(x, a)) * load<f64>(at(warmScale, a)) : 0.0);
    invertDiagonal(Gj, k, invDiag);
    sweeps += <f64>cdWarm(Gj, invDiag, k, b, x, r, maxSweeps, tol);
    // the statistics of the W-update (masked-pass.ts: accumulateOuter, then accumulateRows)
    for (let a = 0; a < k; a++) {
      const ha = load<f64>(at(x, a));
      if (ha != 0) store<f64>(at(hSum, a), load<f64>(at(hSum, a)) + ha);
    }
    addOuter(x, k, S);
    openUnitRows(obsRows, o0, o1, unit, k, B, Bu, last, 0, m);
    scatterColumns(H, jl * k, k, obsPtr, obsRows, obsValues, jl, jl + 1, Bu); // Bu_i += a_ij h_j (register-blocked)
    const rows = zeros != 0 ? obsRows : maskRows, ptr = zeros != 0 ? obsPtr : maskPtr;
    const r0 = load<i32>(ptr + (<usize>jl << 2)), r1 = load<i32>(ptr + (<usize>jl << 2), 4);
    openRowsR(rows, r0, r1, unit, P, R, Ru, lastR);
    if (r1 > r0) packOuter(x, k, Gj); // Gj is free until the next column
    for (let p = r0; p < r1; p++) {
      const i = load<i32>(rows + (<usize>p << 2));
      addPacked((load<i32>(lastR + (<usize>i << 2)) < 0 ? R : Ru) + (<usize>(i * P) << 3), Gj, P);
    }
  }
  return sweeps;
}

export function maskedRows(W: usize, B: usize, S: usize, R: usize, inv: usize, hSum: usize, diag: i32, zeros: i32,
  shift: f64, l2W: f64, k: i32, m: i32, maxSweeps: i32, tol: f64, Gw: usize, invDiag: usize, bn: usize, b: usize, r: usize,
  out: usize): f64 {
  const P = (k * (k + 1)) >> 1;
  let rowTerms = 0.0, sweeps = 0.0;
  for (let i = 0; i < m; i++) {
    const w = W + (<usize>(i * k) << 3), Ri = R + (<usize>(i * P) << 3);
    let q = 0;
    for (let a = 0; a < k; a++) {
      const ia = load<f64>(at(inv, a));
      for (let c = a; c < k; c++, q++) {
        const rc = load<f64>(at(Ri, q));
        const g = (zeros != 0 ? rc : load<f64>(at(S, a * k + c)) - rc) * ia * load<f64>(at(inv, c));
        store<f64>(at(Gw, a * k + c), g); store<f64>(at(Gw, c * k + a), g);
      }
      const v = load<f64>(at(B + (<usize>(i * k) << 3), a)) * ia;
      store<f64>(at(bn, a), v);
      store<f64>(at(b, a), v - shift);
      if (diag != 0) store<f64>(at(w, a), load<f64>(at(w, a)) * load<f64>(at(hSum, a)));
    }
    memory.fill(Ri, 0, <usize>P << 3);
    memory.fill(B + (<usize>(i * k) << 3), 0, <usize>k << 3);
    addDiagonal(Gw, k, l2W);
    invertDiagonal(Gw, k, invDiag);
    sweeps += <f64>cdWarm(Gw, invDiag, k, b, w, r, maxSweeps, tol);
    let quad = 0.0, cross = 0.0;
    for (let a = 0; a < k; a++) {
      const wa = load<f64>(at(w, a));
      if (wa == 0) continue;
      cross += wa * load<f64>(at(bn, a));
      let row = -l2W * wa;
      for (let c = 0; c < k; c++) row += load<f64>(at(Gw, a * k + c)) * load<f64>(at(w, c));
      quad += wa * row;
    }
    rowTerms += quad - 2 * cross;
  }
  store<f64>(out, sweeps);
  return rowTerms;
}
