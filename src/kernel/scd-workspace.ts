/**
 * Scratch space for sparse coordinate descent (sCD) on weighted L1-NMF: the partial residual of
 * the line (row of A or column of A) being updated, the breakpoint/weight buffers of the weighted
 * median, and two k-vectors of sums of the other factor.
 *
 * Shapes: `r`, `bt`, `bw` hold one entry per nonzero of the longest line (`capacity`), `yl` and
 * `pos` k of them, `count` one per component;
 * `lineSums[l]` = Σ over the line's nonzeros of the other factor's component l,
 * `allSums[l]` = Σ over all of the other factor's component l (fixed during a half-sweep).
 *
 * Cost: O(capacity + k) to make; `ensureScdWorkspace` grows geometrically (×1.5 at least), so a
 * fit allocates O(log(max line)) times at most. Nothing here is touched by the hot loops but reads
 * and writes into these arrays.
 *
 * Reference: docs/architecture.md, Weighted L1 (arXiv 2603.29715, Alg. sCD).
 */
export interface ScdWorkspace {
  /** Rank the k-vectors are sized for. */
  k: number;
  /** Longest line the buffers hold. */
  capacity: number;
  /** Residual A − WH at the current line's nonzeros, index p − start. */
  r: Float64Array;
  /**
   * The other factor gathered along the line, its nonzero entries only, component-major with the
   * line's length as stride: component l's u-th nonzero is yl[l·len + u] at line position
   * pos[l·len + u] (= p − start), for u < count[l].
   */
  yl: Float64Array;
  pos: Int32Array;
  count: Int32Array;
  /** Breakpoints handed to the weighted median. */
  bt: Float64Array;
  /** Their weights. */
  bw: Float64Array;
  /** Σ over the current line's nonzeros of the other factor, per component. */
  lineSums: Float64Array;
  /** Σ over all entries of the other factor, per component. */
  allSums: Float64Array;
}

export function makeScdWorkspace(k: number, capacity: number): ScdWorkspace {
  const cap = Math.max(1, capacity | 0);
  return {
    k,
    capacity: cap,
    r: new Float64Array(cap),
    yl: new Float64Array(cap * Math.max(1, k)),
    pos: new Int32Array(cap * Math.max(1, k)),
    count: new Int32Array(Math.max(1, k)),
    bt: new Float64Array(cap),
    bw: new Float64Array(cap),
    lineSums: new Float64Array(Math.max(1, k)),
    allSums: new Float64Array(Math.max(1, k)),
  };
}

/** Make `ws` hold lines of `capacity` nonzeros and rank `k`; reallocates only when too small. */
export function ensureScdWorkspace(ws: ScdWorkspace, k: number, capacity: number): void {
  if (capacity > ws.capacity) {
    const cap = Math.max(capacity, Math.ceil(ws.capacity * 1.5));
    ws.capacity = cap;
    ws.r = new Float64Array(cap);
    ws.bt = new Float64Array(cap);
    ws.bw = new Float64Array(cap);
  }
  if (k > ws.lineSums.length) {
    ws.lineSums = new Float64Array(k);
    ws.allSums = new Float64Array(k);
    ws.count = new Int32Array(k);
  }
  if (ws.yl.length < ws.capacity * k) {
    ws.yl = new Float64Array(ws.capacity * k);
    ws.pos = new Int32Array(ws.capacity * k);
  }
  ws.k = k;
}
