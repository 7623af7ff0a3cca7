/** The NmfError a promise or a function ends with (fails the test when there is none, or when it is another error). */
import { expect } from 'vitest';
import { NmfError } from '../../src/errors.js';

export async function failure(run: () => unknown): Promise<NmfError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(NmfError);
    return error as NmfError;
  }
  throw new Error('expected an error');
}
