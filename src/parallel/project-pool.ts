/**
 * Worker threads for projection (pipeline/project.ts): each chunk is copied into shared memory and
 * its columns split over the main thread (thread 0) and T − 1 workers by work (nonzeros + one per
 * column); every thread runs the same projector (model/project.ts) on its columns. A column's
 * code does not depend on the other columns, so the codes are the same bytes for any thread count.
 * Workers stop on `close()`; they are unref'ed once started, so a forgotten pool cannot keep the process alive.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { OptionError } from '../errors.js';
import { makeRangeProjector, type ProjectionModel, type ProjectionOptions } from '../model/project.js';
import type { ProjectBuffers } from './project-worker.js';
import { CMD_PROJECT, CMD_REBIND, CTRL_LENGTH, MAX_THREADS, N, RANGES } from './project-shared.js';
import { balanceColumns, makeSharedChunk, sharedBuffer } from './shared-chunk.js';
import { runOnAll, startWorkers, stopWorkers } from './workers.js';

export interface ProjectPool {
  readonly threads: number;
  /** Resolves when every worker has started. */
  readonly ready: Promise<void>;
  /** Codes of the chunk's samples: rank × n, row-major, an array the caller owns. */
  project(chunk: CscChunk): Float64Array;
  close(): void;
}

export function makeProjectPool(model: ProjectionModel, penalties: ProjectionOptions, threads: number): ProjectPool {
  const T = Math.min(Math.max(1, Math.floor(threads)), MAX_THREADS);
  const k = model.rank;
  const solve = makeRangeProjector(model, penalties); // throws OptionError on bad penalties, before any worker starts
  const ctrlBuffer = sharedBuffer(4 * CTRL_LENGTH);
  const ctrl = new Int32Array(ctrlBuffer);
  const shared = makeSharedChunk();
  let outBuffer = sharedBuffer(8 * k * 1024);
  let out = new Float64Array(outBuffer);
  const buffers = (): ProjectBuffers => ({ chunk: shared.buffers, out: outBuffer });
  const ports: MessagePort[] = [];
  const plain: ProjectionModel = { loss: model.loss, rank: k, features: model.features, W: model.W, d: model.d };
  const url = new URL(import.meta.url.endsWith('.ts') ? './project-worker.ts' : './project-worker.js', import.meta.url);
  const { workers, failures, ready } = startWorkers(url, T, (index) => {
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(buffers());
    ports.push(port1);
    return { workerData: { index, model: plain, penalties, ctrl: ctrlBuffer, port: port2 }, transferList: [port2] };
  });
  const ranges = ctrl;
  return {
    threads: T,
    ready,
    project(chunk) {
      if (chunk.m !== model.features) throw new OptionError('chunk', `chunks with ${model.features} features (the model's)`, `${chunk.m} features`);
      const n = chunk.n;
      let rebind = shared.reserve(chunk);
      if (out.length < k * n) {
        outBuffer = sharedBuffer(8 * Math.max(k * n, out.length * 2));
        out = new Float64Array(outBuffer);
        rebind = true;
      }
      if (rebind) {
        for (const port of ports) port.postMessage(buffers());
        runOnAll(ctrl, T, CMD_REBIND, () => undefined, failures);
      }
      shared.load(chunk);
      ctrl[N] = n;
      balanceColumns(shared.colPtr, n, T, ranges, RANGES);
      const view: CscChunk = { m: chunk.m, colStart: 0, n, position: chunk.position, colPtr: shared.colPtr, rowIdx: shared.rowIdx, values: shared.values };
      runOnAll(ctrl, T, CMD_PROJECT, () => solve(view, out, ctrl[RANGES]!, ctrl[RANGES + 1]!), failures);
      return out.slice(0, k * n);
    },
    close() {
      stopWorkers(ctrl, workers, ports, failures);
    },
  };
}
