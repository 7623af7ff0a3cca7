/**
 * fromJetStream({ servers, stream, subject, durable }): a live source on a JetStream stream, for `fitOnline`. Each
 * message is an Arrow IPC stream of record batches in any layout the file sources take (default 'list', what
 * `nmflow stream publish` writes) and becomes one chunk (message-chunk.ts) carrying the message's sequence.
 *
 * Reading: a durable pull consumer (explicit acks, filtered on the subject; created if missing, jetstream-common.ts).
 * A message is acknowledged once the learner has consumed its chunk (fitOnline steps synchronously in `next`, and
 * writes its checkpoints there). Resuming: fitOnline's checkpoint holds the sequences of the last chunks (its window)
 * and calls `chunksFrom`, which re-creates the durable at the first of them — exact even when the durable's ack
 * state is behind: the window is replayed to refill it, then the learner continues at the last sequence + 1.
 * The source completes at `endSequence` (after the message with that sequence or a later one), or with `toEnd`
 * once it has read every message there was (pending 0); otherwise it waits for messages for ever (a live stream).
 * Nothing hangs on a lost server: `maxFailures` consecutive failed pulls are a ClusterError.
 */
import { Observable } from 'rxjs';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { CscChunk } from '../chunk/csc-chunk.js';
import { OptionError } from '../errors.js';
import { resolveLayout, type SourceOptions } from '../source/layout.js';
import type { LogPosition, LogSource } from '../source/matrix-source.js';
import { connectCluster, type ClusterOptions } from './connect.js';
import { clusterFailure, ensureDurable, requireStream } from './jetstream-common.js';
import { messageChunk } from './message-chunk.js';

export type JetStreamSourceOptions = Partial<SourceOptions> & Pick<ClusterOptions, 'servers' | 'attempts' | 'timeoutMs'> & {
  /** The stream (it must exist: a ClusterError names it otherwise). */
  readonly stream: string;
  /** The subject read (the consumer's filter). */
  readonly subject: string;
  /** The durable consumer's name: the learner's place in the stream. */
  readonly durable: string;
  /** Complete once every message there was has been read (default false: wait for more). */
  readonly toEnd?: boolean;
  /** Complete after the message with this sequence (or a later one). */
  readonly endSequence?: number;
  /** Redelivery after this many ms without an ack (default 30 000). */
  readonly ackWaitMs?: number;
  /** Each pull waits this long for a message (default 2000 ms, at least 1000). */
  readonly pullMs?: number;
  /** Consecutive failed pulls (a lost server) before a ClusterError (default 15). */
  readonly maxFailures?: number;
};

/** A LogSource on the stream (see the header). */
export function fromJetStream(options: JetStreamSourceOptions): LogSource {
  for (const key of ['stream', 'subject', 'durable'] as const) {
    if (typeof options[key] !== 'string' || options[key].length === 0) throw new OptionError(key, 'a non-empty name', options[key]);
  }
  if (options.endSequence !== undefined && !(Number.isSafeInteger(options.endSequence) && options.endSequence >= 1)) {
    throw new OptionError('endSequence', 'an integer ≥ 1', options.endSequence);
  }
  const { servers: _s, attempts: _a, timeoutMs: _t, stream: _st, subject: _su, durable: _d, toEnd: _e, endSequence: _q, ackWaitMs: _w, pullMs: _p, maxFailures: _f, ...rest } = options;
  const layout = { layout: 'list', ...rest } as SourceOptions;
  resolveLayout(layout); // bad layout options throw here, before anything is read
  const name = `JetStream stream ${options.stream}, subject ${options.subject}`;
  return {
    name,
    rereadable: false,
    ...(options.features !== undefined && typeof options.features === 'number' ? { features: options.features } : {}),
    chunks: () => read(options, layout, undefined),
    chunksFrom: (from: LogPosition) => read(options, layout, from),
  };
}

function read(options: JetStreamSourceOptions, layout: SourceOptions, from: LogPosition | undefined): Observable<CscChunk> {
  return new Observable<CscChunk>((subscriber) => {
    let stopped = false;
    let nc: NatsConnection | undefined;
    const run = async (): Promise<void> => {
      nc = await connectCluster({ ...options, name: `nmflow learner ${options.durable}` });
      const { jsm } = await requireStream(nc, options.stream, `publish into it first (nmflow stream publish FILE --stream ${options.stream} --subject ${options.subject}).`);
      await ensureDurable(jsm, {
        stream: options.stream, durable: options.durable, subject: options.subject, role: 'learner',
        ackWaitMs: options.ackWaitMs ?? 30_000, startSequence: from?.sequences[0],
      });
      const consumer = await jetstream(nc).consumers.get(options.stream, options.durable);
      let colStart = from?.colStart ?? 0;
      let position = from?.position ?? 0;
      let failures = 0;
      while (!stopped) {
        let msg;
        try {
          msg = await consumer.next({ expires: Math.max(1000, options.pullMs ?? 2000) });
          failures = 0;
        } catch (error) {
          if (++failures >= (options.maxFailures ?? 15)) throw clusterFailure(`stream ${options.stream}`, `${failures} pulls from the durable ${options.durable} failed`, error);
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        if (stopped) return;
        if (msg === null) {
          if (options.toEnd && (await consumer.info(true)).num_pending === 0) break;
          continue;
        }
        const chunk = await messageChunk(msg.data, layout, { stream: options.stream, subject: msg.subject, sequence: msg.seq }, colStart, position);
        if (stopped) return;
        if (chunk) {
          colStart += chunk.n;
          position += 1;
          subscriber.next(chunk); // the learner consumes it here (and checkpoints): then it is acknowledged
        }
        if (stopped) return;
        msg.ack();
        if ((options.endSequence !== undefined && msg.seq >= options.endSequence) || (options.toEnd && msg.info.pending === 0)) break;
      }
      if (!stopped) subscriber.complete();
    };
    run().catch((error: unknown) => {
      if (!stopped) subscriber.error(clusterFailure(`stream ${options.stream}`, `reading stream ${options.stream}`, error));
    }).finally(() => { void nc?.drain().catch(() => undefined); });
    return () => { stopped = true; };
  });
}
