/** Placeholder until the sCD engine is wired in (issue 3). */
import { NmfError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import type { MatrixSource } from '../source/matrix-source.js';
import type { Engine, EngineContext } from '../update/engine.js';

export function makeL1Engine(_source: MatrixSource, _m: number, _options: ResolvedOptions, _context: EngineContext): Engine {
  throw new NmfError('UNSUPPORTED', "loss 'l1' is being wired in");
}
