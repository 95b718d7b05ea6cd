/**
 * `pul eval --all-vs-all`: the metric-learning protocol on one labelled set (every image a query
 * against all the others): Recall@K, mAP, NMI of k-means with K = the classes. Features from a
 * feature folder, a checkpoint's embeddings of a data set's held-out images, or their raw pixels.
 */
import path from 'node:path';
import type { Command } from 'commander';
import {
  PulError, allVsAllMetrics, classLabels, evaluateCodesAllVsAll, packSigns, readCodeFolder, defaultNormalization, disposeModel, heldOutSamples, labelsOf, loadDataset, INDEX_FILE, modelAllVsAll, pixelFeatures, readFeatureFolder, streamProgress, ImageReader, RECALL_KS,
  type AllVsAllMetrics, type AllVsAllReport, type ApDefinition, type DatasetFormat, type DistanceMetric, type Normalization,
} from '../../index.js';
import { activateBackend } from '../global-options.js';
import { loadCheckpointOption } from '../checkpoint-option.js';
import { datasetLoadOptions } from '../data-options.js';

/** The eval flags this mode reads. */
export interface AllVsAllCliOptions {
  features?: string;
  checkpoint?: string;
  data?: string;
  pixels?: boolean;
  binary?: boolean;
  input?: { height: number; width: number; channels: 1 | 3 };
  normalize?: Normalization;
  format?: DatasetFormat;
  classes?: number[];
  allowOutside?: boolean;
  query?: string;
  gallery?: string;
  metric: DistanceMetric;
  ranks?: number[];
  ap: ApDefinition;
  cameraFilter: boolean;
  rerank?: boolean;
  seed: number;
  nmi: boolean;
  json?: boolean;
}

const percent = (v: number) => `${(100 * v).toFixed(2)} %`;

/** Which features: exactly one of --features, --checkpoint + --data, --pixels + --data. */
function checkSources(o: AllVsAllCliOptions): void {
  const fail = (message: string, option: string): never => {
    throw new PulError('option.invalid', message, { option });
  };
  if (o.query !== undefined || o.gallery !== undefined) fail('--all-vs-all ranks one set against itself: give --features, or --data with --checkpoint or --pixels, not --query/--gallery', o.query !== undefined ? '--query' : '--gallery');
  if (o.rerank) fail('--rerank is not available with --all-vs-all', '--rerank');
  if (!o.cameraFilter) fail('--no-camera-filter has no meaning with --all-vs-all (only the query itself is left out)', '--no-camera-filter');
  const sources = [o.features !== undefined, o.checkpoint !== undefined, o.pixels === true].filter(Boolean).length;
  if (sources !== 1) fail('--all-vs-all needs exactly one of --features DIR, --checkpoint CK --data PATH, --pixels --data PATH', '--all-vs-all');
  if (o.features !== undefined && o.data !== undefined) fail('--features is a feature folder already; --data goes with --checkpoint or --pixels', '--data');
  if (o.features === undefined && o.data === undefined) fail(`${o.pixels ? '--pixels' : '--checkpoint'} needs --data (the labelled set whose held-out images are ranked)`, '--data');
  if (o.binary && o.pixels) fail('--binary ranks binary codes (a hash head\'s signs); raw pixels have none', '--binary');
  if (!o.pixels && (o.input !== undefined || o.normalize !== undefined)) fail('--input and --normalize go with --pixels (a checkpoint brings its own)', o.input !== undefined ? '--input' : '--normalize');
}

/** Runs the all-vs-all evaluation the flags ask for and prints it. */
export async function evalAllVsAll(program: Command, o: AllVsAllCliOptions): Promise<void> {
  checkSources(o);
  await activateBackend(program);
  const started = performance.now();
  const options = { metric: o.metric, ks: o.ranks ?? RECALL_KS, ap: o.ap, seed: o.seed, nmi: o.nmi };
  let metrics: AllVsAllMetrics | null = null;
  let hamming: (AllVsAllReport & { bits: number }) | null = null;
  let dim: number;
  let source: string;
  if (o.features !== undefined && o.binary) {
    const folder = await readCodeFolder(o.features);
    source = o.features;
    hamming = { ...evaluateCodesAllVsAll(folder.codes, labelsOf(folder.index, path.join(o.features, INDEX_FILE)).pids, options, source), bits: folder.codes.bits };
    dim = folder.codes.bits;
  } else if (o.features !== undefined) {
    const folder = await readFeatureFolder(o.features);
    source = o.features;
    metrics = allVsAllMetrics(folder.features, labelsOf(folder.index, path.join(o.features, INDEX_FILE)).pids, options, source);
    dim = folder.features.dim;
  } else {
    const data = o.data as string;
    const reader = new ImageReader({ cacheBytes: 0 }); // one pass over the set
    const dataset = await loadDataset(data, { ...datasetLoadOptions(o), reader });
    const samples = heldOutSamples(dataset);
    source = `${data} (held-out images)`;
    if (samples.length === 0) throw new PulError('dataset.empty', `${data}: no labelled images outside the training split to rank`, { file: data, option: '--data' });
    const progress = streamProgress();
    if (o.pixels) {
      const size = await reader.size(samples[0]!.path);
      const spec = o.input ?? { height: size.height, width: size.width, channels: size.channels === 1 ? 1 : 3 };
      const features = await pixelFeatures(samples, { ...spec, normalize: o.normalize ?? defaultNormalization(spec.channels) }, { reader, progress });
      source = `${source}, raw pixels ${spec.height}×${spec.width}×${spec.channels}`;
      metrics = allVsAllMetrics(features, classLabels(samples, data), options, source);
      dim = features.dim;
    } else {
      const { model, checkpoint } = await loadCheckpointOption(o.checkpoint as string);
      try {
        const r = await modelAllVsAll(model, samples, { ...options, normalization: checkpoint.manifest.normalization, reader, source: data, progress });
        metrics = r.metrics;
        dim = r.features.dim;
        if (o.binary) hamming = { ...evaluateCodesAllVsAll(packSigns(r.features), classLabels(samples, data), options, data), bits: r.features.dim };
        source = `${source}, embedded by ${checkpoint.dir}`;
      } finally {
        disposeModel(model);
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ protocol: 'all-vs-all', ...(metrics ?? hamming), ...(hamming && metrics ? { hamming } : {}), dim, metric: metrics ? o.metric : 'hamming', ap: o.ap, seed: o.seed, source, seconds })}\n`);
    return;
  }
  const head = (metrics ?? hamming) as AllVsAllReport;
  const figures = (r: AllVsAllReport) => [...r.ks.map((k, i) => `Recall@${String(k).padEnd(4)} ${percent(r.recall[i]!)}`), `mAP       ${percent(r.mAP)}`];
  const lines = [
    `all-vs-all (leave-one-out): ${head.images} images of ${head.classes} classes, ${metrics ? `${dim}-dimensional` : `${dim}-bit codes`} — ${source}`,
    `metric: ${metrics ? o.metric : 'hamming'}, AP: ${o.ap}, ${seconds.toFixed(2)} s${head.skippedQueries ? `; ${head.skippedQueries} image(s) alone in their class skipped as queries` : ''}`,
    ...(metrics ? figures(metrics) : []),
    ...(metrics?.nmi == null ? [] : [`NMI       ${metrics.nmi.toFixed(4)} (k-means, K=${metrics.classes}, seed ${o.seed})`]),
    ...(hamming === null ? [] : [...(metrics ? [`Hamming distance on the ${hamming.bits}-bit sign codes:`] : []), ...figures(hamming)]),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
