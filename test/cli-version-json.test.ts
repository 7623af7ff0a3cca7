/**
 * Issue #16 (CLI): `--version` prints package.json's version; under `--json` an error is one JSON line on
 * stderr ({"error": {code, message, location?, option?}}) for the program reading the output, with the
 * same exit codes (1 data, 2 usage).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nmflow } from './helpers/cli.js';
import { SHARED_DATA } from './helpers/load-mtx-sync.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('CLI --version and JSON errors', () => {
  it('--version and -V print the version', async () => {
    for (const flag of ['--version', '-V']) {
      const run = await nmflow(flag);
      expect(run.code).toBe(0);
      expect(run.stdout.trim()).toBe(version);
    }
  });

  it('with --json a data error, a bad option and an unknown flag are one JSON line each', async () => {
    const missing = await nmflow('fit', '/no/such/file.mtx', '--rank', '2', '--json');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(JSON.parse(missing.stderr)).toEqual({ error: { code: 'IO', message: expect.stringContaining('/no/such/file.mtx'), location: { source: '/no/such/file.mtx' } } });
    const option = await nmflow('fit', `${SHARED_DATA}hawaiibirds.mtx`, '--rank', '0', '--json');
    expect(option.code).toBe(2);
    expect(JSON.parse(option.stderr)).toMatchObject({ error: { code: 'INVALID_OPTION', option: 'rank' } });
    const flag = await nmflow('fit', `${SHARED_DATA}hawaiibirds.mtx`, '--rank', '2', '--json', '--bogus');
    expect(flag.code).toBe(2);
    expect(JSON.parse(flag.stderr)).toEqual({ error: { code: 'INVALID_OPTION', message: "unknown option '--bogus'" } });
    const text = await nmflow('fit', '/no/such/file.mtx', '--rank', '2');
    expect(text.stderr).toMatch(/^nmflow: cannot read \/no\/such\/file\.mtx/);
  });
});
