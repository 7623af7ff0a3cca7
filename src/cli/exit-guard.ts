/**
 * Makes sure the CLI process ends. Commands stop cleanly on SIGINT / SIGTERM (interrupt.ts): they
 * unsubscribe, close files and remove temporaries, and `main` returns 130. But a read that never completes
 * (a FIFO nobody writes, a hung network file system) or a library looping on a damaged file keeps Node's
 * event loop alive after that, and the process would print "stopped cleanly" and go on running. So:
 *  - once `main` has returned, the process exits with its code within `GRACE_MS` whatever is still pending;
 *  - after a first signal, if the process has not ended within `SIGNAL_MS`, it exits with 130 and says so;
 *  - a second signal exits at once with 130.
 * The timers are unref'd: they never keep a process alive that would otherwise end. (A synchronous loop
 * blocks them too: the readers bound their work on damaged input so that none can loop — see
 * source/arrow-ipc-check.ts.)
 */
const GRACE_MS = 2000;
const SIGNAL_MS = 5000;

export function guardExit(): { finished(code: number): void } {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`nmflow: ${signal} again: exiting now\n`);
      process.exit(130);
    }
    setTimeout(() => {
      process.stderr.write(`nmflow: still running ${SIGNAL_MS / 1000} s after ${signal}: exiting\n`);
      process.exit(130);
    }, SIGNAL_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    finished: (code) => {
      setTimeout(() => process.exit(code), GRACE_MS).unref();
    },
  };
}
