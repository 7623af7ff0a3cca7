// Enforces who may import whom (docs/architecture.md). Every folder of src/ (a layer; a file at the top is its
// own layer) may import only the layers listed for it below: a new kind of dependency is a decision, made
// here, not an accident. Besides: kernel/ imports only kernel/ (pure math); chunk/, model/, kernel/ and
// snapshot/ never import RxJS — only source/, pipeline/, cli/ (and index.ts) know Observables.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

const ALLOWED = {
  errors: [],
  'memory-limit': ['errors'],
  kernel: [],
  chunk: ['errors', 'memory-limit'],
  snapshot: ['chunk', 'options'],
  options: ['errors', 'kernel', 'memory-limit', 'snapshot'],
  // model/families.ts wires each family to its runners (parallel/) and files (io/): the one place model/ meets them
  model: ['chunk', 'errors', 'io', 'kernel', 'options', 'parallel', 'snapshot'],
  parallel: ['chunk', 'errors', 'kernel', 'model', 'options'],
  source: ['chunk', 'errors', 'io', 'memory-limit', 'options'],
  io: ['chunk', 'errors', 'format', 'model', 'options', 'snapshot', 'source'],
  format: ['chunk', 'errors', 'io', 'memory-limit', 'source'],
  pipeline: ['chunk', 'errors', 'io', 'kernel', 'memory-limit', 'model', 'options', 'parallel', 'snapshot', 'source'],
  // cluster/: NATS JetStream scale-out (issue #14): a runner of the same passes, so it sees what pipeline/ sees
  cluster: ['chunk', 'errors', 'format', 'io', 'kernel', 'memory-limit', 'model', 'options', 'parallel', 'pipeline', 'snapshot', 'source'],
  diagnostics: ['errors', 'kernel', 'model', 'source'],
  report: ['diagnostics', 'io', 'snapshot', 'source'],
  cli: ['chunk', 'cluster', 'diagnostics', 'errors', 'format', 'io', 'memory-limit', 'model', 'options', 'parallel', 'pipeline', 'report', 'snapshot', 'source'],
  index: ['chunk', 'cluster', 'diagnostics', 'errors', 'format', 'io', 'kernel', 'memory-limit', 'model', 'options', 'pipeline', 'report', 'snapshot', 'source'],
};
const RX_ALLOWED = new Set(['source', 'pipeline', 'cluster', 'cli', 'index']);

const root = resolve(dirname(new URL(import.meta.url).pathname), '..', 'src');
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) files.push(p);
  }
})(root);

const layerOf = (path) => {
  const parts = relative(root, path).split('/');
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.(ts|js)$/, '');
};
const problems = [];
for (const file of files) {
  const layer = layerOf(file);
  const where = relative(root, file);
  if (!(layer in ALLOWED)) problems.push(`${where}: the layer "${layer}" is not in scripts/check-layers.mjs (say what it may import)`);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g)) {
    const spec = match[1] ?? match[2];
    if (spec === 'rxjs' || spec.startsWith('rxjs/')) {
      if (!RX_ALLOWED.has(layer)) problems.push(`${where}: ${layer}/ must not import RxJS`);
      continue;
    }
    if (!spec.startsWith('.')) {
      if (layer === 'kernel') problems.push(`${where}: kernel/ may import only kernel/ (found '${spec}')`);
      continue;
    }
    const target = layerOf(resolve(dirname(file), spec));
    if (target !== layer && !(ALLOWED[layer] ?? []).includes(target)) {
      problems.push(`${where}: ${layer} may not import ${target} ('${spec}'; allowed: ${(ALLOWED[layer] ?? []).join(', ') || 'nothing outside itself'})`);
    }
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`layers ok (${files.length} files, ${Object.keys(ALLOWED).length} layers)`);
