/**
 * The data of a report page, gathered from what pul wrote: a run folder (run.json, the rounds' feature,
 * cluster and selection files, the newest checkpoint ranked on the target's query/gallery split), a
 * checkpoint and a data set, or two feature folders (the ranked lists alone).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PulError } from '../core/errors.js';
import { exists } from '../core/atomic-fs.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import { PACKAGE_VERSION } from '../core/version.js';
import { currentBackend } from '../backend/select-backend.js';
import { ImageReader, type Normalization } from '../datasets/images.js';
import { loadDataset, type LoadDatasetOptions } from '../datasets/load-dataset.js';
import { samplesOf, type Sample } from '../datasets/sample.js';
import { extractFeatureFolder } from '../features/extract-folder.js';
import { readFeatureFolder, type FeatureFolder, type IndexRow } from '../features/features-npy.js';
import { featureMatrix } from '../features/feature-matrix.js';
import { readSelectionFile, SELECTION_FILE } from '../selection/selection-file.js';
import { ASSIGNMENTS_FILE, readClusterFiles } from '../clustering/cluster-files.js';
import { disposeModel, type ReidModel } from '../model/build-model.js';
import { resolveLatest } from '../checkpoints/latest.js';
import { loadCheckpoint } from '../checkpoints/load-checkpoint.js';
import { loadRunState } from '../pipeline/state.js';
import { PulSession, roundName } from '../pipeline/pul-session.js';
import { rankedLists, type RankedListOptions } from './ranked-lists.js';
import { readRunSeries } from './run-series.js';
import { sampleClusters } from './cluster-sample.js';
import { embeddingMap } from './embedding-map.js';
import { ThumbnailSet } from './thumbnails.js';
import type { RankedSection, ReportData, ReportImage } from './render-html.js';

/** Options of the report builders. */
export interface ReportOptions extends RankedListOptions {
  /** Clusters shown in the cluster view (default 24). */
  readonly clusters?: number;
  /** Points of the embedding map at most (default 4 000). */
  readonly mapPoints?: number;
  /** Seed of the cluster and map samples (default 0). */
  readonly seed?: number;
  readonly signal?: AbortSignal;
  readonly progress?: ProgressSink;
}

const nameOf = (p: string) => p.split('#')[0]!.split(/[\\/]/).pop()! + (p.includes('#') ? `#${p.split('#').pop()!}` : '');

/** The page's images of a feature folder's rows: file name, thumbnail id, identity, camera. */
const imagesOf = (index: readonly IndexRow[], rows: Iterable<number>, thumbs: ThumbnailSet): Record<number, ReportImage> => {
  const out: Record<number, ReportImage> = {};
  for (const r of rows) out[r] = { name: nameOf(index[r]!.path), thumb: thumbs.id(index[r]!.path), pid: index[r]!.pid, camid: index[r]!.camid };
  return out;
};

/** The ranked-list section of two feature folders (and the thumbnails it needs). */
export function rankedSection(query: FeatureFolder, gallery: FeatureFolder, thumbs: ThumbnailSet, options: RankedListOptions, caption: string): RankedSection {
  const lists = rankedLists(query, gallery, options);
  const shown = new Set(lists.queries.flatMap((q) => q.entries.map((e) => e.gallery)));
  return {
    caption,
    top: lists.top,
    mAP: lists.report.mAP,
    rank1: lists.report.cmc[lists.report.ranks.indexOf(1)] ?? Number.NaN,
    validQueries: lists.report.validQueries,
    skippedQueries: lists.report.skippedQueries,
    query: query.index.map((row) => ({ name: nameOf(row.path), thumb: thumbs.id(row.path), pid: row.pid, camid: row.camid })),
    gallery: imagesOf(gallery.index, [...shown].sort((a, b) => a - b), thumbs),
    lists: lists.queries,
  };
}

/** The headline of a page of ranked lists: mAP, rank-1, queries. */
const rankedHeadline = (ranked: RankedSection) => [
  { label: 'mAP', value: `${(100 * ranked.mAP).toFixed(2)} %` },
  { label: 'rank-1', value: `${(100 * ranked.rank1).toFixed(1)} %` },
  { label: 'queries', value: String(ranked.validQueries + ranked.skippedQueries) },
];

/** Node, pul, tfjs and backend versions, and the machine. */
function environment(extra: Record<string, string>): Record<string, string> {
  const backend = currentBackend();
  return {
    pul: PACKAGE_VERSION,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    ...(backend ? { backend: `${backend.backend} (tfjs ${backend.tfjsVersion}${backend.native?.loaded ? ', native kernels' : ''})`, CPUs: String(backend.cpuCount) } : {}),
    ...extra,
  };
}

/** Embeds query and gallery with `model` (one reader, so IDX files are read once). */
async function embedTestSplit(model: ReidModel, query: readonly Sample[], gallery: readonly Sample[], normalize: Normalization, reader: ImageReader, options: ReportOptions): Promise<{ query: FeatureFolder; gallery: FeatureFolder }> {
  const extract = { batchSize: 256, normalize, reader };
  const ctx = { ...(options.signal ? { signal: options.signal } : {}), progress: options.progress ?? silentProgress };
  return { query: await extractFeatureFolder(model, query, extract, ctx), gallery: await extractFeatureFolder(model, gallery, extract, ctx) };
}

/** The newest round of a run folder with both its features and its clusters on disk, or null. */
async function newestClusteredRound(runDir: string): Promise<number | null> {
  const rounds = (await readdir(runDir)).map((e) => /^round-(\d+)$/.exec(e)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => b - a);
  for (const round of rounds) {
    const dir = path.join(runDir, roundName(round));
    if ((await exists(path.join(dir, 'features', 'index.csv'))) && (await exists(path.join(dir, 'clusters', ASSIGNMENTS_FILE)))) return round;
  }
  return null;
}

/**
 * The report of a run folder: its curves; the ranked lists of its newest checkpoint on the target's
 * query/gallery split (when it has one); the cluster view and embedding map of its newest clustered
 * round; its configuration and the environment.
 * @example
 * const data = await buildRunReport('checkpoints/demo');
 * await writeFile('checkpoints/demo/report.html', renderReportHtml(data));
 */
export async function buildRunReport(runDir: string, options: ReportOptions = {}): Promise<ReportData> {
  const state = await loadRunState(runDir);
  if (state === null) throw new PulError('state.invalid', `${runDir} is not a run folder (it has no run.json)`, { file: runDir });
  const progress = options.progress ?? silentProgress;
  const series = await readRunSeries(runDir, state);
  const thumbs = new ThumbnailSet();
  const session = new PulSession(runDir, state.config, progress);
  const reader = session.reader;
  let ranked: RankedSection | undefined;
  const latest = await resolveLatest(runDir);
  const data = await session.data();
  if (latest !== null && data.query.length > 0 && data.gallery.length > 0) {
    progress.log(`ranking the target's ${data.query.length} queries against ${data.gallery.length} gallery images with ${path.relative(runDir, latest)}`);
    const { model, checkpoint } = await loadCheckpoint(latest);
    try {
      const split = await embedTestSplit(model, data.query, data.gallery, checkpoint.manifest.normalization, reader, options);
      ranked = rankedSection(split.query, split.gallery, thumbs, options, `The newest checkpoint (${path.relative(runDir, latest)}) on the target's query/gallery split, cosine distance, the Market-1501 protocol.`);
    } finally {
      disposeModel(model);
    }
  }
  const round = await newestClusteredRound(runDir);
  let clusters: ReportData['clusters'];
  let embedding: ReportData['embedding'];
  if (round !== null) {
    const dir = path.join(runDir, roundName(round));
    const folder = await readFeatureFolder(path.join(dir, 'features'));
    const { assignment } = await readClusterFiles(path.join(dir, 'clusters'));
    if (assignment.length !== folder.features.rows) throw new PulError('clustering.invalid', `${path.join(dir, 'clusters', ASSIGNMENTS_FILE)} has ${assignment.length} rows, the round's features ${folder.features.rows}`, { file: path.join(dir, 'clusters', ASSIGNMENTS_FILE) });
    const selected = (await exists(path.join(dir, SELECTION_FILE))) ? new Set((await readSelectionFile(dir)).indices) : new Set<number>();
    const pids = folder.index.every((r) => r.pid !== null) ? Int32Array.from(folder.index, (r) => r.pid!) : null;
    const view = sampleClusters(assignment, { selected, pids, clusters: options.clusters ?? 24, seed: options.seed ?? 0 });
    const rows = [...view.cards.flatMap((c) => c.members.map((m) => m.row)), ...view.noise.members];
    clusters = { caption: `Round ${round}: a seeded sample of the clusters of the target's training images (embedded with the model of round ${round - 1 === 0 ? '0, the source model' : round - 1}), a few images each, largest first.`, view, images: imagesOf(folder.index, rows, thumbs) };
    const map = embeddingMap(folder.features, { ...(options.mapPoints ? { maxPoints: options.mapPoints } : {}), seed: options.seed ?? 0 });
    embedding = {
      caption: `The same round-${round} embeddings of the target's training images (L2-normalised), on their first two principal components; grey: noise.`,
      map,
      cluster: Int32Array.from(map.rows, (r) => assignment[r]!),
      pid: pids === null ? null : Int32Array.from(map.rows, (r) => pids[r]!),
    };
  }
  progress.log(`encoding ${thumbs.paths.length} thumbnails`);
  const last = (s: { points: readonly { y: number }[] }) => s.points.at(-1)?.y;
  const mAP = series.mAP.points;
  const headline = [
    { label: 'rounds', value: String(series.rounds) },
    ...(mAP.length > 0 ? [{ label: 'mAP (source → last round)', value: `${(100 * mAP[0]!.y).toFixed(2)} → ${(100 * mAP.at(-1)!.y).toFixed(2)} %` }] : []),
    ...(last(series.rank1) === undefined ? [] : [{ label: 'rank-1 (last round)', value: `${(100 * last(series.rank1)!).toFixed(1)} %` }]),
    ...(last(series.selected) === undefined ? [] : [{ label: 'selected (last round)', value: String(last(series.selected)) }]),
    { label: 'state', value: state.finished ? `finished: ${state.finished.reason}` : 'not finished' },
  ];
  return {
    title: `pul run ${state.config.name}`,
    subtitle: path.resolve(runDir),
    generatedAt: new Date().toISOString(),
    headline,
    series,
    ...(ranked ? { ranked } : {}),
    ...(clusters ? { clusters } : {}),
    ...(embedding ? { embedding } : {}),
    settings: { config: state.config, environment: environment({ seed: String(state.config.seed), 'run created': state.createdAt, 'run updated': state.updatedAt }) },
    thumbnails: await thumbs.render(reader),
  };
}

/**
 * The report of a checkpoint on a data set's query/gallery split: its ranked lists, and the map of
 * its query + gallery embeddings coloured by identity; the checkpoint's training meta as configuration.
 * @example
 * const data = await buildCheckpointReport('checkpoints/demo/round-04/checkpoint', 'datasets/demo/target');
 */
export async function buildCheckpointReport(checkpointDir: string, dataPath: string, options: ReportOptions & { readonly load?: LoadDatasetOptions } = {}): Promise<ReportData> {
  const { model, checkpoint } = await loadCheckpoint(checkpointDir);
  const reader = new ImageReader();
  const thumbs = new ThumbnailSet();
  let split: { query: FeatureFolder; gallery: FeatureFolder };
  try {
    const dataset = await loadDataset(dataPath, options.load ?? {});
    const query = samplesOf(dataset, 'query');
    const gallery = samplesOf(dataset, 'gallery');
    if (query.length === 0 || gallery.length === 0) throw new PulError('dataset.empty', `${dataPath} has no query/gallery split to rank (${query.length} query, ${gallery.length} gallery images)`, { file: dataPath, option: '--data' });
    split = await embedTestSplit(model, query, gallery, checkpoint.manifest.normalization, reader, options);
  } finally {
    disposeModel(model);
  }
  const ranked = rankedSection(split.query, split.gallery, thumbs, options, `${checkpointDir} on ${dataPath}'s query/gallery split, cosine distance, the Market-1501 protocol.`);
  const { query, gallery } = split;
  const all = featureMatrix(query.features.rows + gallery.features.rows, query.features.dim);
  all.data.set(query.features.data);
  all.data.set(gallery.features.data, query.features.data.length);
  const pids = Int32Array.from([...query.index, ...gallery.index], (r) => r.pid ?? -1);
  const map = embeddingMap(all, { ...(options.mapPoints ? { maxPoints: options.mapPoints } : {}), seed: options.seed ?? 0 });
  return {
    title: `pul checkpoint ${path.basename(path.resolve(checkpointDir))}`,
    subtitle: `${path.resolve(checkpointDir)} on ${path.resolve(dataPath)}`,
    generatedAt: new Date().toISOString(),
    headline: rankedHeadline(ranked),
    ranked,
    embedding: { caption: 'Query and gallery embeddings (L2-normalised) on their first two principal components, coloured by identity.', map, cluster: null, pid: Int32Array.from(map.rows, (r) => pids[r]!) },
    settings: { config: { model: checkpoint.manifest.model, epoch: checkpoint.manifest.epoch, training: checkpoint.manifest.training, state: checkpoint.manifest.state }, environment: environment({ 'checkpoint created': checkpoint.manifest.created, 'checkpoint pul': checkpoint.manifest.packageVersion }) },
    thumbnails: await thumbs.render(reader),
  };
}

/**
 * The ranked lists alone (`pul eval --visrank N`): two feature folders, their images read from the paths in their index.csv.
 * @example
 * const data = await buildRankedListReport(await readFeatureFolder('f/query'), await readFeatureFolder('f/gallery'), { top: 10 });
 */
export async function buildRankedListReport(query: FeatureFolder, gallery: FeatureFolder, options: RankedListOptions & { readonly caption?: string; readonly title?: string } = {}): Promise<ReportData> {
  const thumbs = new ThumbnailSet();
  const ranked = rankedSection(query, gallery, thumbs, options, options.caption ?? 'Query features against gallery features, the Market-1501 protocol.');
  return {
    title: options.title ?? 'pul ranked lists',
    generatedAt: new Date().toISOString(),
    headline: rankedHeadline(ranked),
    ranked,
    thumbnails: await thumbs.render(),
  };
}
