/**
 * The scale-out commands on NATS JetStream (issue #14): `nmflow worker --nats URL [--threads N]`, and the
 * coordinator side of `nmflow fit INPUT --nats URL` (cluster/coordinator.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Command } from 'commander';
import { fitOnNats, type ClusterFitOptions, type PassTiming } from '../cluster/coordinator.js';
import { runWorker } from '../cluster/worker.js';
import type { FitOptions } from '../options.js';
import type { Snapshot, TracePoint } from '../snapshot/snapshot.js';
import { untilInterrupted } from './interrupt.js';
import { sourceOptions, type InputFlags } from './open-input.js';
import { parseInteger, parseNumber } from './parse-flags.js';

/** The fit command's cluster flags. */
export interface ClusterFlags {
  nats?: string;
  replicas?: number;
  ackWait?: number;
  idleTimeout?: number;
  codesEvery?: number;
  outHParts?: string;
}

export function addClusterFitFlags(command: Command): Command {
  return command
    .option('--nats <URL>', 'fit on NATS JetStream as the coordinator: units solved by `nmflow worker` processes (Parquet, layout list or wide)')
    .option('--replicas <N>', 'with --nats: copies of the work stream, bucket and store (3 on a 3-server cluster)', parseInteger('--replicas'))
    .option('--ack-wait <seconds>', 'with --nats: the blocks of a worker not heard of for this long go to another worker (default 30)', parseNumber('--ack-wait'))
    .option('--idle-timeout <seconds>', 'with --nats: fail when no unit completes for this long (default 600)', parseNumber('--idle-timeout'))
    .option('--codes-every <N>', 'with --nats: the units\' codes, and the coordinator\'s state it resumes from, go through the broker every N passes and at the last (default 5; 1: every pass)', parseInteger('--codes-every'))
    .option('--out-h-parts <DIR>', 'with --nats: the workers write H, one Parquet part per unit of 4096 samples (DIR/h-000000.parquet …, sample ids included)');
}

/** `nmflow fit INPUT --nats URL`: the final model of the fit on NATS (the same bytes as without --nats). */
export async function fitOnNatsCli(input: string, flags: ClusterFlags & InputFlags & { quiet?: boolean }, options: FitOptions,
  onIteration: (p: TracePoint) => void): Promise<Snapshot> {
  const clusterOptions: ClusterFitOptions = {
    ...options, emit: 'final', onIteration,
    layout: sourceOptions({ ...flags, layout: flags.layout ?? 'list' }),
    cluster: {
      servers: flags.nats!,
      ...(flags.replicas === undefined ? {} : { replicas: flags.replicas }),
      ...(flags.ackWait === undefined ? {} : { ackWaitSeconds: flags.ackWait }),
      ...(flags.idleTimeout === undefined ? {} : { idleTimeoutSeconds: flags.idleTimeout }),
      ...(flags.codesEvery === undefined ? {} : { codesEvery: flags.codesEvery }),
      ...(flags.outHParts === undefined ? {} : { hPartsDir: flags.outHParts }),
      ...(flags.quiet ? {} : {
        log: (line: string) => { process.stderr.write(`${line}\n`); },
        onPass: (t: PassTiming) => {
          process.stderr.write(`nmflow: pass ${t.pass}: ${t.units} units; publish ${t.publishSeconds.toFixed(3)} s, wait ${t.waitSeconds.toFixed(3)} s, `
            + `merge ${t.mergeSeconds.toFixed(3)} s, end of pass ${t.endSeconds.toFixed(3)} s\n`);
        },
      }),
    },
  };
  return await untilInterrupted(fitOnNats(input, clusterOptions), () => {
    process.stderr.write('nmflow: interrupted; the fit\'s state stays on NATS: the same command resumes it\n');
  });
}

interface WorkerFlags { nats: string; threads?: number; quiet?: boolean }

export function addWorkerCommand(program: Command): void {
  program.command('worker')
    .description('solve units of fits coordinated through NATS JetStream (`nmflow fit … --nats URL`) until stopped (SIGTERM / SIGINT)')
    .requiredOption('--nats <URL>', 'NATS server URL(s), comma-separated')
    .option('--threads <N>', 'worker processes to run (each one unit at a time)', parseInteger('--threads'))
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', `
Examples:
  nmflow worker --nats nats://10.0.0.5:4222
  nmflow worker --nats nats://a:4222,nats://b:4222,nats://c:4222 --threads 4`)
    .action(async (flags: WorkerFlags) => { await worker(flags); });
}

async function worker(flags: WorkerFlags): Promise<void> {
  const controller = new AbortController();
  const children: ChildProcess[] = [];
  // --threads N: N − 1 more worker processes (a unit's solve is synchronous: processes give the parallelism)
  for (let t = 1; t < (flags.threads ?? 1); t++) {
    children.push(spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'worker', '--nats', flags.nats, ...(flags.quiet ? ['--quiet'] : [])], { stdio: 'inherit' }));
  }
  const stop = (signal: NodeJS.Signals): void => {
    controller.abort();
    for (const child of children) if (child.exitCode === null) child.kill(signal);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    await runWorker({
      servers: flags.nats, signal: controller.signal,
      ...(flags.quiet ? {} : { log: (line: string) => { process.stderr.write(`${line}\n`); } }),
    });
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  }
}
