// The CommonJS build (issue #16): dist/index.cjs, dist/report/index.cjs and dist/cluster/index.cjs, for `require('nmflow')` on Node 20,
// which cannot require ES modules. esbuild bundles src/ into one file per entry; packages stay `require`s,
// except the ES-only ones the library imports statically (hyparquet), which are bundled in. Packages the library
// loads when first needed (parquet-wasm, hyparquet-compressors, vega, vega-lite) stay dynamic `import()`s, which
// CommonJS has. `import.meta.url` becomes the URL of the file's ES twin in dist/ (tsc's output): worker threads
// and the Parquet decoder thread start from those files, as in the ES build.
import { build } from 'esbuild';
import { dirname, join, relative, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const src = join(root, 'src');
const BUNDLED = new Set(['hyparquet']);

const importMetaUrl = (outDir) => ({
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/src\/.*\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const twin = relative(outDir, join(root, 'dist', relative(src, args.path))).replace(/\.ts$/, '.js');
      const url = `require('node:url').pathToFileURL(require('node:path').join(__dirname, ${JSON.stringify(twin)})).href`;
      return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
});

const external = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      return BUNDLED.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

for (const [entry, out] of [['src/index.ts', 'dist/index.cjs'], ['src/report/index.ts', 'dist/report/index.cjs'], ['src/cluster/index.ts', 'dist/cluster/index.cjs']]) {
  const outfile = join(root, out);
  await build({
    entryPoints: [join(root, entry)], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20',
    plugins: [external, importMetaUrl(dirname(outfile))], logLevel: 'warning', legalComments: 'none',
    sourcemap: false,
  });
}
