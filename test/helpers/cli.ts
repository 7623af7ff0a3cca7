/** The nmflow CLI run from the TypeScript sources in a child process (what bin/nmflow runs, via tsx). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** `node` arguments that run the CLI: append the CLI's own arguments. */
export const CLI = ['--import', 'tsx', new URL('../../src/cli/run.ts', import.meta.url).pathname];

const exec = promisify(execFile);

/** Runs `nmflow …args` to its end: the exit code and everything printed. */
export async function nmflow(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await exec('node', [...CLI, ...args])) };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
