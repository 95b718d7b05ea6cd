/**
 * `pul eval --query DIR --gallery DIR`: Market-1501 mAP / CMC / mINP of two feature folders (or a
 * checkpoint's embeddings of a data set); with --binary, of their codes.bin (pul extract --binary) by
 * Hamming distance, ties to the lower gallery index; `pul eval --all-vs-all`: the metric-learning protocol on one set.
 */
import type { Command } from 'commander';
import path from 'node:path';
import { GalleryIndex, PulError, evaluateIndex, openDatabase, buildRankedListReport, commitOutputDir, renderReportHtml, writeReportFile, type PreparedOutput, disposeModel, evaluateCodes, evaluateFeatures, readCodeFolder, resolveHammingPath, loadDataset, rankModel, readFeatureFolder, samplesOf, streamProgress, type DatasetFormat, type EvaluateOptions, type FeatureFolder, type ApDefinition, type DistanceMetric, type RankReport } from '../../index.js';
import { parseChoice, parseInputSize, parseNormalization, parseRanks, parseWhole } from '../parse-options.js';
import { runAction } from '../run-action.js';
import { activateBackend } from '../global-options.js';
import { loadCheckpointOption } from '../checkpoint-option.js';
import { addTestSetOptions, datasetLoadOptions } from '../data-options.js';
import { evalAllVsAll, type AllVsAllCliOptions } from './eval-all-vs-all.js';
import { replaceableOut } from '../out-option.js';

interface EvalOptions extends AllVsAllCliOptions {
  allVsAll?: boolean;
  query?: string;
  gallery?: string;
  checkpoint?: string;
  data?: string;
  format?: DatasetFormat;
  classes?: number[];
  allowOutside?: boolean;
  metric: DistanceMetric;
  ranks?: number[];
  ap: ApDefinition;
  cameraFilter: boolean;
  rerank?: boolean;
  binary?: boolean;
  db?: string;
  depth: number;
  exact?: boolean;
  json?: boolean;
  visrank?: number;
  out?: string;
  force?: boolean;
}

/** Flags of the all-vs-all mode alone. */
const ALL_VS_ALL_ONLY = { features: '--features', pixels: '--pixels', input: '--input', normalize: '--normalize' } as const;

const percent = (v: number) => `${(100 * v).toFixed(2)} %`;

export function formatRankReport(r: RankReport, header: readonly string[] = []): string {
  const lines = [...header];
  lines.push(`queries evaluated: ${r.validQueries}${r.skippedQueries ? `, skipped: ${r.skippedQueries} (no true match from another camera; e.g. query rows ${r.skippedExamples.slice(0, 5).join(', ')})` : ''}`);
  lines.push(`mAP      ${percent(r.mAP)}`);
  r.ranks.forEach((k, i) => lines.push(`rank-${String(k).padEnd(3)} ${percent(r.cmc[i]!)}`));
  lines.push(`mINP     ${percent(r.mINP)}`);
  return `${lines.join('\n')}\n`;
}

export function registerEval(program: Command): void {
  const command = program
    .command('eval')
    .description('evaluate retrieval of query features against gallery features (Market-1501 protocol: mAP, CMC, mINP), or with --all-vs-all every image of one labelled set against the others (Recall@K, mAP, NMI)')
    .option('--query <dir>', 'query feature folder (features.npy + index.csv)')
    .option('--gallery <dir>', 'gallery feature folder (features.npy + index.csv)')
    .option('--checkpoint <dir>', "instead: a checkpoint (or run folder) whose embeddings of --data's query and gallery are evaluated");
  // --data, --format, --classes, --allow-outside: as the other command that ranks a checkpoint on a data set
  addTestSetOptions(command)
    .option('--metric <metric>', 'cosine (on L2-normalised features) or euclidean', parseChoice('--metric', ['cosine', 'euclidean'] as const), 'cosine')
    .option('--ranks <list>', 'CMC ranks to report (default 1,5,10,20); with --all-vs-all the K of Recall@K (default 1,2,4,8)', parseRanks('--ranks'))
    .option('--ap <definition>', "standard (torchreid) or trapezoid (the original Market-1501 / PUL code)", parseChoice('--ap', ['standard', 'trapezoid'] as const), 'standard')
    .option('--rerank', 'k-reciprocal re-ranking (Zhong et al. 2017; k1 20, k2 6, λ 0.3)')
    .option('--binary', 'rank the folders\' binary codes (codes.bin, from pul extract --binary) by Hamming distance (XOR + popcount) instead of the float features; with --all-vs-all: --features DIR\'s codes.bin, or a checkpoint\'s sign codes beside its float figures')
    .option('--db <db>', 'instead of --gallery: rank through a gallery index (pul index; a PGlite folder or postgres:// URL), each --query row\'s --depth nearest rows')
    .option('--depth <k>', 'with --db: rows retrieved per query; the rest rank after them', parseWhole('--depth', 1), 100)
    .option('--exact', 'with --db: exact search instead of the HNSW index')
    .option('--no-camera-filter', 'keep same-camera matches (plain retrieval: CMC becomes Recall@K)')
    .option('--all-vs-all', 'the metric-learning protocol: every image of one labelled set a query against all the others (leave-one-out Recall@K, mAP, NMI of k-means with K = the classes); features from --features, --checkpoint + --data (the held-out images) or --pixels + --data')
    .option('--features <dir>', 'with --all-vs-all: one feature folder (every row labelled)')
    .option('--pixels', "with --all-vs-all and --data: rank the held-out images' raw pixels (normalised, flattened): the baseline")
    .option('--input <HxWxC>', "with --pixels: image size (default: the first image's own)", parseInputSize('--input'))
    .option('--normalize <how>', 'with --pixels: unit | imagenet | MEAN/STD (default: unit for grey, imagenet for RGB)', parseNormalization('--normalize'))
    .option('--seed <s>', 'with --all-vs-all: seed of the NMI k-means', parseWhole('--seed', 0), 0)
    .option('--no-nmi', 'with --all-vs-all: skip the NMI k-means')
    .option('--visrank <n>', 'also write the ranked lists as one HTML page (each query\'s top N gallery images, green/red borders, sortable by AP) into --out DIR/visrank.html', parseWhole('--visrank', 1))
    .option('--out <dir>', 'with --visrank: the folder of visrank.html (new, or a report folder with --force)')
    .option('--force', 'with --visrank: replace the page of an earlier pul eval --visrank')
    .option('--json', 'print one JSON object')
    .action(
      runAction(async (opts: EvalOptions) => {
        if (opts.allVsAll && (opts.visrank !== undefined || opts.out !== undefined)) throw new PulError('option.invalid', '--visrank shows query/gallery ranked lists, not the --all-vs-all protocol', { option: '--visrank' });
        if (opts.allVsAll) return evalAllVsAll(program, opts);
        for (const [key, flag] of Object.entries(ALL_VS_ALL_ONLY)) {
          if (opts[key as keyof typeof ALL_VS_ALL_ONLY] !== undefined) throw new PulError('option.invalid', `${flag} goes with --all-vs-all`, { option: flag });
        }
        if (opts.db !== undefined) {
          if (opts.visrank !== undefined || opts.out !== undefined) throw new PulError('option.invalid', '--visrank ranks feature folders or a checkpoint on a data set, not a --db index', { option: '--visrank' });
          return evalIndex(opts);
        }
        const visrank = await visrankOutput(opts);
        await activateBackend(program);
        if (opts.binary) {
          await evalCodes(opts);
          return;
        }
        const started = performance.now();
        const { report, query, gallery, sources } = await rankRequested(opts, { metric: opts.metric, ranks: opts.ranks ?? [1, 5, 10, 20], ap: opts.ap, removeSameCamera: opts.cameraFilter, ...(opts.rerank ? { rerank: {} } : {}) });
        const seconds = (performance.now() - started) / 1000;
        if (visrank !== null) {
          const data = await buildRankedListReport(query, gallery, { top: opts.visrank!, metric: opts.metric, ap: opts.ap, removeSameCamera: opts.cameraFilter, ...(opts.rerank ? { rerank: {} } : {}), caption: `${sources.query} against ${sources.gallery}, ${opts.metric}${opts.rerank ? ' + k-reciprocal re-ranking' : ''}, AP ${opts.ap}${opts.cameraFilter ? '' : ', no camera filter'}.` });
          await commitOutputDir(visrank, (tmp) => writeReportFile(path.join(tmp, VISRANK_HTML), renderReportHtml(data)));
          process.stderr.write(`wrote ${path.join(opts.out!, VISRANK_HTML)}\n`);
        }
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...report, metric: opts.metric, rerank: opts.rerank ?? false, ap: opts.ap, queries: query.features.rows, gallery: gallery.features.rows, seconds })}\n`);
        } else {
          process.stdout.write(
            formatRankReport(report, [
              `query: ${sources.query} (${query.features.rows} × ${query.features.dim}), gallery: ${sources.gallery} (${gallery.features.rows})`,
              `metric: ${opts.metric}${opts.rerank ? ' + k-reciprocal re-ranking' : ''}, AP: ${opts.ap}${opts.cameraFilter ? '' : ', no camera filter'}, ${seconds.toFixed(2)} s`,
            ]),
          );
        }
      }),
    );
}

/** The page of --visrank in its --out folder. */
const VISRANK_HTML = 'visrank.html';

/** --visrank N --out DIR: checked before any work (a new or empty folder, or an earlier page with --force; apart from the inputs). */
async function visrankOutput(opts: EvalOptions): Promise<PreparedOutput | null> {
  if (opts.visrank === undefined) {
    if (opts.out !== undefined) throw new PulError('option.invalid', '--out goes with --visrank N (the ranked-list page)', { option: '--out' });
    return null;
  }
  if (opts.out === undefined) throw new PulError('option.invalid', '--visrank writes a page: name its folder with --out DIR', { option: '--out' });
  if (opts.binary) throw new PulError('option.invalid', '--visrank ranks float features, not --binary codes', { option: '--visrank' });
  const inputs = [opts.query && { path: opts.query, option: '--query' }, opts.gallery && { path: opts.gallery, option: '--gallery' }, opts.checkpoint && { path: opts.checkpoint, option: '--checkpoint' }, opts.data && { path: opts.data, option: '--data' }].filter((i) => typeof i === 'object');
  return replaceableOut('eval', 'report', { out: opts.out, force: opts.force }, inputs, (entries) => Promise.resolve(entries.length === 1 && entries[0] === VISRANK_HTML ? 'report' : null));
}

/** The report and the two feature sets: read from folders, or a checkpoint's embeddings of a data set's query and gallery. */
async function rankRequested(opts: EvalOptions, evaluate: EvaluateOptions): Promise<{ report: RankReport; query: FeatureFolder; gallery: FeatureFolder; sources: { query: string; gallery: string } }> {
  if (opts.checkpoint !== undefined || opts.data !== undefined) {
    if (opts.checkpoint === undefined || opts.data === undefined || opts.query !== undefined || opts.gallery !== undefined) {
      throw new PulError('option.invalid', 'give either --query and --gallery (feature folders) or --checkpoint and --data', { option: '--checkpoint' });
    }
    const { model, checkpoint } = await loadCheckpointOption(opts.checkpoint);
    try {
      const dataset = await loadDataset(opts.data, datasetLoadOptions(opts));
      const sources = { query: `${opts.data} (query)`, gallery: `${opts.data} (gallery)` };
      const ranked = await rankModel(model, samplesOf(dataset, 'query'), samplesOf(dataset, 'gallery'), { ...evaluate, normalization: checkpoint.manifest.normalization, sources, progress: streamProgress() });
      return { ...ranked, sources };
    } finally {
      disposeModel(model);
    }
  }
  if (opts.query === undefined || opts.gallery === undefined) {
    throw new PulError('option.invalid', 'give --query and --gallery (feature folders), or --checkpoint and --data', { option: '--query' });
  }
  const [query, gallery] = await Promise.all([readFeatureFolder(opts.query), readFeatureFolder(opts.gallery)]);
  const sources = { query: opts.query, gallery: opts.gallery };
  return { report: evaluateFeatures(query, gallery, evaluate, sources), query, gallery, sources };
}

/** --binary: Hamming ranking of two folders' codes.bin. */
async function evalCodes(opts: EvalOptions): Promise<void> {
  if (opts.checkpoint !== undefined || opts.data !== undefined || opts.query === undefined || opts.gallery === undefined) {
    throw new PulError('option.invalid', '--binary ranks feature folders: give --query and --gallery written by pul extract --binary (not --checkpoint/--data)', { option: '--binary' });
  }
  if (opts.rerank) throw new PulError('option.invalid', '--rerank works on float features, not with --binary', { option: '--rerank' });
  const started = performance.now();
  const [query, gallery] = await Promise.all([readCodeFolder(opts.query), readCodeFolder(opts.gallery)]);
  const sources = { query: opts.query, gallery: opts.gallery };
  const report = evaluateCodes(query, gallery, { ranks: opts.ranks ?? [1, 5, 10, 20], ap: opts.ap, removeSameCamera: opts.cameraFilter }, sources);
  const seconds = (performance.now() - started) / 1000;
  const kernel = resolveHammingPath();
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ ...report, metric: 'hamming', bits: query.codes.bits, kernel, ap: opts.ap, queries: query.codes.rows, gallery: gallery.codes.rows, seconds })}\n`);
  } else {
    process.stdout.write(
      formatRankReport(report, [
        `query: ${opts.query} (${query.codes.rows} × ${query.codes.bits} bits), gallery: ${opts.gallery} (${gallery.codes.rows})`,
        `metric: hamming (popcount: ${kernel}), AP: ${opts.ap}${opts.cameraFilter ? '' : ', no camera filter'}, ${seconds.toFixed(2)} s`,
      ]),
    );
  }
}

/** --db: retrieval through a gallery index, with the metrics of pul eval. */
async function evalIndex(opts: EvalOptions): Promise<void> {
  if (opts.query === undefined || opts.gallery !== undefined || opts.checkpoint !== undefined || opts.binary || opts.rerank) {
    throw new PulError('option.invalid', '--db ranks a query feature folder against the index: give --query DIR (not --gallery, --checkpoint, --binary or --rerank)', { option: '--db' });
  }
  if (opts.metric !== 'cosine') throw new PulError('option.invalid', 'an index ranks by cosine distance (--metric cosine)', { option: '--metric' });
  const started = performance.now();
  const query = await readFeatureFolder(opts.query);
  const db = await openDatabase(opts.db!, { command: 'pul eval' });
  try {
    const index = await GalleryIndex.open(db);
    const report = await evaluateIndex(index, query, { ranks: opts.ranks ?? [1, 5, 10, 20], ap: opts.ap, removeSameCamera: opts.cameraFilter, depth: opts.depth, ...(opts.exact ? { exact: true } : {}), ...(opts.json ? {} : { progress: streamProgress() }) }, opts.query);
    const seconds = (performance.now() - started) / 1000;
    const rows = (await index.labels()).paths.length;
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ...report, metric: 'cosine', ap: opts.ap, db: db.location, depth: opts.depth, exact: opts.exact ?? false, queries: query.features.rows, gallery: rows, seconds })}\n`);
    } else {
      process.stdout.write(
        formatRankReport(report, [
          `query: ${opts.query} (${query.features.rows} × ${query.features.dim}), gallery: index ${db.location} (${rows} rows)`,
          `${opts.exact ? 'exact search' : 'HNSW'}, depth ${opts.depth}, AP: ${opts.ap}${opts.cameraFilter ? '' : ', no camera filter'}, ${seconds.toFixed(2)} s`,
        ]),
      );
    }
  } finally {
    await db.close();
  }
}
