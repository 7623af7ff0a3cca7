/**
 * `makeWasmKernels()` with the module compiled at once by V8's optimising tier when this call is the
 * thread's first (the module is compiled once per thread and cached; its later users get that code).
 * V8 otherwise compiles WebAssembly lazily with its baseline compiler (Liftoff) and tiers hot functions
 * up later; the baseline code of the sparse loops ran ~7× slower. The SVD start (svd-sketch.ts) runs
 * before the fit's first pass, so it is often the first user: compiled lazily here, the module would
 * stay slow for the fit as well. The flags are put back after, unless the process set them itself.
 * (update/wasm-pass-l2.ts does the same for the fit's pass; both call sites need it.)
 */
import { execArgv } from 'node:process';
import { setFlagsFromString } from 'node:v8';
import { makeWasmKernels, type WasmKernels } from '../kernel/wasm/wasm-kernels.js';

/** A private instance (its own memory), or undefined where WebAssembly SIMD is missing. */
export function makeWasmKernelsEagerly(): WasmKernels | undefined {
  if (execArgv.some((flag) => /liftoff|wasm-lazy/.test(flag))) return makeWasmKernels();
  setFlagsFromString('--no-liftoff');
  setFlagsFromString('--no-wasm-lazy-compilation');
  try {
    return makeWasmKernels();
  } finally {
    setFlagsFromString('--liftoff');
    setFlagsFromString('--wasm-lazy-compilation');
  }
}
