/**
 * `pul index --db DB --features DIR…` or `--checkpoint CK --data PATH`: a gallery index in PostgreSQL +
 * pgvector (a PGlite folder, or postgres://…). Resumable: rows whose path is in already are skipped,
 * the rest go in batches of one transaction each, so a killed run loses only its batch in flight.
 * Several feature folders (e.g. the shards of `pul extract --shard i/n`) merge into one index.
 */
import type { Command } from 'commander';
import {
  GalleryIndex, PulError, SPLITS, disposeModel, extractFeatures, featureSource, loadDataset, loadIntoIndex, openDatabase, parseClassList, parseDatasetFormat, readFeatureFolder, silentProgress, streamProgress, weightsFingerprint,
  type DatasetFormat, type EmbeddingSource, type ProgressSink, type IndexLoadReport, type Split,
} from '../../index.js';
import { activateBackend } from '../global-options.js';
import { loadCheckpointOption } from '../checkpoint-option.js';
import { allowOutsideOption, datasetLoadOptions } from '../data-options.js';
import { parseChoice, parseWhole, parseWith } from '../parse-options.js';
import { runAction } from '../run-action.js';
import { withCtrlC } from '../ctrl-c.js';

interface IndexCliOptions {
  db: string;
  features?: string[];
  checkpoint?: string;
  data?: string;
  split: Split | 'all';
  format?: DatasetFormat;
  classes?: number[];
  allowOutside?: boolean;
  batch: number;
  json?: boolean;
}

export function registerIndex(program: Command): void {
  program
    .command('index')
    .description('build or extend a gallery index (PostgreSQL + pgvector, HNSW over cosine distance) from feature folders or a checkpoint\'s embeddings of a data set; re-running adds only the rows not in yet')
    .requiredOption('--db <db>', 'a PGlite folder (created if missing; embedded, no server) or a postgres://user:pass@host/db URL (pgvector installed)')
    .option('--features <dirs...>', 'feature folders to load (pul extract; e.g. the shards of pul extract --shard i/n)')
    .option('--checkpoint <dir>', 'instead: embed --data with this checkpoint (or run folder) batch by batch')
    .option('--data <path>', 'with --checkpoint: the data set to index')
    .option('--split <split>', 'with --data: query, gallery, train or all', parseChoice('--split', [...SPLITS, 'all'] as const), 'gallery')
    .option('--format <format>', 'with --data: force a dataset layout', parseWith('--format', parseDatasetFormat))
    .option('--classes <list>', 'with --data (IDX): keep these labels, e.g. 5-9', parseWith('--classes', parseClassList))
    .addOption(allowOutsideOption())
    .option('--batch <n>', 'rows per transaction (a kill loses at most the batch in flight)', parseWhole('--batch', 1), 2000)
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (opts: IndexCliOptions) => {
        const fromData = opts.checkpoint !== undefined || opts.data !== undefined;
        if (fromData === (opts.features !== undefined) || (fromData && (opts.checkpoint === undefined || opts.data === undefined))) {
          throw new PulError('option.invalid', 'give either --features DIR… or --checkpoint and --data', { option: opts.features ? '--checkpoint' : '--features' });
        }
        const progress = opts.json ? silentProgress : streamProgress();
        const started = performance.now();
        if (opts.features !== undefined) {
          const folders = await Promise.all(opts.features.map(async (dir) => ({ dir, folder: await readFeatureFolder(dir) })));
          const dim = folders[0]!.folder.features.dim;
          const other = folders.find((f) => f.folder.features.dim !== dim);
          if (other) throw new PulError('features.mismatch', `${other.dir} has ${other.folder.features.dim}-dimensional features, ${folders[0]!.dir} ${dim}-dimensional`, { file: other.dir });
          const sources = folders.map(({ dir, folder }) => featureSource(dir, folder.features, folder.index));
          const report = await load(opts, dim, null, sources, progress);
          return print(opts, report, started);
        }
        await activateBackend(program);
        const { model, checkpoint } = await loadCheckpointOption(opts.checkpoint!);
        try {
          const dataset = await loadDataset(opts.data!, datasetLoadOptions(opts));
          const samples = opts.split === 'all' ? dataset.samples : dataset.samples.filter((s) => s.split === opts.split);
          if (samples.length === 0) throw new PulError('dataset.empty', `${opts.data} has no ${opts.split} images to index (--split)`, { option: '--split' });
          const source: EmbeddingSource = {
            name: opts.data!,
            index: samples.map((s) => ({ path: s.path, pid: s.pid, camid: s.camid })),
            embed: async (positions) => (await extractFeatures(model, positions.map((p) => samples[p]!), { normalize: checkpoint.manifest.normalization })).data,
          };
          const report = await load(opts, model.spec.embeddingDim, weightsFingerprint(checkpoint), [source], progress);
          return print(opts, report, started);
        } finally {
          disposeModel(model);
        }
      }),
    );
}

async function load(opts: IndexCliOptions, dim: number, model: string | null, sources: EmbeddingSource[], progress: ProgressSink): Promise<IndexLoadReport> {
  const db = await openDatabase(opts.db, { create: true, command: 'pul index' });
  try {
    const index = await GalleryIndex.create(db, { dim, metric: 'cosine', model });
    return await withCtrlC(progress, (signal) => loadIntoIndex(index, sources, { batchSize: opts.batch, progress, signal }));
  } finally {
    await db.close();
  }
}

function print(opts: IndexCliOptions, report: IndexLoadReport, started: number): void {
  const seconds = (performance.now() - started) / 1000;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ db: opts.db, ...report, seconds })}\n`);
    return;
  }
  const rate = report.insertSeconds > 0 ? ` (${Math.round(report.added / report.insertSeconds)} rows/s)` : '';
  process.stdout.write(
    `added ${report.added} rows to ${opts.db}${rate}, skipped ${report.skipped} already in; ${report.total} rows indexed` +
      `${report.annSeconds > 0 ? `; HNSW indexes built in ${report.annSeconds.toFixed(1)} s` : ''} (${seconds.toFixed(1)} s)\n`,
  );
}
