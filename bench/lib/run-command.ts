/**
 * Run a child process to completion and keep what it printed. Never throws: a command that cannot
 * start, times out or exits non-zero comes back with `ok: false` and the reason in `error`.
 */
import { spawnSync } from 'node:child_process';

export interface CommandResult {
  ok: boolean;
  status: number | null;
  stdout: string;
  stderr: string;
  /** Wall time of the whole process (start-up and input reading included). */
  seconds: number;
  error?: string;
}

export interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutSeconds?: number;
}

export function runCommand(command: string, args: readonly string[], options: CommandOptions = {}): CommandResult {
  const t0 = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.timeoutSeconds === undefined ? {} : { timeout: options.timeoutSeconds * 1000, killSignal: 'SIGKILL' as const }),
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const stdout = result.stdout ?? '';
  const stderr = result.stderr ?? '';
  const base = { status: result.status, stdout, stderr, seconds };
  if (result.error) return { ok: false, ...base, error: `${command}: ${result.error.message}` };
  if (result.signal) return { ok: false, ...base, error: `${command} killed by ${result.signal}` };
  if (result.status !== 0) return { ok: false, ...base, error: `${command} exited with status ${String(result.status)}` };
  return { ok: true, ...base };
}

/** Last `lines` lines of a text, for error reports. */
export function tail(text: string, lines = 30): string {
  const all = text.trimEnd().split('\n');
  return all.slice(Math.max(0, all.length - lines)).join('\n');
}

/** The JSON objects among the lines of a process's output (other lines are skipped). */
export function jsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(trimmed);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) out.push(value as Record<string, unknown>);
    } catch {
      // not JSON: a message printed by the tool
    }
  }
  return out;
}
