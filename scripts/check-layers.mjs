// Enforces who may import whom (docs/architecture.md): kernel/ imports only kernel/; chunk/, model/, kernel/
// and snapshot/ never import RxJS; only source/, pipeline/, cli/ (and index.ts) know Observables.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..', 'src');
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) files.push(p);
  }
})(root);

const rxAllowed = new Set(['source', 'pipeline', 'cli', '.']);
const problems = [];
for (const file of files) {
  const layer = relative(root, file).split('/').length > 1 ? relative(root, file).split('/')[0] : '.';
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
    const spec = match[1];
    if (spec === 'rxjs' || spec.startsWith('rxjs/')) {
      if (!rxAllowed.has(layer)) problems.push(`${relative(root, file)}: ${layer}/ must not import RxJS`);
    }
    if (layer === 'kernel') {
      if (!spec.startsWith('./')) problems.push(`${relative(root, file)}: kernel/ may import only kernel/ (found '${spec}')`);
    }
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`layers ok (${files.length} files)`);
