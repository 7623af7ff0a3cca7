/**
 * Runs an Observable to its last value, stopping cleanly on SIGINT/SIGTERM: the subscription is
 * unsubscribed (sources close their files, temporary directories are removed by their teardown),
 * `onInterrupt` reports, and the promise rejects with an Interrupted error (exit code 130). Loops that
 * check between steps (convert, project) use `untilSignal`; both listen through `listenForInterrupt`.
 */
import type { Observable } from 'rxjs';
import { NmfError } from '../errors.js';

export class Interrupted extends NmfError {
  constructor(signal: string) {
    super('IO', `interrupted by ${signal}`);
    this.name = 'Interrupted';
  }
}

export async function untilInterrupted<T>(source$: Observable<T>, onInterrupt: () => void): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    let last: { value: T } | undefined;
    // Everything is set up before subscribing: a synchronous source may complete inside subscribe().
    let subscription: { unsubscribe(): void } | undefined;
    let settled = false;
    const cleanup = (): void => {
      settled = true;
      stopListening();
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      subscription?.unsubscribe();
      cleanup();
      onInterrupt();
      reject(new Interrupted(signal));
    };
    const stopListening = listenForInterrupt(onSignal);
    const running = source$.subscribe({
      next: (value) => { last = { value }; },
      error: (error: unknown) => { cleanup(); reject(error); },
      complete: () => {
        cleanup();
        if (last) resolve(last.value);
        else reject(new NmfError('EMPTY_INPUT', 'the fit produced no result'));
      },
    });
    if (settled) running.unsubscribe();
    else subscription = running;
  });
}

/**
 * Runs `body` with `stopped()`, which names the SIGINT / SIGTERM received (the loop checks it between batches
 * and throws Interrupted; the caller removes what it was writing).
 */
export async function untilSignal<T>(body: (stopped: () => string | undefined) => Promise<T>): Promise<T> {
  let signal: string | undefined;
  const stopListening = listenForInterrupt((s) => { signal = s; });
  try {
    const result = await body(() => signal);
    if (signal) throw new Interrupted(signal);
    return result;
  } finally {
    stopListening();
  }
}

/** Calls `onSignal` on every SIGINT and SIGTERM until the returned function is called (it removes both listeners). */
function listenForInterrupt(onSignal: (signal: NodeJS.Signals) => void): () => void {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
