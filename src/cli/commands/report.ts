/**
 * `pul report RUN_DIR [--out FILE]` / `pul report --checkpoint CK --data PATH --out FILE`: one
 * self-contained HTML page (curves, ranked lists, clusters, embedding map, configuration) that opens
 * offline from a copied folder.
 */
import type { Command } from 'commander';
import path from 'node:path';
import { PulError, buildCheckpointReport, buildRunReport, checkReportFile, renderReportHtml, streamProgress, writeReportFile, type DatasetFormat } from '../../index.js';
import { parseWhole } from '../parse-options.js';
import { runAction } from '../run-action.js';
import { activateBackend } from '../global-options.js';
import { addTestSetOptions, datasetLoadOptions } from '../data-options.js';

interface ReportCliOptions {
  out?: string;
  force?: boolean;
  checkpoint?: string;
  data?: string;
  format?: DatasetFormat;
  classes?: number[];
  allowOutside?: boolean;
  top: number;
  clusters: number;
  seed: number;
}

export function registerReport(program: Command): void {
  const command = program
    .command('report')
    .description('write one self-contained HTML page of a run (per-round curves, ranked lists of its newest checkpoint, clusters, embedding map, configuration) or of a checkpoint on a data set; it opens offline, from a copied folder too')
    .argument('[run]', 'a run folder (run.json); its page goes to RUN/report.html unless --out')
    .option('--out <file>', 'the page (.html); replaced only with --force')
    .option('--force', 'replace an existing page')
    .option('--checkpoint <dir>', 'instead of a run: a checkpoint folder, ranked on --data\'s query/gallery split');
  // --data, --format, --classes, --allow-outside: as the other command that ranks a checkpoint on a data set
  addTestSetOptions(command)
    .option('--top <n>', 'gallery results per query', parseWhole('--top', 1), 10)
    .option('--clusters <n>', 'clusters shown in the cluster view', parseWhole('--clusters', 1), 24)
    .option('--seed <s>', 'seed of the cluster and map samples', parseWhole('--seed', 0), 0)
    .action(
      runAction(async (run: string | undefined, opts: ReportCliOptions) => {
        if ((run === undefined) === (opts.checkpoint === undefined)) throw new PulError('option.invalid', 'give a run folder, or --checkpoint and --data (not both)', { option: '--checkpoint' });
        if ((opts.checkpoint === undefined) !== (opts.data === undefined)) throw new PulError('option.invalid', '--checkpoint and --data go together', { option: opts.data === undefined ? '--data' : '--checkpoint' });
        const out = opts.out ?? (run === undefined ? undefined : path.join(run, 'report.html'));
        if (out === undefined) throw new PulError('option.invalid', 'with --checkpoint, name the page with --out FILE.html', { option: '--out' });
        await checkReportFile(out, { force: opts.force ?? false });
        await activateBackend(program);
        const started = performance.now();
        const options = { top: opts.top, clusters: opts.clusters, seed: opts.seed, progress: streamProgress() };
        const data = run !== undefined
          ? await buildRunReport(run, options)
          : await buildCheckpointReport(opts.checkpoint!, opts.data!, { ...options, load: datasetLoadOptions(opts) });
        const html = renderReportHtml(data);
        await writeReportFile(out, html);
        process.stdout.write(`wrote ${out} (${(html.length / 1024).toFixed(0)} KB, ${data.thumbnails.length} thumbnails${data.ranked ? `, ${data.ranked.lists.length} ranked lists` : ''}) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      }),
    );
}
