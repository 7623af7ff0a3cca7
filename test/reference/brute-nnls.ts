// Reference NNLS, slow and obviously correct.
//  bruteForceNnls: enumerate every support P ⊆ {0..k−1}, solve G_PP x = b_P by Gaussian
//    elimination, keep feasible points, return the one with the lowest objective (k ≤ 8).
//  slowNnls: cyclic coordinate descent run to a change below 1e-15 (any k), for the dense ALS.

export function objective(G: Float64Array, b: Float64Array, x: Float64Array, k: number): number {
  let f = 0;
  for (let a = 0; a < k; a++) {
    let gx = 0;
    for (let c = 0; c < k; c++) gx += G[a * k + c]! * x[c]!;
    f += 0.5 * x[a]! * gx - b[a]! * x[a]!;
  }
  return f;
}

export function bruteForceNnls(G: Float64Array, b: Float64Array, k: number): Float64Array {
  let best = new Float64Array(k);
  let bestF = 0;
  for (let mask = 1; mask < 1 << k; mask++) {
    const P: number[] = [];
    for (let a = 0; a < k; a++) if (mask & (1 << a)) P.push(a);
    const p = P.length;
    const M = P.map((r) => [...P.map((c) => G[r * k + c]!), b[r]!]);
    let singular = false;
    for (let c = 0; c < p; c++) {
      let piv = c;
      for (let r = c + 1; r < p; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
      [M[c], M[piv]] = [M[piv]!, M[c]!];
      if (Math.abs(M[c]![c]!) < 1e-14) { singular = true; break; }
      for (let r = 0; r < p; r++) {
        if (r === c) continue;
        const f = M[r]![c]! / M[c]![c]!;
        for (let t = c; t <= p; t++) M[r]![t]! -= f * M[c]![t]!;
      }
    }
    if (singular) continue;
    const x = new Float64Array(k);
    let feasible = true;
    P.forEach((a, r) => { x[a] = M[r]![p]! / M[r]![r]!; if (x[a]! < 0) feasible = false; });
    if (!feasible) continue;
    const f = objective(G, b, x, k);
    if (f < bestF) { bestF = f; best = x; }
  }
  return best;
}

export function slowNnls(G: Float64Array, b: Float64Array, k: number, start?: Float64Array): Float64Array {
  const x = start ? Float64Array.from(start) : new Float64Array(k);
  for (let sweep = 0; sweep < 100000; sweep++) {
    let change = 0;
    for (let a = 0; a < k; a++) {
      const gaa = G[a * k + a]!;
      if (gaa <= 0) { x[a] = 0; continue; }
      let grad = -b[a]!;
      for (let c = 0; c < k; c++) grad += G[a * k + c]! * x[c]!;
      const next = Math.max(0, x[a]! - grad / gaa);
      change = Math.max(change, Math.abs(next - x[a]!) / Math.max(1e-300, Math.abs(next)));
      x[a] = next;
    }
    if (change < 1e-15) break;
  }
  return x;
}
