// 07 — A Node stream as a live source, with features that appear as it goes. A gzip'd text feed of
// "species,site,abundance" lines (made here from the bundled hawaiibirds matrix: one line per nonzero,
// site by site) is read with node:stream + readline, cut into Arrow record batches by an async
// generator, and fitted online. Nobody declares the species up front: with unknownFeatures 'extend'
// each new species id becomes a new row of W (starting at 0), and every snapshot names its rows.
// Run: npx tsx examples/07-node-stream.ts
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { fitOnline, fromArrow } from '../src/index.js';

const mtx = new URL('./data/hawaiibirds.mtx.gz', import.meta.url);

/** The feed: the .mtx entries as CSV text lines (a stand-in for a log, a socket or an HTTP body). */
async function* csvLines(): AsyncGenerator<string> {
  let header = true;
  for await (const line of createInterface({ input: createReadStream(mtx).pipe(createGunzip()) })) {
    if (line.startsWith('%')) continue;
    if (header) { header = false; continue; } // the size line
    const [i, j, v] = line.split(' ');
    yield `species-${i},site-${j},${v}\n`;
  }
}
const feed = Readable.from(csvLines()).setEncoding('utf8'); // any Node Readable of text lines will do

/** The adapter: lines → record batches of `size` rows (long layout: feature, sample, value). */
async function* batches(lines: AsyncIterable<string>, size = 4000): AsyncGenerator<RecordBatch> {
  let feature: string[] = [], sample: string[] = [], value: number[] = [];
  const flush = () => {
    const batch = tableFromArrays({ feature, sample, value: Float64Array.from(value) }).batches[0]!;
    feature = []; sample = []; value = [];
    return batch;
  };
  for await (const line of createInterface({ input: lines as Readable })) {
    const [f, s, v] = line.split(',');
    feature.push(f!); sample.push(s!); value.push(Number(v));
    if (feature.length === size) yield flush();
  }
  if (feature.length > 0) yield flush();
}

const source = fromArrow(batches(feed), { layout: 'long', unknownFeatures: 'extend', chunkSize: 128, name: 'bird feed' });
console.log('chunk  sites  species so far  loss (running)  top species of the largest factor');
fitOnline(source, { rank: 6, seed: 1, window: 2, sweeps: 2, emitEvery: 2 }).subscribe({
  next: (s) => {
    const a = s.d.indexOf(Math.max(...s.d));
    const top = Array.from({ length: s.features }, (_, i) => i).sort((x, y) => s.W[y * 6 + a]! - s.W[x * 6 + a]!).slice(0, 3);
    const names = top.map((i) => s.featureNames?.[i] ?? `#${i}`).join(' ');
    console.log(`${String(s.iteration).padStart(5)}  ${String(s.samplesSeen).padStart(5)}  ${String(s.features).padStart(14)}  `
      + `${s.relativeLoss.toFixed(4).padStart(14)}  ${names}${s.final ? '   (final)' : ''}`);
  },
  error: (error: unknown) => { console.error(String(error)); process.exitCode = 1; },
});
