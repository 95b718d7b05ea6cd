/**
 * A model's figures on the target test split (Market-1501 protocol, cosine distance): mAP, CMC,
 * mINP, and optionally NMI of k-means on the test embeddings (K = the number of test identities).
 */
import { PulError } from '../core/errors.js';
import type { ProgressSink } from '../core/progress.js';
import { Rng } from '../core/random.js';
import type { Normalization, ImageReader } from '../datasets/images.js';
import type { Sample } from '../datasets/sample.js';
import { extractFeatureFolder } from '../features/extract-folder.js';
import type { FeatureFolder } from '../features/features-npy.js';
import { featureMatrix, l2Normalize, type FeatureMatrix } from '../features/feature-matrix.js';
import { extractFeatures } from '../features/extract-features.js';
import { kmeans } from '../clustering/kmeans.js';
import { evaluateFeatures, type EvaluateOptions } from '../evaluation/evaluate.js';
import type { RankReport } from '../evaluation/rank.js';
import { normalizedMutualInformation } from '../evaluation/cluster-metrics.js';
import { evaluateAllVsAll, type AllVsAllOptions, type AllVsAllReport } from '../evaluation/all-vs-all.js';
import type { ReidModel } from '../model/build-model.js';

/** A model's test figures as runs record them. */
export interface TestMetrics {
  readonly mAP: number;
  readonly rank1: number;
  readonly rank5: number;
  readonly rank10: number;
  readonly mINP: number;
  readonly validQueries: number;
  /** NMI of k-means (K = test identities) on the query + gallery embeddings against their ids. */
  readonly nmi?: number;
}

/** Options of evaluateModel. */
export interface EvaluateModelOptions {
  readonly normalization: Normalization;
  readonly reader?: ImageReader;
  readonly nmi?: boolean;
  readonly seed?: number;
  readonly signal?: AbortSignal;
  readonly progress?: ProgressSink;
}

/** Options of rankModel: evaluateFeatures' options plus how images are read. */
export interface RankModelOptions extends EvaluateOptions {
  /** As the model was trained (its checkpoint's manifest says which). */
  readonly normalization: Normalization;
  readonly reader?: ImageReader;
  /** How errors name the two sets (default query, gallery). */
  readonly sources?: { readonly query: string; readonly gallery: string };
  readonly signal?: AbortSignal;
  readonly progress?: ProgressSink;
}

/**
 * Embeds the query and gallery images with `model` and ranks them (Market-1501 protocol by default;
 * metric, ranks, AP, camera filter and re-ranking from `opts`). Returns the report and both feature sets.
 * @example const { report } = await rankModel(model, samplesOf(ds, 'query'), samplesOf(ds, 'gallery'), { normalization: 'imagenet' });
 */
export async function rankModel(model: ReidModel, query: readonly Sample[], gallery: readonly Sample[], opts: RankModelOptions): Promise<{ report: RankReport; query: FeatureFolder; gallery: FeatureFolder }> {
  const { normalization, reader, sources, signal, progress, ...evaluate } = opts;
  const extract = { normalize: normalization, ...(reader ? { reader } : {}) };
  const ctx = { ...(signal ? { signal } : {}), ...(progress ? { progress } : {}) };
  const q = await extractFeatureFolder(model, query, extract, ctx);
  const g = await extractFeatureFolder(model, gallery, extract, ctx);
  return { report: evaluateFeatures(q, g, evaluate, sources ?? { query: 'query', gallery: 'gallery' }), query: q, gallery: g };
}

/** mAP, rank-1/5/10 and mINP of `model` on the test split, and optionally NMI of k-means on the test embeddings. */
export async function evaluateModel(model: ReidModel, query: readonly Sample[], gallery: readonly Sample[], opts: EvaluateModelOptions): Promise<TestMetrics> {
  const { report, query: q, gallery: g } = await rankModel(model, query, gallery, {
    normalization: opts.normalization,
    ranks: [1, 5, 10],
    ...(opts.reader ? { reader: opts.reader } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  });
  const metrics: TestMetrics = { mAP: report.mAP, rank1: report.cmc[0]!, rank5: report.cmc[1]!, rank10: report.cmc[2]!, mINP: report.mINP, validQueries: report.validQueries };
  if (!opts.nmi) return metrics;
  const dim = q.features.dim;
  const all = featureMatrix(q.features.rows + g.features.rows, dim);
  all.data.set(q.features.data, 0);
  all.data.set(g.features.data, q.features.data.length);
  const truth = Int32Array.from([...query, ...gallery], (s) => s.pid ?? -1);
  return { ...metrics, nmi: kmeansNmi(all, truth, opts.seed ?? 0) };
}

/** NMI of k-means (K = the number of distinct labels, k-means++ seeded by `seed`) of `x` against `truth`. */
function kmeansNmi(x: FeatureMatrix, truth: Int32Array, seed: number): number {
  const clustering = kmeans(x, { k: new Set(truth).size, restarts: 1 }, new Rng(seed));
  return normalizedMutualInformation(truth, clustering.assignment);
}

/** The all-vs-all figures: Recall@K and mAP, and NMI of k-means (null when not asked for). */
export interface AllVsAllMetrics extends AllVsAllReport {
  readonly nmi: number | null;
}

/** Options of allVsAllMetrics: the retrieval's, plus the k-means seed and whether to cluster at all. */
export interface AllVsAllMetricsOptions extends AllVsAllOptions {
  /** k-means++ seed of the NMI clustering (default 0). */
  readonly seed?: number;
  /** Cluster for NMI (default true). */
  readonly nmi?: boolean;
}

/**
 * The metric-learning protocol on a labelled set of unseen classes: leave-one-out Recall@K and mAP
 * (evaluateAllVsAll), and NMI of k-means with K = the number of classes on the same features
 * (L2-normalised under the cosine metric, as they are ranked). `source` names the set in errors.
 * @example
 * const m = allVsAllMetrics(features, labels, { ks: [1, 2, 4, 8], seed: 0 });
 * console.log(m.recall[0], m.mAP, m.nmi);
 */
export function allVsAllMetrics(features: FeatureMatrix, labels: Int32Array, opts: AllVsAllMetricsOptions = {}, source = 'features'): AllVsAllMetrics {
  const report = evaluateAllVsAll(features, labels, opts, source);
  if (opts.nmi === false) return { ...report, nmi: null };
  const x = (opts.metric ?? 'cosine') === 'cosine' ? l2Normalize(features) : features;
  return { ...report, nmi: kmeansNmi(x, labels, opts.seed ?? 0) };
}

/** The class (pid) of every sample; `source` names the set when one has none. */
export function classLabels(samples: readonly Pick<Sample, 'path' | 'pid'>[], source: string): Int32Array {
  return Int32Array.from(samples, (s, i) => {
    if (s.pid === null) throw new PulError('dataset.unlabelled', `${source}: image ${i} (${s.path}) has no label; the all-vs-all protocol needs the class of every image`, { file: source });
    return s.pid;
  });
}

/**
 * The all-vs-all figures of a model's embeddings of `samples` (e.g. heldOutSamples of a data set
 * restricted to classes unseen in training), and the embeddings.
 * @example const { metrics } = await modelAllVsAll(model, heldOutSamples(ds), { normalization: 'unit' });
 */
export async function modelAllVsAll(
  model: ReidModel,
  samples: readonly Sample[],
  opts: AllVsAllMetricsOptions & { readonly normalization: Normalization; readonly reader?: ImageReader; readonly source?: string; readonly signal?: AbortSignal; readonly progress?: ProgressSink },
): Promise<{ metrics: AllVsAllMetrics; features: FeatureMatrix }> {
  const { normalization, reader, source, signal, progress, ...metricOptions } = opts;
  const labels = classLabels(samples, source ?? 'samples');
  const ctx = { ...(signal ? { signal } : {}), ...(progress ? { progress } : {}) };
  const features = await extractFeatures(model, samples, { normalize: normalization, ...(reader ? { reader } : {}) }, ctx);
  return { metrics: allVsAllMetrics(features, labels, metricOptions, source), features };
}
