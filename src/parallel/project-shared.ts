/**
 * Control block of the projection pool (project-pool.ts, project-worker.ts): the barrier slots of
 * workers.ts, then the chunk size and each thread's first column.
 */
export const N = 4;        // samples in the chunk
export const RANGES = 8;   // RANGES + t: first column of thread t (t = 0..threads)
export const MAX_THREADS = 64;
export const CTRL_LENGTH = RANGES + MAX_THREADS + 1;

export const CMD_REBIND = 1;
export const CMD_PROJECT = 2;
