/**
 * A model's figures on the target test split (Market-1501 protocol, cosine distance): mAP, CMC,
 * mINP, and optionally NMI of k-means on the test embeddings (K = the number of test identities).
 */
import type { ProgressSink } from '../core/progress.js';
import { Rng } from '../core/random.js';
import type { Normalization, ImageReader } from '../datasets/images.js';
import type { Sample } from '../datasets/sample.js';
import { extractFeatureFolder } from '../features/extract-folder.js';
import type { FeatureFolder } from '../features/features-npy.js';
import { featureMatrix } from '../features/feature-matrix.js';
import { kmeans } from '../clustering/kmeans.js';
import { evaluateFeatures, type EvaluateOptions } from '../evaluation/evaluate.js';
import type { RankReport } from '../evaluation/rank.js';
import { normalizedMutualInformation } from '../evaluation/cluster-metrics.js';
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
  const extract = { batchSize: 256, normalize: normalization, ...(reader ? { reader } : {}) };
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
  const k = new Set(truth).size;
  const clustering = kmeans(all, { k, restarts: 1 }, new Rng(opts.seed ?? 0));
  return { ...metrics, nmi: normalizedMutualInformation(truth, clustering.assignment) };
}
