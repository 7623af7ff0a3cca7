/**
 * The flags of `nmflow project --from-jetstream` and the worker's run (cluster/project-worker.ts): N worker
 * processes started with the same --durable share the input; each prints one line when ready and one summary
 * line when it stops (SIGTERM or SIGINT: it finishes the message in hand, then exits 0).
 */
import type { Command } from 'commander';
import { OptionError } from '../errors.js';
import type { ProjectOptions } from '../pipeline/project.js';
import { parseInteger } from './parse-flags.js';

export interface StreamWorkerFlags {
  fromJetstream?: boolean;
  nats?: string;
  stream?: string;
  subject?: string;
  durable?: string;
  modelBucket?: string;
  modelKey?: string;
  toSubject?: string;
  toStream?: string;
  ackWait?: number;
  modelWait?: number;
  json?: boolean;
  quiet?: boolean;
}

export function addStreamWorkerFlags(command: Command): void {
  command
    .option('--from-jetstream', 'run as a projection worker on a JetStream stream (the flags below; start N workers on one --durable)')
    .option('--nats <url>', 'NATS server URL(s), comma-separated')
    .option('--stream <name>', 'the input stream')
    .option('--subject <subject>', 'the input subject')
    .option('--durable <name>', 'the durable consumer the workers share')
    .option('--model-bucket <name>', 'the KV bucket holding the model (nmflow model publish)')
    .option('--model-key <key>', 'the key of the model in the bucket (default "model")')
    .option('--to-subject <subject>', 'the output subject (Arrow IPC batches, msgID <stream>:<input sequence>)')
    .option('--to-stream <name>', 'the output stream, created when no stream captures --to-subject (default <stream>_OUT)')
    .option('--ack-wait <ms>', 'redelivery of an unacknowledged input after this many ms (default 30000)', parseInteger('--ack-wait'))
    .option('--model-wait <ms>', 'wait this long for the first model (default 30000)', parseInteger('--model-wait'));
}

export async function runProjectWorkerCommand(project: ProjectOptions, flags: StreamWorkerFlags, print: (line: string) => void): Promise<void> {
  const required = [['--nats', flags.nats], ['--stream', flags.stream], ['--subject', flags.subject], ['--durable', flags.durable],
    ['--model-bucket', flags.modelBucket], ['--to-subject', flags.toSubject]] as const;
  for (const [flag, value] of required) if (value === undefined) throw new OptionError(flag, `${flag} with --from-jetstream`, undefined);
  const { runProjectWorker } = await import('../cluster/project-worker.js'); // NATS loads when first needed
  let stop = false;
  const onSignal = (): void => { stop = true; };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const log = (line: string): void => { if (!flags.quiet) process.stderr.write(`${line}\n`); };
  try {
    const report = await runProjectWorker({
      servers: flags.nats!, stream: flags.stream!, subject: flags.subject!, durable: flags.durable!, modelBucket: flags.modelBucket!,
      toSubject: flags.toSubject!, project, ...(flags.modelKey ? { modelKey: flags.modelKey } : {}), ...(flags.toStream ? { toStream: flags.toStream } : {}),
      ...(flags.ackWait === undefined ? {} : { ackWaitMs: flags.ackWait }), ...(flags.modelWait === undefined ? {} : { modelWaitMs: flags.modelWait }),
    }, () => stop, log);
    if (flags.json) print(JSON.stringify({ worker: process.pid, ...report }));
    else if (!flags.quiet) print(`worker ${process.pid} stopped: ${report.projected} messages projected, ${report.duplicates} duplicates dropped, ${report.rejected} rejected`);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
