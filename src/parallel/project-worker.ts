/**
 * A worker thread of the projection pool (project-pool.ts): makes the same projector as the main
 * thread from the model, then solves its range of columns of each shared chunk into the shared output.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { makeRangeProjector, type ProjectionModel, type ProjectionOptions } from '../model/project.js';
import { warmUpProjector } from '../model/warm-up.js';
import { CMD_PROJECT, CMD_REBIND, N, RANGES } from './project-shared.js';
import { chunkViews, type ChunkBuffers } from './shared-chunk.js';
import { serveCommands } from './workers.js';

export interface ProjectBuffers { readonly chunk: ChunkBuffers; readonly out: SharedArrayBuffer }

const { index, model, penalties, ctrl: ctrlBuffer, port } = workerData as {
  index: number; model: ProjectionModel; penalties: ProjectionOptions; ctrl: SharedArrayBuffer; port: MessagePort;
};
const ctrl = new Int32Array(ctrlBuffer);
const solve = makeRangeProjector(model, penalties);
warmUpProjector(solve, model.features, model.rank); // before reporting ready: the first real share runs compiled code
let buffers = receiveMessageOnPort(port)!.message as ProjectBuffers;
let views = chunkViews(buffers.chunk);
let out = new Float64Array(buffers.out);
serveCommands(ctrl, (command) => {
  if (command === CMD_REBIND) {
    buffers = receiveMessageOnPort(port)!.message as ProjectBuffers;
    views = chunkViews(buffers.chunk);
    out = new Float64Array(buffers.out);
  } else if (command === CMD_PROJECT) {
    const n = ctrl[N]!;
    const chunk: CscChunk = { m: model.features, colStart: 0, n, position: 0, ...views };
    solve(chunk, out, ctrl[RANGES + index]!, ctrl[RANGES + index + 1]!);
  }
});
