/**
 * Issue #16: the README's API block compiles — strict TypeScript, ESM, `nmflow` resolved to this package's
 * sources — with declarations for the placeholders it leaves to the reader (a chunk, a live stream, a logger,
 * record batches and a writer).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../', import.meta.url).pathname;
const DIR = `${ROOT}node_modules/.cache/nmflow-readme-${process.pid}/`;
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** The first ```ts block after "## API". */
function apiBlock(): string {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const api = readme.slice(readme.indexOf('\n## API'));
  const match = /```ts\n([\s\S]*?)```/.exec(api);
  if (!match) throw new Error('README has no ```ts block under ## API');
  return match[1]!;
}

const PLACEHOLDERS = `
import type { Observable } from 'rxjs';
import type { RecordBatch } from 'apache-arrow';
import type { CscChunk, Snapshot } from 'nmflow';
declare const someChunk: CscChunk;
declare const liveChunks$: Observable<CscChunk>;
declare const log: (snapshot: Snapshot) => void;
declare const batches$: Observable<RecordBatch>;
declare const writer: { write(batch: RecordBatch): void };
`;

describe('README', () => {
  it('the API block type-checks under strict ESM settings', () => {
    const block = apiBlock();
    expect(block).toContain("from 'nmflow'");
    mkdirSync(DIR, { recursive: true });
    const file = `${DIR}api.ts`;
    // the block's imports, then the placeholders' declarations, then the rest of the block
    const lines = block.split('\n');
    const imports = lines.filter((l) => l.startsWith('import '));
    const body = lines.filter((l) => !l.startsWith('import '));
    writeFileSync(file, [...imports, PLACEHOLDERS, ...body, 'export {};'].join('\n'));
    const program = ts.createProgram([file], {
      strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
      skipLibCheck: true, baseUrl: ROOT, paths: { nmflow: ['src/index.ts'] }, types: ['node'],
    });
    const messages = ts.getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file || d.file === undefined)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(messages).toEqual([]);
  });
});
