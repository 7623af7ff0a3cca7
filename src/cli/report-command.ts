/**
 * `nmflow report <model...> --out report.html [--data <input>]`: one self-contained HTML report
 * (charts as inline SVG, nothing fetched when opened) of one or several saved models. With several
 * models whose file names carry their penalties (`…l1-0.05…seed-1…`, `…l2-0.1…`, `…none…`), it adds
 * the L1/L2 sweep plots. With --data, relative loss, k-means and rank-1 similarity on that data.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { isCvCurve } from '../report/cv-charts.js';
import type { Command } from 'commander';
import { DataError, OptionError } from '../errors.js';
import { readModel } from '../io/model-file.js';
import type { ReportModel } from '../report/build-report.js';
import { modelTagsFromPath } from '../report/model-tags.js';
import { tagsFromOptions } from '../report/model-details.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { collectMatrix } from './eval-command.js';
import { openInput } from './open-input.js';
import { parseInteger } from './parse-flags.js';

interface ReportFlags {
  out: string;
  data?: string;
  cv?: string;
  title?: string;
  top?: number;
  details?: number;
  kmeansSeed?: number;
  chunkSize?: number;
  json?: boolean;
  quiet?: boolean;
}

export function addReportCommand(program: Command, print: (line: string) => void): void {
  program.command('report')
    .description('write a self-contained HTML report (convergence, d, W heatmap, sparsity, angles; L1/L2 sweep plots for several models)')
    .argument('[model...]', 'model files written by `nmflow fit --out` (.arrow/.parquet keep the convergence trace, .csv does not)')
    .requiredOption('--out <report.html>', 'the HTML file to write (atomically)')
    .option('--cv <cv.json>', 'a cross-validation table (nmflow cv --out): the plot of train/test loss against rank')
    .option('--data <input>', 'the data the models were fitted to: adds loss, k-means and rank-1 similarity')
    .option('--title <text>', 'title of the report')
    .option('--top <N>', 'top features per factor in the W heatmap (default 5)', parseInteger('--top'))
    .option('--details <N>', 'models that get their own charts (default 3)', parseInteger('--details'))
    .option('--kmeans-seed <s>', 'seed of the k-means++ start (default 42)', parseInteger('--kmeans-seed'))
    .option('--chunk-size <N>', 'samples per chunk while reading --data', parseInteger('--chunk-size'))
    .option('--json', 'print one JSON line when done')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', `
The sweep takes each model's penalties and seed from the options its file records; for a file that records none
(written before nmflow recorded them), from its name: l1-<α>, l2-<α>, none, seed-<s> (separators -, _ or =),
e.g. birds-l1-0.01-seed-1.arrow, birds-none-seed-1.arrow.

Examples:
  nmflow fit examples/data/hawaiibirds.mtx.gz --rank 10 --out model.arrow && nmflow report model.arrow --out report.html
  nmflow report sweep/*.arrow --data examples/data/hawaiibirds.mtx.gz --details 1 --out sweep.html`)
    .action(async (paths: string[], flags: ReportFlags) => {
      if (!/\.html?$/i.test(flags.out)) throw new OptionError('--out', 'a path ending in .html', flags.out);
      if (paths.length === 0 && flags.cv === undefined) throw new OptionError('model', 'at least one model file, or --cv', 'none');
      const cv = flags.cv === undefined ? undefined : JSON.parse(await readFile(flags.cv, 'utf8')) as unknown;
      if (flags.cv !== undefined && !isCvCurve(cv)) throw new DataError('MALFORMED_FILE', 'not a table of nmflow cv --out (ranks, trainLoss, testLoss, testLossSe, bestRank, minRank)', { source: flags.cv });
      if (flags.top !== undefined && flags.top < 1) throw new OptionError('--top', 'an integer ≥ 1', flags.top);
      if (flags.details !== undefined && flags.details < 0) throw new OptionError('--details', 'an integer ≥ 0', flags.details);
      const models: ReportModel[] = [];
      for (const path of paths) {
        // the penalties and seed the model records; a model file that records none: what its name says
        const model = await readModel(path);
        models.push({ label: basename(path), model, ...(tagsFromOptions(model.options) ?? modelTagsFromPath(path)) });
      }
      const input = flags.data === undefined ? undefined : await openInput(flags.data, flags.chunkSize === undefined ? {} : { chunkSize: flags.chunkSize });
      const data = input === undefined ? undefined : await collectMatrix(input);
      const misfit = data === undefined ? undefined : models.find((r) => r.model.features !== data.m);
      if (misfit && data) {
        throw new DataError('SCHEMA_MISMATCH', `model ${misfit.label} has ${misfit.model.features} features but the data has ${data.m}`, { source: flags.data! });
      }
      // Vega and Vega-Lite are loaded only when a report is made (they cost ~0.3 s to load).
      const { buildReport } = await import('../report/build-report.js');
      const html = await buildReport(models, {
        ...(data === undefined ? {} : { data, dataName: basename(flags.data!) }),
        ...(input?.sampleNames === undefined ? {} : { sampleNames: input.sampleNames }),
        ...(flags.title === undefined ? {} : { title: flags.title }),
        ...(flags.top === undefined ? {} : { top: flags.top }),
        ...(flags.details === undefined ? {} : { details: flags.details }),
        ...(flags.kmeansSeed === undefined ? {} : { kmeansSeed: flags.kmeansSeed }),
        ...(isCvCurve(cv) ? { cv } : {}),
      });
      await writeFileAtomic(flags.out, html);
      if (flags.quiet) return;
      const charts = (html.match(/<figure class="chart"/g) ?? []).length;
      if (flags.json) print(JSON.stringify({ done: true, out: flags.out, models: models.length, charts, bytes: Buffer.byteLength(html) }));
      else print(`nmflow report: wrote ${flags.out} (${models.length} model${models.length === 1 ? '' : 's'}, ${charts} charts)`);
    });
}
