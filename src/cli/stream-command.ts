/**
 * `nmflow stream publish FILE --nats URL --subject S [--stream NAME] [--batch-size N] [--out-layout list|long|wide]`:
 * loads a matrix file (any input `fit` reads, with the layout flags) into a JetStream subject, for demos and tests:
 * every N samples become one message, an Arrow IPC stream of one record batch in the output layout (default list;
 * long with the message's own sample ids 0…; schema metadata nmflow.features), published with msgID
 * `<file name>:<N>:<batch index>`, so that a re-run adds nothing (the stream's duplicate window). The stream is
 * created when no stream captures the subject, and the command says so. Prints one summary line (or --json).
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { makeCscChunk } from '../chunk/csc-chunk.js';
import { OptionError } from '../errors.js';
import { formatsFor, formatToRead } from '../format/registry.js';
import type { OutLayout } from '../format/chunk-batches.js';
import { openChunks } from './convert-command.js';
import { addInputFlags, type InputFlags } from './open-input.js';
import { parseInteger } from './parse-flags.js';
import { addLearnCommand } from './stream-learn.js';

interface PublishFlags extends InputFlags { nats: string; subject: string; stream?: string; batchSize?: number; outLayout?: string; json?: boolean; quiet?: boolean }

export function addStreamCommand(program: Command, print: (line: string) => void): void {
  const stream = program.command('stream').description('JetStream streams for live fits and projection workers (issue #14)');
  const publish = stream.command('publish')
    .description('publish a matrix file into a JetStream subject, N samples per message (Arrow IPC), de-duplicated by msgID')
    .argument('<file>', formatsFor('matrix'))
    .requiredOption('--nats <url>', 'NATS server URL(s), comma-separated (nats://127.0.0.1:4222)')
    .requiredOption('--subject <subject>', 'the subject to publish to')
    .option('--stream <name>', 'the stream to create when no stream captures the subject (default: the subject in capitals)')
    .option('--batch-size <n>', 'samples per message (default 256)', parseInteger('--batch-size'))
    .option('--out-layout <layout>', "layout of the messages' record batches: 'list' (default), 'long' or 'wide'")
    .option('--json', 'print one JSON line: stream, created, messages, duplicates, first, last, samples')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', `
Examples:
  nmflow stream publish examples/data/hawaiibirds.mtx.gz --nats nats://127.0.0.1:4222 --subject birds.in --batch-size 200
  nmflow stream publish counts.parquet --layout long --feature gene --sample cell --value umi --nats $NATS --subject cells.in`)
    .action(async (file: string, flags: PublishFlags) => { await runPublish(file, flags, print); });
  addInputFlags(publish);
  addLearnCommand(stream, print);
}

async function runPublish(file: string, flags: PublishFlags, print: (line: string) => void): Promise<void> {
  const batchSize = flags.batchSize ?? 256;
  if (batchSize < 1) throw new OptionError('--batch-size', 'an integer ≥ 1', batchSize);
  const layout = (flags.outLayout ?? 'list') as OutLayout;
  if (!['list', 'long', 'wide'].includes(layout)) throw new OptionError('--out-layout', "'list', 'long' or 'wide'", flags.outLayout);
  const { chunkMessage, openPublisher } = await import('../cluster/stream-publish.js'); // NATS loads when first needed
  const { m, featureNames, chunks } = await openChunks(file, formatToRead(file, 'matrix'), flags, batchSize);
  const publisher = await openPublisher({ servers: flags.nats, subject: flags.subject, ...(flags.stream ? { stream: flags.stream } : {}) });
  if (publisher.created && !flags.quiet && !flags.json) print(`created stream ${publisher.stream} for subject ${flags.subject}`);
  let messages = 0, duplicates = 0, samples = 0, first = 0, last = 0;
  try {
    for await (const chunk of chunks) {
      // The message's samples are its own: sample ids (long layout) start at 0 in each message.
      const bytes = chunkMessage(makeCscChunk({ ...chunk, m }), layout, featureNames);
      const ack = await publisher.publish(bytes, `${basename(file)}:${batchSize}:${messages}`);
      if (ack.duplicate) duplicates += 1;
      first ||= ack.seq;
      last = ack.seq;
      messages += 1;
      samples += chunk.n;
    }
  } finally {
    await publisher.close();
  }
  if (flags.json) print(JSON.stringify({ stream: publisher.stream, created: publisher.created, subject: flags.subject, messages, duplicates, first, last, samples }));
  else if (!flags.quiet) print(`published ${messages} messages (${samples} samples, ${duplicates} already there) to ${flags.subject} in stream ${publisher.stream}, sequences ${first}…${last}`);
}
