/**
 * parquet-wasm, loaded on first use. Its Node build compiles and instantiates its WebAssembly module
 * when imported (a 64-bit Node reserves about 10 GB of address space per WebAssembly memory), so a
 * static import would cost every command its start-up time and make the CLI fail to start under a
 * small address-space limit (`ulimit -v`) even for a .mtx input. Writers and the model reader call
 * this; the Parquet decoder of the sources runs its own copy in a worker thread (source/parquet-worker.ts).
 */
import type * as ParquetWasm from 'parquet-wasm';
import { NmfError } from '../errors.js';

export type ParquetWasmModule = typeof ParquetWasm;

let loaded: Promise<ParquetWasmModule> | undefined;

export function loadParquetWasm(): Promise<ParquetWasmModule> {
  loaded ??= import('parquet-wasm').catch((error: unknown) => {
    loaded = undefined;
    const memory = error instanceof RangeError && /memory/i.test(error.message);
    throw new NmfError('UNSUPPORTED', `could not start the Parquet codec (parquet-wasm): ${memory
      ? 'its WebAssembly memory could not be reserved (is the address space limited, e.g. by ulimit -v?)'
      : 'its module failed to load'}`, { cause: error });
  });
  return loaded;
}
