/**
 * The 'fast' least-squares solver's subproblems in WebAssembly (AssemblyScript; compiled with
 * sparse.ts into one module by `npm run build:wasm`, wrapped by src/kernel/wasm/wasm-kernels.ts):
 *   solveColumnsCd: for columns j in [j0, j1): b = Wᵀa_j − shift (rhsColumns), x = warm ? h_j ⊙ warmScale : 0,
 *                   then ≤ maxSweeps coordinate-descent sweeps on min_{x≥0} ½xᵀGx − bᵀx; h_j ← x.
 *   solveRowsCd:    for rows i in [i0, i1): Bn_i = B_i ⊙ inv, b = Bn_i − shift, x = w_i ⊙ hSum, the same sweeps; w_i ← x.
 *   outerColumns:   S += h_j h_jᵀ (upper triangle) and hSum += h_j for columns j in [j0, j1).
 * The same floating-point operations in the same order as the TypeScript path (kernel/nnls-solve.ts
 * NNLS_CD_WARM → kernel/nnls-cd.ts, update/l2-phases.ts, kernel/accumulate-stats.ts accumulateOuter),
 * so the same bits: scalar f64 arithmetic, no fused multiply-add. Pointers are byte offsets into this
 * module's memory; matrices row-major with k entries per row; G is k×k; r and b are k-vectors of scratch.
 * Returns the CD sweeps used in all. Cost O(nnz·k + count·k²·sweeps). Allocates nothing.
 */
import { rhsColumns } from './sparse';

const TINY: f64 = 1e-15;

// @ts-ignore: decorator
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 3);
}

/** x ≥ 0 where invDiag > 0 (else 0), r = b − Gx, then the CD sweeps; returns the sweeps used. */
export function cdWarm(G: usize, invDiag: usize, k: i32, b: usize, x: usize, r: usize, maxSweeps: i32, tol: f64): i32 {
  for (let a = 0; a < k; a++) {
    const xa = load<f64>(at(x, a));
    if (!(xa > 0) || load<f64>(at(invDiag, a)) == 0) store<f64>(at(x, a), 0.0);
  }

  // r_a = b_a − Σ_c G[a,c]·x_c, c in order; two a at a time, reading G[a,c], G[a+1,c] as G[c,a], G[c,a+1]
  // (G is exactly symmetric), so each lane does the scalar sum of its a.
  let a = 0;
  for (; a + 1 < k; a += 2) {
    let s = v128.load(at(b, a));
    for (let c = 0; c < k; c++) {
      s = f64x2.sub(s, f64x2.mul(v128.load(G + (<usize>(c * k + a) << 3)), f64x2.splat(load<f64>(at(x, c)))));
    }
    v128.store(at(r, a), s);
  }
  if (a < k) {
    let s = load<f64>(at(b, a));
    const ga = G + (<usize>(a * k) << 3);
    for (let c = 0; c < k; c++) s -= load<f64>(at(ga, c)) * load<f64>(at(x, c));
    store<f64>(at(r, a), s);
  }
  let sweep = 0;
  while (sweep < maxSweeps) {
    sweep++;
    let change = 0.0;
    for (let a = 0; a < k; a++) {
      const xa = load<f64>(at(x, a));
      const inv = load<f64>(at(invDiag, a));
      let delta = inv == 0 ? -xa : load<f64>(at(r, a)) * inv;
      if (xa + delta < 0) delta = -xa;
      if (delta == 0) continue;
      const next = xa + delta;
      store<f64>(at(x, a), next);
      const ga = G + (<usize>(a * k) << 3);
      const dv = f64x2.splat(delta);
      let c = 0;
      for (; c + 1 < k; c += 2) v128.store(at(r, c), f64x2.sub(v128.load(at(r, c)), f64x2.mul(v128.load(at(ga, c)), dv)));
      if (c < k) store<f64>(at(r, c), load<f64>(at(r, c)) - load<f64>(at(ga, c)) * delta);
      change += next == 0 ? 1.0 : Math.abs(delta / (next + TINY));
    }
    if (change / <f64>k < tol) break;
  }
  return sweep;
}

export function solveColumnsCd(W: usize, G: usize, invDiag: usize, warmScale: usize, warm: i32, k: i32,
  colPtr: usize, rowIdx: usize, values: usize, j0: i32, j1: i32, H: usize, shift: f64,
  maxSweeps: i32, tol: f64, r: usize, b: usize): f64 {
  let sweeps = 0.0;
  for (let j = j0; j < j1; j++) {
    const x = H + (<usize>((j - j0) * k) << 3);
    rhsColumns(W, k, colPtr, rowIdx, values, j, j + 1, shift, b);
    for (let a = 0; a < k; a++) store<f64>(at(x, a), warm != 0 ? load<f64>(at(x, a)) * load<f64>(at(warmScale, a)) : 0.0);
    sweeps += <f64>cdWarm(G, invDiag, k, b, x, r, maxSweeps, tol);
  }
  return sweeps;
}

export function solveRowsCd(W: usize, B: usize, Bn: usize, inv: usize, hSum: usize, Gw: usize, invDiag: usize, k: i32,
  shift: f64, i0: i32, i1: i32, maxSweeps: i32, tol: f64, r: usize, b: usize): f64 {
  let sweeps = 0.0;
  for (let i = i0; i < i1; i++) {
    const o = <usize>(i * k) << 3;
    for (let a = 0; a < k; a++) {
      const bn = load<f64>(at(B + o, a)) * load<f64>(at(inv, a));
      store<f64>(at(Bn + o, a), bn);
      store<f64>(at(b, a), bn - shift);
      store<f64>(at(W + o, a), load<f64>(at(W + o, a)) * load<f64>(at(hSum, a)));
    }
    sweeps += <f64>cdWarm(Gw, invDiag, k, b, W + o, r, maxSweeps, tol);
  }
  return sweeps;
}

export function outerColumns(H: usize, k: i32, count: i32, S: usize, hSum: usize): void {
  for (let j = 0; j < count; j++) {
    const h = H + (<usize>(j * k) << 3);
    for (let a = 0; a < k; a++) {
      const ha = load<f64>(at(h, a));
      if (ha == 0) continue;
      store<f64>(at(hSum, a), load<f64>(at(hSum, a)) + ha);
      const sa = S + (<usize>(a * k) << 3);
      for (let c = a; c < k; c++) store<f64>(at(sa, c), load<f64>(at(sa, c)) + ha * load<f64>(at(h, c)));
    }
  }
}

// ---- the O(m·k) work of the end of a pass (the bits of kernel/rank-kernels.ts gram and scale,
// kernel/pearson.ts, kernel/gram-loss.ts crossTerm and update/extrapolate-l2.ts) ------------------

/** G = XᵀX (k×k, both triangles) for row-major rows×k X; each entry summed over rows in order. */
export function gram(X: usize, rows: i32, k: i32, G: usize): void {
  for (let a = 0; a < k; a++) for (let c = a; c < k; c++) store<f64>(at(G, a * k + c), 0.0);
  for (let r = 0; r < rows; r++) {
    const x = X + (<usize>(r * k) << 3);
    for (let a = 0; a < k; a++) {
      const xa = load<f64>(at(x, a));
      const ga = G + (<usize>(a * k) << 3);
      for (let c = a; c < k; c++) store<f64>(at(ga, c), load<f64>(at(ga, c)) + xa * load<f64>(at(x, c)));
    }
  }
  for (let a = 0; a < k; a++) for (let c = a + 1; c < k; c++) store<f64>(at(G, c * k + a), load<f64>(at(G, a * k + c)));
}

/** d = column sums of X (rows in order), inv = 1/d (0 where d ≤ 0), X's columns multiplied by inv. */
export function scale(X: usize, rows: i32, k: i32, d: usize, inv: usize): void {
  for (let a = 0; a < k; a++) store<f64>(at(d, a), 0.0);
  for (let r = 0; r < rows; r++) {
    const x = X + (<usize>(r * k) << 3);
    for (let a = 0; a < k; a++) store<f64>(at(d, a), load<f64>(at(d, a)) + load<f64>(at(x, a)));
  }
  for (let a = 0; a < k; a++) {
    const s = load<f64>(at(d, a));
    store<f64>(at(inv, a), s > 0 ? 1 / s : 0.0);
  }
  for (let r = 0; r < rows; r++) {
    const x = X + (<usize>(r * k) << 3);
    for (let a = 0; a < k; a++) store<f64>(at(x, a), load<f64>(at(x, a)) * load<f64>(at(inv, a)));
  }
}

/** 1 − Pearson(x, y) over len entries (two passes: means, then the centred sums). */
export function pearsonTol(x: usize, y: usize, len: i32): f64 {
  let sx = 0.0, sy = 0.0;
  for (let i = 0; i < len; i++) { sx += load<f64>(at(x, i)); sy += load<f64>(at(y, i)); }
  const mx = sx / <f64>len, my = sy / <f64>len;
  let sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (let i = 0; i < len; i++) {
    const dx = load<f64>(at(x, i)) - mx, dy = load<f64>(at(y, i)) - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  if (sxx == 0 || syy == 0) {
    for (let i = 0; i < len; i++) if (load<f64>(at(x, i)) != load<f64>(at(y, i))) return 1.0;
    return 0.0;
  }
  return 1 - sxy / Math.sqrt(sxx * syy);
}

/** Σ_{i,a} W[i,a]·d[a]·B[i,a] in row-major order. */
export function crossTerm(W: usize, m: i32, k: i32, d: usize, B: usize): f64 {
  let cross = 0.0;
  for (let i = 0; i < m; i++) {
    const o = i * k;
    for (let a = 0; a < k; a++) cross += load<f64>(at(W, o + a)) * load<f64>(at(d, a)) * load<f64>(at(B, o + a));
  }
  return cross;
}

/** W ← max(0, W + β(W − Wprev)) and Wprev ← the old W, over len entries. */
export function extrapolate(W: usize, Wprev: usize, len: i32, beta: f64): void {
  for (let p = 0; p < len; p++) {
    const w = load<f64>(at(W, p));
    const v = w + beta * (w - load<f64>(at(Wprev, p)));
    store<f64>(at(W, p), v > 0 ? v : 0.0);
    store<f64>(at(Wprev, p), w);
  }
}

/** init + Σ_j (Σ_{p ∈ col j} values[p]²) for j in [j0, j1): each column from 0, added in column order. */
export function sumSquares(colPtr: usize, values: usize, j0: i32, j1: i32, init: f64): f64 {
  let total = init;
  for (let j = j0; j < j1; j++) {
    const p1 = load<i32>(colPtr + (<usize>j << 2), 4);
    let sq = 0.0;
    for (let p = load<i32>(colPtr + (<usize>j << 2)); p < p1; p++) {
      const v = load<f64>(at(values, p));
      sq += v * v;
    }
    total += sq;
  }
  return total;
}

/**
 * B[i, :] += values[p]·h_j for the nonzeros of columns j in [0, n) whose row i is in [i0, i1), columns in
 * order (the bits of kernel/accumulate-stats.ts accumulateRows); H holds the chunk's n×k codes, B the
 * rows [i0, i1) only (row i at B + (i − i0)·k).
 */
export function scatterRowRange(H: usize, k: i32, colPtr: usize, rowIdx: usize, values: usize, n: i32,
  B: usize, i0: i32, i1: i32): void {
  for (let j = 0; j < n; j++) {
    const h = H + (<usize>(j * k) << 3);
    const p1 = load<i32>(colPtr + (<usize>j << 2), 4);
    for (let p = load<i32>(colPtr + (<usize>j << 2)); p < p1; p++) {
      const i = load<i32>(rowIdx + (<usize>p << 2));
      if (i < i0 || i >= i1) continue;
      const v = load<f64>(at(values, p));
      const o = B + (<usize>((i - i0) * k) << 3);
      let a = 0;
      const vv = f64x2.splat(v);
      for (; a + 1 < k; a += 2) v128.store(at(o, a), f64x2.add(v128.load(at(o, a)), f64x2.mul(vv, v128.load(at(h, a)))));
      if (a < k) store<f64>(at(o, a), load<f64>(at(o, a)) + v * load<f64>(at(h, a)));
    }
  }
}

/**
 * xoshiro128** (kernel/random.ts, same state words and outputs): out[p] = (next >>> 8) / 2^24 for p in
 * [0, count); the four uint32 state words at `state` are advanced in place.
 */
export function fillUniform(state: usize, out: usize, count: i32): void {
  let s0 = load<u32>(state), s1 = load<u32>(state, 4), s2 = load<u32>(state, 8), s3 = load<u32>(state, 12);
  for (let p = 0; p < count; p++) {
    const r = rotl<u32>(s1 * 5, 7) * 9;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    s1 = s1 ^ n2;
    s0 = s0 ^ n3;
    s2 = n2 ^ t;
    s3 = rotl<u32>(n3, 11);
    store<f64>(at(out, p), <f64>(r >>> 8) / 16777216.0);
  }
  store<u32>(state, s0); store<u32>(state, s1, 4); store<u32>(state, s2, 8); store<u32>(state, s3, 12);
}

/**
 * src/kernel/unit-rows.ts openUnitRows (the same operations) on rows [i0, i1), with B, Bu and last holding
 * those rows only (row i at (i − i0)): before unit `unit` scatters its nonzeros p ∈ [p0, p1) into Bu, each row
 * it touches that holds an earlier unit's sum adds it to B and restarts from zero.
 */
export function openUnitRows(rowIdx: usize, p0: i32, p1: i32, unit: i32, k: i32, B: usize, Bu: usize, last: usize, i0: i32, i1: i32): void {
  for (let p = p0; p < p1; p++) {
    const i = load<i32>(rowIdx + (<usize>p << 2));
    if (i < i0 || i >= i1) continue;
    const l = last + (<usize>(i - i0) << 2);
    const seen = load<i32>(l);
    if (seen == unit) continue;
    const o = <usize>((i - i0) * k) << 3;
    const b = B + o, u = Bu + o;
    if (seen >= 0) for (let a = 0; a < k; a++) store<f64>(at(b, a), load<f64>(at(b, a)) + load<f64>(at(u, a)));
    for (let a = 0; a < k; a++) store<f64>(at(u, a), 0.0);
    store<i32>(l, unit);
  }
}

/** src/kernel/unit-rows.ts foldUnitRows on `rows` rows: every row's pending unit sum added to B (the same operations). */
export function foldUnitRows(k: i32, B: usize, Bu: usize, last: usize, rows: i32): void {
  for (let i = 0; i < rows; i++) {
    const l = last + (<usize>i << 2);
    if (load<i32>(l) < 0) continue;
    const o = <usize>(i * k) << 3;
    const b = B + o, u = Bu + o;
    for (let a = 0; a < k; a++) store<f64>(at(b, a), load<f64>(at(b, a)) + load<f64>(at(u, a)));
    store<i32>(l, -1);
  }
}
