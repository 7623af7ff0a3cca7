/**
 * `nmflow model publish MODEL --nats URL --bucket NAME [--key NAME]`: puts a model file (as `nmflow fit --out` writes
 * it; verified first) under a key of a JetStream KV bucket (created when missing, 64 revisions kept), where
 * `nmflow project --from-jetstream` workers pick it up between batches. Prints the revision (or --json).
 */
import type { Command } from 'commander';
import { formatsFor } from '../format/registry.js';

interface ModelPublishFlags { nats: string; bucket: string; key?: string; json?: boolean; quiet?: boolean }

export function addModelCommand(program: Command, print: (line: string) => void): void {
  const model = program.command('model').description('models in a JetStream KV bucket, for projection workers (issue #14)');
  model.command('publish')
    .description('put a model file under a key of a KV bucket (a new revision); project workers switch to it between batches')
    .argument('<model>', formatsFor('model'))
    .requiredOption('--nats <url>', 'NATS server URL(s), comma-separated (nats://127.0.0.1:4222)')
    .requiredOption('--bucket <name>', 'the KV bucket (created when missing)')
    .option('--key <name>', 'the key (default "model")')
    .option('--json', 'print one JSON line: bucket, key, revision, bytes')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (path: string, flags: ModelPublishFlags) => {
      const { publishModelFile } = await import('../cluster/model-kv.js'); // NATS loads when first needed
      const done = await publishModelFile(path, { servers: flags.nats, bucket: flags.bucket, ...(flags.key ? { key: flags.key } : {}) });
      if (flags.json) print(JSON.stringify(done));
      else if (!flags.quiet) print(`published ${path} to bucket ${done.bucket}, key ${done.key}: revision ${done.revision} (${done.bytes} bytes)`);
    });
}
