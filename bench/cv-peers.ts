/**
 * bench:cv — cross-validation over ranks, nmflow against RcppML 1.0, on hawaiibirds, pbmc_small and movielens
 * (mask zeros): the mean test loss per rank and the chosen rank (minimum, and the one-standard-error rule applied
 * to both libraries' fits by the same code, pipeline/cv-table.ts), the same test fraction and replicates.
 * Writes bench/results/cv-<date>.json and prints a markdown table (bench/README.md).
 *   npm run bench:cv [-- --lib=/work/main/bench/data/rcppml10-lib] [--replicates=3] [--fraction=0.05]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { filter, lastValueFrom } from 'rxjs';
import { crossValidate, type CvTable } from '../src/pipeline/cross-validate.js';
import { cvTable, type CvFit } from '../src/pipeline/cv-table.js';
import { loadMtx } from '../src/source/from-mtx.js';
import type { TestZeros } from '../src/options.js';

const arg = (name: string, fallback: string): string => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const lib = arg('lib', '/work/main/bench/data/rcppml10-lib');
const replicates = Number(arg('replicates', '3'));
const fraction = Number(arg('fraction', '0.05'));
const maxIterations = 100, tol = 1e-4;

type Treatment = TestZeros | `${TestZeros}+earlyStop`;
interface Case { data: string; from: number; to: number; mask: boolean; treatments: Treatment[] }
const CASES: Case[] = [
  { data: 'hawaiibirds', from: 1, to: 12, mask: false, treatments: ['sampled', 'all', 'sampled+earlyStop'] },
  { data: 'pbmc_small', from: 1, to: 8, mask: false, treatments: ['sampled', 'all', 'sampled+earlyStop'] },
  { data: 'movielens', from: 1, to: 10, mask: true, treatments: ['none', 'none+earlyStop'] },
];

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, q) => from + q);
const summary = (t: CvTable) => ({ bestRank: t.bestRank, minRank: t.minRank, ranks: t.ranks, testLoss: t.testLoss, testLossSe: t.testLossSe, trainLoss: t.trainLoss });

const results: Record<string, unknown>[] = [];
const load = [loadavg()];
for (const c of CASES) {
  const file = `../shared/data/${c.data}.mtx`;
  const source = await loadMtx(file);
  const ranks = range(c.from, c.to);
  const ours: Record<string, unknown> = {};
  for (const treatment of c.treatments) {
    const started = performance.now();
    const [testZeros, early] = treatment.split('+') as [TestZeros, string | undefined];
    const table = await lastValueFrom(crossValidate(source, {
      ranks, replicates, testFraction: fraction, maxIterations, tol, testZeros, earlyStop: early !== undefined, ...(c.mask ? { mask: 'zeros' as const } : {}),
    }).pipe(filter((e): e is CvTable => e.kind === 'table')));
    ours[treatment] = { ...summary(table), seconds: (performance.now() - started) / 1000 };
    console.error(`${c.data} nmflow ${treatment}: bestRank ${table.bestRank}, minRank ${table.minRank}`);
  }
  const rArgs = ['bench/rcppml_cv.R', file, `${c.from}:${c.to}`, String(replicates), String(fraction), c.mask ? 'zeros' : 'none', String(maxIterations), String(tol), `--lib=${lib}`];
  const peer = JSON.parse(execFileSync('Rscript', rArgs, { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } }).trim().split('\n').at(-1)!) as
    { version: string; seconds: number; fits: Omit<CvFit, 'kind' | 'seconds'>[] };
  const peerTable = cvTable(peer.fits.map((f) => ({ ...f, kind: 'fit', seconds: 0 })), ranks, replicates, fraction);
  console.error(`${c.data} RcppML ${peer.version}: bestRank ${peerTable.bestRank}, minRank ${peerTable.minRank}`);
  results.push({ data: c.data, mask: c.mask ? 'zeros' : 'none', nmflow: ours, rcppml: { version: peer.version, seconds: peer.seconds, ...summary(peerTable) }, command: `Rscript ${rArgs.join(' ')}` });
  load.push(loadavg());
}

const date = new Date().toISOString().slice(0, 10);
mkdirSync('bench/results', { recursive: true });
const out = `bench/results/cv-${date}.json`;
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), replicates, testFraction: fraction, maxIterations, tol, loadAverages: load, results }, null, 1));

// The markdown table: per data set and rank, the mean test loss of each.
for (const r of results) {
  const ours = r.nmflow as Record<string, ReturnType<typeof summary>>, peer = r.rcppml as ReturnType<typeof summary>;
  const cols = Object.keys(ours);
  console.log(`\n**${r.data as string}** (mask ${r.mask as string}; test fraction ${fraction}, ${replicates} replicates)\n`);
  console.log(`| rank | ${cols.map((c) => `nmflow test (${c} zeros)`).join(' | ')} | RcppML 1.0 test |`);
  console.log(`|---|${cols.map(() => '---').join('|')}|---|`);
  peer.ranks.forEach((rank, q) => console.log(`| ${rank} | ${cols.map((c) => ours[c]!.testLoss[q]!.toPrecision(4)).join(' | ')} | ${peer.testLoss[q]!.toPrecision(4)} |`));
  console.log(`| chosen (1-SE / min) | ${cols.map((c) => `${ours[c]!.bestRank} / ${ours[c]!.minRank}`).join(' | ')} | ${peer.bestRank} / ${peer.minRank} |`);
}
console.log(`\nwrote ${out}; load averages ${load.map((l) => l.map((x) => x.toFixed(2)).join(' ')).join(' → ')}`);
