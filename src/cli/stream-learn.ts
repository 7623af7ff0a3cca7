/**
 * `nmflow stream learn --nats URL --stream S --subject IN --durable D --rank K [--publish-bucket B] …`: an online
 * learner on a JetStream subject (fitOnline on fromJetStream) that publishes a snapshot of its model to a KV bucket
 * every --publish-every chunks and at the end (publishSnapshots), where `project --from-jetstream` workers pick it
 * up. With --checkpoint it can be killed at any moment and restarted with --resume: it continues at the last
 * sequence of its checkpoint + 1, to the bytes of an uninterrupted run. Runs until --end-sequence or, with
 * --to-end, until it has read every message there was; SIGINT/SIGTERM stop it cleanly (exit 130).
 */
import type { Command } from 'commander';
import { EMPTY, identity } from 'rxjs';
import { OptionError } from '../errors.js';
import { writeModel, modelFormatOf } from '../io/model-file.js';
import { fitOnline, type OnlineOptions } from '../pipeline/fit-online.js';
import { untilInterrupted } from './interrupt.js';
import { addTableFlags, parseInteger } from './parse-flags.js';

interface LearnFlags {
  nats: string; stream: string; subject: string; durable: string; rank: number; loss?: 'l2' | 'l1'; lambda?: number; seed?: number;
  solver?: 'exact' | 'fast'; threads?: number; checkpoint?: string; checkpointEvery?: number; resume?: string; forgetting?: number;
  window?: number; sweeps?: number; publishBucket?: string; publishKey?: string; publishEvery?: number; endSequence?: number;
  toEnd?: boolean; out?: string; json?: boolean; quiet?: boolean;
}

export function addLearnCommand(stream: Command, print: (line: string) => void): void {
  const learn = stream.command('learn')
    .description('an online learner on a JetStream subject: fitOnline, snapshots published to a KV bucket, checkpoints resumed by sequence')
    .requiredOption('--nats <url>', 'NATS server URL(s), comma-separated')
    .requiredOption('--stream <name>', 'the input stream')
    .requiredOption('--subject <subject>', 'the input subject')
    .requiredOption('--durable <name>', "the learner's durable consumer")
    .option('--publish-bucket <name>', 'publish snapshots of the model to this KV bucket (created when missing)')
    .option('--publish-key <key>', 'the key of the model in the bucket (default "model")')
    .option('--publish-every <n>', 'publish every n chunks, and at the end (default 1)', parseInteger('--publish-every'))
    .option('--end-sequence <n>', 'stop after the message with this sequence', parseInteger('--end-sequence'))
    .option('--to-end', 'stop once every message in the stream has been read')
    .option('--out <model>', 'write the final model to this file')
    .option('--json', 'print one JSON line per published revision and a summary line')
    .option('-q, --quiet', 'print nothing but errors');
  addTableFlags(learn, 'fitOnline', ['rank', 'loss', 'lambda', 'seed', 'solver', 'threads', 'checkpoint.dir', 'checkpoint.every', 'resumeFrom', 'forgetting', 'window', 'sweeps']);
  learn.action(async (flags: LearnFlags) => { await runLearn(flags, print); });
}

async function runLearn(flags: LearnFlags, print: (line: string) => void): Promise<void> {
  if (flags.out) modelFormatOf(flags.out);
  if (flags.checkpointEvery !== undefined && flags.checkpoint === undefined) throw new OptionError('--checkpoint-every', '--checkpoint as well', flags.checkpointEvery);
  if ((flags.publishKey !== undefined || flags.publishEvery !== undefined) && flags.publishBucket === undefined) {
    throw new OptionError('--publish-key/--publish-every', '--publish-bucket as well', flags.publishKey ?? flags.publishEvery);
  }
  const options: OnlineOptions = {
    rank: flags.rank, ...(flags.loss ? { loss: flags.loss } : {}), ...(flags.lambda === undefined ? {} : { lambda: flags.lambda }),
    ...(flags.seed === undefined ? {} : { seed: flags.seed }), ...(flags.solver ? { solver: flags.solver } : {}),
    ...(flags.threads === undefined ? {} : { threads: flags.threads }), ...(flags.forgetting === undefined ? {} : { forgetting: flags.forgetting }),
    ...(flags.window === undefined ? {} : { window: flags.window }), ...(flags.sweeps === undefined ? {} : { sweeps: flags.sweeps }),
    ...(flags.checkpoint === undefined ? {} : { checkpoint: { dir: flags.checkpoint, ...(flags.checkpointEvery === undefined ? {} : { every: flags.checkpointEvery }) } }),
    ...(flags.resume === undefined ? {} : { resumeFrom: flags.resume }),
  };
  fitOnline(EMPTY, options); // bad options are usage errors, before connecting
  const { fromJetStream } = await import('../cluster/jetstream-source.js'); // NATS loads when first needed
  const { publishSnapshots } = await import('../cluster/model-kv.js');
  const source = fromJetStream({
    servers: flags.nats, stream: flags.stream, subject: flags.subject, durable: flags.durable,
    ...(flags.endSequence === undefined ? {} : { endSequence: flags.endSequence }), ...(flags.toEnd ? { toEnd: true } : {}),
  });
  const say = (line: string, json: Record<string, unknown>): void => { if (flags.json) print(JSON.stringify(json)); else if (!flags.quiet) print(line); };
  const publish = flags.publishBucket === undefined ? identity : publishSnapshots({
    servers: flags.nats, bucket: flags.publishBucket, ...(flags.publishKey ? { key: flags.publishKey } : {}),
    ...(flags.publishEvery === undefined ? {} : { every: flags.publishEvery }),
    onPublished: (revision, s) => say(`revision ${revision}: after ${s.iteration} chunks${s.final ? ' (final)' : ''}, relative loss ${s.relativeLoss.toPrecision(6)}`,
      { revision, iteration: s.iteration, final: s.final, relativeLoss: s.relativeLoss }),
  });
  const model = await untilInterrupted(fitOnline(source, options).pipe(publish), () => undefined);
  if (flags.out) await writeModel(flags.out, model);
  say(`learned ${model.iteration} chunks (${model.samples} samples), relative loss ${model.relativeLoss.toPrecision(6)}${flags.out ? ` → ${flags.out}` : ''}`,
    { done: true, chunks: model.iteration, samples: model.samples, relativeLoss: model.relativeLoss, ...(flags.out ? { out: flags.out } : {}) });
}
