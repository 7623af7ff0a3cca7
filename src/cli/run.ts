/** Process entry point of the CLI (bin/nmflow.js imports the compiled form of this file). */
import { guardExit } from './exit-guard.js';
import { main } from './main.js';

// A closed pipe (`nmflow … | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const guard = guardExit();
process.exitCode = await main(process.argv.slice(2));
guard.finished(process.exitCode);
