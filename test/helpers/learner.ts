/**
 * A learner process for the JetStream tests: fitOnline on fromJetStream with a checkpoint after every chunk,
 * the final model written to `out`. Arguments: one JSON object (url, stream, subject, durable, checkpoint,
 * resume, endSequence, out, rank). Prints "chunk <iteration>" after each snapshot, so a test can kill it mid-stream.
 */
import { lastValueFrom, tap } from 'rxjs';
import { fitOnline, fromJetStream, writeModel } from '../../src/index.js';

const args = JSON.parse(process.argv[2]!) as {
  url: string; stream: string; subject: string; durable: string; checkpoint: string; resume: boolean; endSequence: number; out: string; rank: number;
};
const source = fromJetStream({ servers: args.url, stream: args.stream, subject: args.subject, durable: args.durable, endSequence: args.endSequence, pullMs: 1000 });
const final = await lastValueFrom(fitOnline(source, {
  rank: args.rank, seed: 1, checkpoint: { dir: args.checkpoint, every: 1 }, ...(args.resume ? { resumeFrom: args.checkpoint } : {}),
}).pipe(tap((s) => { process.stdout.write(`chunk ${s.iteration}\n`); })));
await writeModel(args.out, final);
process.stdout.write('done\n');
