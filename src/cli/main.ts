/**
 * The `nmflow` command-line tool. Exit codes: 0 success, 2 bad usage (unknown flag, bad option
 * value), 1 data or runtime error. Errors print one line saying what and where; --verbose adds
 * the stack and the cause.
 */
import { NMFLOW_VERSION } from '../io/nmflow-version.js';
import { Command, CommanderError } from 'commander';
import { NmfError, OptionError } from '../errors.js';
import { addWorkerCommand } from './cluster-commands.js';
import { addConvertCommand } from './convert-command.js';
import { addCvCommand } from './cv-command.js';
import { addEvalCommand } from './eval-command.js';
import { addFitCommand } from './fit-command.js';
import { addProjectCommand } from './project-command.js';
import { addReportCommand } from './report-command.js';
import { addStreamCommand } from './stream-command.js';
import { addModelCommand } from './model-command.js';
import { Interrupted } from './interrupt.js';

export async function main(argv: readonly string[]): Promise<number> {
  const print = (line: string): void => { process.stdout.write(line + '\n'); };
  const verbose = argv.includes('--verbose');
  const json = argv.includes('--json');
  const program = new Command('nmflow')
    .description('streaming nonnegative matrix factorization (least squares and weighted L1)')
    .version(NMFLOW_VERSION, '-V, --version', 'print the version of nmflow')
    .option('--verbose', 'print stack traces on errors')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(json ? `${JSON.stringify({ error: { code: 'INVALID_OPTION', message: s.replace(/^error: /, '').trim() } })}\n` : s),
    });
  addFitCommand(program, print);
  addCvCommand(program, print);
  addEvalCommand(program, print);
  addReportCommand(program, print);
  addProjectCommand(program, print);
  addConvertCommand(program, print);
  addWorkerCommand(program);
  addStreamCommand(program, print);
  addModelCommand(program, print);
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return 2;
    }
    if (error instanceof Interrupted) return 130;
    const usage = error instanceof OptionError;
    const message = error instanceof Error ? error.message : String(error);
    // Every expected failure is an NmfError in words; anything else is a bug, and said to be one.
    const prefix = usage ? 'usage: ' : error instanceof NmfError ? '' : 'internal error (a bug: please report it with the output of --verbose): ';
    // With --json the one line is a JSON object, for the program that reads the output.
    process.stderr.write(json ? `${JSON.stringify(errorJson(error, prefix + message))}\n` : `nmflow: ${prefix}${message}\n`);
    if (verbose && error instanceof Error) {
      process.stderr.write(`${error.stack ?? ''}\n`);
      if (error.cause) process.stderr.write(`cause: ${String((error.cause as Error).stack ?? error.cause)}\n`);
    }
    return usage ? 2 : error instanceof NmfError ? 1 : 1;
  }
}

/** The error line under --json: {"error": {code, message, location?, option?}}. */
function errorJson(error: unknown, message: string): { error: Record<string, unknown> } {
  const e = error instanceof NmfError ? error : undefined;
  return {
    error: {
      code: e?.code ?? 'INTERNAL', message,
      ...(e?.location ? { location: e.location } : {}),
      ...(error instanceof OptionError ? { option: error.option } : {}),
    },
  };
}

