#!/usr/bin/env node
// nmflow command-line tool: runs the compiled CLI (built by `npm run build`, which `npm ci` runs
// through the `prepare` script).
import '../dist/cli/run.js';
