/**
 * WebAssembly SIMD kernels for the two sparse products of a least-squares pass (AssemblyScript;
 * compiled by `npm run build:wasm`, wrapped by src/kernel/wasm/wasm-kernels.ts):
 *   rhsColumns:     out[j−j0, a] = −shift + Σ_{p ∈ col j} values[p]·W[rowIdx[p], a]   (b_j = Wᵀa_j − shift)
 *   gatherRows:     out[i−i0, a] =     +0 + Σ_{p ∈ row i} values[p]·H[colIdx[p], a]   (B = A Hᵀ, CSR of A)
 *   scatterColumns: B[rowIdx[p], a] += values[p]·H[hOff + (j−j0)·k + a] for j in [j0, j1)  (B = A Hᵀ, CSC)
 *   rhsColumnsF32, gatherRowsF32: the first two in float32 (f32x4).
 * Every pointer is a byte offset into this module's memory; W, H, B, out are row-major with k
 * entries per row (m×k, n×k), colPtr/rowPtr are Int32 (length n+1 / m+1), rowIdx/colIdx Int32,
 * values Float64 (Float32 in the F32 variants); hOff counts elements, not bytes. Any k ≥ 1; rows
 * need no alignment (v128 loads may be unaligned), the wrapper aligns buffers to 16 bytes anyway.
 *
 * Same bits as the JS kernels (src/kernel/rank-kernels.ts rhs/stats): each f64x2 lane does the
 * scalar operations of one component a — acc = acc + v·x, p ascending — and standard wasm SIMD
 * has no fused multiply-add. The gather over a CSR copy whose column indices ascend within each
 * row performs, per entry of B, the additions of the column-order scatter in the same order.
 *
 * Shape of the loops: the k components are cut into blocks of 10 (5 f64x2 accumulators, or 5 pairs
 * of h for the scatter, held in registers for a whole column), then one block of 2–8, then a scalar
 * lane when k is odd; each block is one pass over the column's nonzeros (k = 10: one pass, k = 20:
 * two). Blocks of 10 rather than 8 took the synthetic matrix's rhs from 3.8 to 3.0 ms at k = 10
 * (bench/kernels.ts, CPU time). The blocks are spelled out one function each (binaryen inlines them:
 * one call site each) since AssemblyScript cannot unroll over a constant. Float32: blocks of 8
 * (2 f32x4), 4, 2 (64-bit loads) and 1. Cost O(nnz·k). Allocates nothing (no runtime is used).
 */

/** First free byte after the module's static data: the wrapper's arena starts here. */
export function heapBase(): usize {
  return __heap_base;
}

export function rhsColumns(W: usize, k: i32, colPtr: usize, rowIdx: usize, values: usize,
  j0: i32, j1: i32, shift: f64, out: usize): void {
  sums64(W, k, colPtr, rowIdx, values, j0, j1, -shift, out);
}

export function gatherRows(H: usize, k: i32, rowPtr: usize, colIdx: usize, values: usize,
  i0: i32, i1: i32, out: usize): void {
  sums64(H, k, rowPtr, colIdx, values, i0, i1, 0.0, out);
}

/**
 * The column-order scatter; returns ‖A[:, j0:j1]‖² summed as step-l2.ts sums the JS kernel's
 * results: per column in p order from 0, the columns' sums added in order from 0.
 */
export function scatterColumns(H: usize, hOff: i32, k: i32, colPtr: usize, rowIdx: usize, values: usize,
  j0: i32, j1: i32, B: usize): f64 {
  const row = <usize>k << 3;
  let h = H + (<usize>hOff << 3);
  let total = 0.0;
  for (let j = j0; j < j1; j++, h += row) {
    const p0 = load<i32>(colPtr + (<usize>j << 2)), p1 = load<i32>(colPtr + (<usize>j << 2), 4);
    let sq = 0.0;
    for (let pv = values + (<usize>p0 << 3), end = values + (<usize>p1 << 3); pv < end; pv += 8) {
      const v = load<f64>(pv);
      sq += v * v;
    }
    total += sq;
    let a = 0;
    for (; k - a >= 10; a += 10) scatter5(h + (<usize>a << 3), B + (<usize>a << 3), row, rowIdx, values, p0, p1);
    const pairs = (k - a) >> 1;
    const ha = h + (<usize>a << 3), Ba = B + (<usize>a << 3);
    if (pairs == 4) scatter4(ha, Ba, row, rowIdx, values, p0, p1);
    else if (pairs == 3) scatter3(ha, Ba, row, rowIdx, values, p0, p1);
    else if (pairs == 2) scatter2(ha, Ba, row, rowIdx, values, p0, p1);
    else if (pairs == 1) scatter1(ha, Ba, row, rowIdx, values, p0, p1);
    a += pairs << 1;
    if (a < k) scatter0(h + (<usize>a << 3), B + (<usize>a << 3), row, rowIdx, values, p0, p1);
  }
  return total;
}

export function rhsColumnsF32(W: usize, k: i32, colPtr: usize, rowIdx: usize, values: usize,
  j0: i32, j1: i32, shift: f32, out: usize): void {
  sums32(W, k, colPtr, rowIdx, values, j0, j1, -shift, out);
}

export function gatherRowsF32(H: usize, k: i32, rowPtr: usize, colIdx: usize, values: usize,
  i0: i32, i1: i32, out: usize): void {
  sums32(H, k, rowPtr, colIdx, values, i0, i1, 0.0, out);
}

// ---- float64: out[c − c0, :] = init + Σ_p values[p]·X[idx[p], :] -----------------------------------

function sums64(X: usize, k: i32, ptr: usize, idx: usize, values: usize, c0: i32, c1: i32, init: f64, out: usize): void {
  const row = <usize>k << 3;
  let dst = out;
  for (let c = c0; c < c1; c++, dst += row) {
    const p0 = load<i32>(ptr + (<usize>c << 2)), p1 = load<i32>(ptr + (<usize>c << 2), 4);
    let a = 0;
    for (; k - a >= 10; a += 10) sum5(X + (<usize>a << 3), row, idx, values, p0, p1, init, dst + (<usize>a << 3));
    const pairs = (k - a) >> 1;
    const Xa = X + (<usize>a << 3), da = dst + (<usize>a << 3);
    if (pairs == 4) sum4(Xa, row, idx, values, p0, p1, init, da);
    else if (pairs == 3) sum3(Xa, row, idx, values, p0, p1, init, da);
    else if (pairs == 2) sum2(Xa, row, idx, values, p0, p1, init, da);
    else if (pairs == 1) sum1(Xa, row, idx, values, p0, p1, init, da);
    a += pairs << 1;
    if (a < k) sum0(X + (<usize>a << 3), row, idx, values, p0, p1, init, dst + (<usize>a << 3));
  }
}

// In each block: X points at the block's first component of row 0, row = bytes per row.
function sum5(X: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32, init: f64, dst: usize): void {
  let s0 = f64x2.splat(init), s1 = s0, s2 = s0, s3 = s0, s4 = s0;
  for (let pv = values + (<usize>p0 << 3), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 3); pv < end; pv += 8, pi += 4) {
    const v = f64x2.splat(load<f64>(pv));
    const x = X + <usize>load<i32>(pi) * row;
    s0 = f64x2.add(s0, f64x2.mul(v, v128.load(x)));
    s1 = f64x2.add(s1, f64x2.mul(v, v128.load(x, 16)));
    s2 = f64x2.add(s2, f64x2.mul(v, v128.load(x, 32)));
    s3 = f64x2.add(s3, f64x2.mul(v, v128.load(x, 48)));
    s4 = f64x2.add(s4, f64x2.mul(v, v128.load(x, 64)));
  }
  v128.store(dst, s0); v128.store(dst, s1, 16); v128.store(dst, s2, 32); v128.store(dst, s3, 48); v128.store(dst, s4, 64);
}

function sum4(X: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32, init: f64, dst: usize): void {
  let s0 = f64x2.splat(init), s1 = s0, s2 = s0, s3 = s0;
  for (let pv = values + (<usize>p0 << 3), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 3); pv < end; pv += 8, pi += 4) {
    const v = f64x2.splat(load<f64>(pv));
    const x = X + <usize>load<i32>(pi) * row;
    s0 = f64x2.add(s0, f64x2.mul(v, v128.load(x)));
    s1 = f64x2.add(s1, f64x2.mul(v, v128.load(x, 16)));
    s2 = f64x2.add(s2, f64x2.mul(v, v128.load(x, 32)));
    s3 = f64x2.add(s3, f64x2.mul(v, v128.load(x, 48)));
  }
  v128.store(dst, s0); v128.store(dst, s1, 16); v128.store(dst, s2, 32); v128.store(dst, s3, 48);
}

function sum3(X: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32, init: f64, dst: usize): void {
  let s0 = f64x2.splat(init), s1 = s0, s2 = s0;
  for (let pv = values + (<usize>p0 << 3), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 3); pv < end; pv += 8, pi += 4) {
    const v = f64x2.splat(load<f64>(pv));
    const x = X + <usize>load<i32>(pi) * row;
    s0 = f64x2.add(s0, f64x2.mul(v, v128.load(x)));
    s1 = f64x2.add(s1, f64x2.mul(v, v128.load(x, 16)));
    s2 = f64x2.add(s2, f64x2.mul(v, v128.load(x, 32)));
  }
  v128.store(dst, s0); v128.store(dst, s1, 16); v128.store(dst, s2, 32);
}

function sum2(X: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32, init: f64, dst: usize): void {
  let s0 = f64x2.splat(init), s1 = s0;
  for (let pv = values + (<usize>p0 << 3), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 3); pv < end; pv += 8, pi += 4) {
    const v = f64x2.splat(load<f64>(pv));
    const x = X + <usize>load<i32>(pi) * row;
    s0 = f64x2.add(s0, f64x2.mul(v, v128.load(x)));
    s1 = f64x2.add(s1, f64x2.mul(v, v128.load(x, 16)));
  }
  v128.store(dst, s0); v128.store(dst, s1, 16);
}

function sum1(X: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32, init: f64, dst: usize): void {
  let s0 = f64x2.splat(init);
  for (let pv = values + (<usize>p0 << 3), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 3); pv < end; pv += 8, pi += 4) {
    s0 = f64x2.add(s0, f64x2.mul(f64x2.splat(load<f64>(pv)), v128.load(X + <usize>load<i32>(pi) * row)));
  }
  v128.store(dst, s0);
}

function sum0(X: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32, init: f64, dst: usize): void {
  let s = init;
  for (let pv = values + (<usize>p0 << 3), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 3); pv < end; pv += 8, pi += 4) {
    s += load<f64>(pv) * load<f64>(X + <usize>load<i32>(pi) * row);
  }
  store<f64>(dst, s);
}

// ---- float64 scatter: B[idx[p], block] += values[p]·h[block], h held in registers ----------------------

function scatter5(h: usize, B: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32): void {
  const h0 = v128.load(h), h1 = v128.load(h, 16), h2 = v128.load(h, 32), h3 = v128.load(h, 48), h4 = v128.load(h, 64);
  for (let pv = values + (<usize>p0 << 3), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 3); pv < end; pv += 8, pi += 4) {
    const v = f64x2.splat(load<f64>(pv));
    const o = B + <usize>load<i32>(pi) * row;
    v128.store(o, f64x2.add(v128.load(o), f64x2.mul(v, h0)));
    v128.store(o, f64x2.add(v128.load(o, 16), f64x2.mul(v, h1)), 16);
    v128.store(o, f64x2.add(v128.load(o, 32), f64x2.mul(v, h2)), 32);
    v128.store(o, f64x2.add(v128.load(o, 48), f64x2.mul(v, h3)), 48);
    v128.store(o, f64x2.add(v128.load(o, 64), f64x2.mul(v, h4)), 64);
  }
}

function scatter4(h: usize, B: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32): void {
  const h0 = v128.load(h), h1 = v128.load(h, 16), h2 = v128.load(h, 32), h3 = v128.load(h, 48);
  for (let pv = values + (<usize>p0 << 3), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 3); pv < end; pv += 8, pi += 4) {
    const v = f64x2.splat(load<f64>(pv));
    const o = B + <usize>load<i32>(pi) * row;
    v128.store(o, f64x2.add(v128.load(o), f64x2.mul(v, h0)));
    v128.store(o, f64x2.add(v128.load(o, 16), f64x2.mul(v, h1)), 16);
    v128.store(o, f64x2.add(v128.load(o, 32), f64x2.mul(v, h2)), 32);
    v128.store(o, f64x2.add(v128.load(o, 48), f64x2.mul(v, h3)), 48);
  }
}

function scatter3(h: usize, B: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32): void {
  const h0 = v128.load(h), h1 = v128.load(h, 16), h2 = v128.load(h, 32);
  for (let pv = values + (<usize>p0 << 3), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 3); pv < end; pv += 8, pi += 4) {
    const v = f64x2.splat(load<f64>(pv));
    const o = B + <usize>load<i32>(pi) * row;
    v128.store(o, f64x2.add(v128.load(o), f64x2.mul(v, h0)));
    v128.store(o, f64x2.add(v128.load(o, 16), f64x2.mul(v, h1)), 16);
    v128.store(o, f64x2.add(v128.load(o, 32), f64x2.mul(v, h2)), 32);
  }
}

function scatter2(h: usize, B: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32): void {
  const h0 = v128.load(h), h1 = v128.load(h, 16);
  for (let pv = values + (<usize>p0 << 3), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 3); pv < end; pv += 8, pi += 4) {
    const v = f64x2.splat(load<f64>(pv));
    const o = B + <usize>load<i32>(pi) * row;
    v128.store(o, f64x2.add(v128.load(o), f64x2.mul(v, h0)));
    v128.store(o, f64x2.add(v128.load(o, 16), f64x2.mul(v, h1)), 16);
  }
}

function scatter1(h: usize, B: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32): void {
  const h0 = v128.load(h);
  for (let pv = values + (<usize>p0 << 3), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 3); pv < end; pv += 8, pi += 4) {
    const o = B + <usize>load<i32>(pi) * row;
    v128.store(o, f64x2.add(v128.load(o), f64x2.mul(f64x2.splat(load<f64>(pv)), h0)));
  }
}

function scatter0(h: usize, B: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32): void {
  const h0 = load<f64>(h);
  for (let pv = values + (<usize>p0 << 3), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 3); pv < end; pv += 8, pi += 4) {
    const o = B + <usize>load<i32>(pi) * row;
    store<f64>(o, load<f64>(o) + load<f64>(pv) * h0);
  }
}

// ---- float32: out[c − c0, :] = init + Σ_p values[p]·X[idx[p], :] ------------------------------------

function sums32(X: usize, k: i32, ptr: usize, idx: usize, values: usize, c0: i32, c1: i32, init: f32, out: usize): void {
  const row = <usize>k << 2;
  let dst = out;
  for (let c = c0; c < c1; c++, dst += row) {
    const p0 = load<i32>(ptr + (<usize>c << 2)), p1 = load<i32>(ptr + (<usize>c << 2), 4);
    let a = 0;
    for (; k - a >= 8; a += 8) sum8f(X + (<usize>a << 2), row, idx, values, p0, p1, init, dst + (<usize>a << 2));
    if (k - a >= 4) { sum4f(X + (<usize>a << 2), row, idx, values, p0, p1, init, dst + (<usize>a << 2)); a += 4; }
    if (k - a >= 2) { sum2f(X + (<usize>a << 2), row, idx, values, p0, p1, init, dst + (<usize>a << 2)); a += 2; }
    if (a < k) sum1f(X + (<usize>a << 2), row, idx, values, p0, p1, init, dst + (<usize>a << 2));
  }
}

function sum8f(X: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32, init: f32, dst: usize): void {
  let s0 = f32x4.splat(init), s1 = s0;
  for (let pv = values + (<usize>p0 << 2), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 2); pv < end; pv += 4, pi += 4) {
    const v = f32x4.splat(load<f32>(pv));
    const x = X + <usize>load<i32>(pi) * row;
    s0 = f32x4.add(s0, f32x4.mul(v, v128.load(x)));
    s1 = f32x4.add(s1, f32x4.mul(v, v128.load(x, 16)));
  }
  v128.store(dst, s0); v128.store(dst, s1, 16);
}

function sum4f(X: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32, init: f32, dst: usize): void {
  let s0 = f32x4.splat(init);
  for (let pv = values + (<usize>p0 << 2), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 2); pv < end; pv += 4, pi += 4) {
    s0 = f32x4.add(s0, f32x4.mul(f32x4.splat(load<f32>(pv)), v128.load(X + <usize>load<i32>(pi) * row)));
  }
  v128.store(dst, s0);
}

// Two lanes: 64-bit loads into the low half (the high half is zero and never stored).
function sum2f(X: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32, init: f32, dst: usize): void {
  let s0 = f32x4.splat(init);
  for (let pv = values + (<usize>p0 << 2), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 2); pv < end; pv += 4, pi += 4) {
    s0 = f32x4.add(s0, f32x4.mul(f32x4.splat(load<f32>(pv)), v128.load64_zero(X + <usize>load<i32>(pi) * row)));
  }
  v128.store64_lane(dst, s0, 0);
}

function sum1f(X: usize, row: usize, idx: usize, values: usize, p0: i32, p1: i32, init: f32, dst: usize): void {
  let s = init;
  for (let pv = values + (<usize>p0 << 2), pi = idx + (<usize>p0 << 2), end = values + (<usize>p1 << 2); pv < end; pv += 4, pi += 4) {
    s += load<f32>(pv) * load<f32>(X + <usize>load<i32>(pi) * row);
  }
  store<f32>(dst, s);
}
