/**
 * An AsyncIterator as a cold Observable that reads only on demand: `next()` is called once at the
 * start and then again only after the previous value has been delivered, i.e. after the subscriber's
 * `next` handler has returned. With a consumer that is synchronous per value (the fit engine is), at
 * most one value is being read at any time and none is read ahead of the consumer. RxJS's
 * `from(asyncIterable)` gives no such bound once an operator downstream goes asynchronous.
 *
 * Each subscription calls `open()` and gets its own iterator. Unsubscribing (or an error downstream)
 * calls `iterator.return()` at once, even while a `next()` is pending: iterators made by the sources
 * close their file handle there; a value that arrives afterwards is dropped. A rejected `next()` (or a
 * throwing `open`) goes to the error channel as it is.
 */
import { Observable } from 'rxjs';

export function pullBatches<T>(open: () => AsyncIterator<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    let iterator: AsyncIterator<T>;
    try {
      iterator = open();
    } catch (err) {
      subscriber.error(err);
      return undefined;
    }
    let finished = false;
    const pull = (): void => {
      let pending: Promise<IteratorResult<T>>;
      try {
        pending = iterator.next();
      } catch (err) {
        subscriber.error(err);
        return;
      }
      pending.then(
        (result) => {
          if (subscriber.closed) return;
          if (result.done) {
            finished = true;
            subscriber.complete();
            return;
          }
          subscriber.next(result.value);
          if (!subscriber.closed) pull();
        },
        (err: unknown) => {
          if (!subscriber.closed) subscriber.error(err);
        },
      );
    };
    pull();
    return () => {
      if (finished) return;
      finished = true;
      // Fire and forget: the source closes its handle synchronously inside return() and settles later.
      try {
        iterator.return?.()?.then(undefined, () => undefined);
      } catch {
        // A broken return() must not break unsubscribe.
      }
    };
  });
}
