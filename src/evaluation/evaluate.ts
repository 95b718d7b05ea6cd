/**
 * Re-ID evaluation from features: distances in bounded blocks, then the Market-1501 metrics.
 */
import { PulError } from '../core/errors.js';
import { l2Normalize, type FeatureMatrix } from '../features/feature-matrix.js';
import type { IndexRow } from '../features/features-npy.js';
import type { PackedCodes } from '../features/binary-codes.js';
import { distanceBlocks, type DistanceMetric } from './distance.js';
import { rankCodes, type HammingOptions } from './hamming.js';
import { rerankedDistanceBlocks } from './rerank.js';
import { RankAccumulator, type Labels, type RankOptions, type RankReport } from './rank.js';

/** Features with the pid and camera of each row (a FeatureFolder is one). */
export interface LabelledFeatures {
  readonly features: FeatureMatrix;
  readonly index: readonly IndexRow[];
}

/** Options of evaluateFeatures: metric, ranks, AP definition, camera filter, re-ranking. */
export interface EvaluateOptions extends RankOptions {
  /** Default 'cosine' (on L2-normalised features). */
  readonly metric?: DistanceMetric;
  readonly budgetFloats?: number;
  /** k-reciprocal re-ranking (Zhong et al. 2017) with these parameters (defaults k1 20, k2 6, λ 0.3). */
  readonly rerank?: { readonly k1?: number; readonly k2?: number; readonly lambda?: number };
}

/** pids and camids of a feature set; every row must have a pid. `source` names it in errors. */
export function labelsOf(index: readonly IndexRow[], source: string): Labels {
  const pids = new Int32Array(index.length);
  const camids = new Int32Array(index.length);
  index.forEach((row, i) => {
    if (row.pid === null) throw new PulError('features.malformed', `${source}: row ${i + 2} (${row.path}) has no pid; evaluation needs the identity of every image`, { file: source, line: i + 2 });
    pids[i] = row.pid;
    camids[i] = row.camid;
  });
  return { pids, camids };
}

/**
 * Market-1501 evaluation of query features against gallery features (PROTOCOLS.md): distances in
 * bounded blocks (cosine on L2-normalised rows by default), then mAP, CMC at `ranks`, mINP and the
 * valid / skipped query counts. `sources` names the two sets in error messages (e.g. their folders).
 * Throws `features.mismatch` for different dimensions or when no query has a valid true match.
 * @example
 * const query = await readFeatureFolder('out/query');
 * const gallery = await readFeatureFolder('out/gallery');
 * const report = evaluateFeatures(query, gallery, { ranks: [1, 5], ap: 'standard' });
 * console.log(report.mAP, report.cmc[0]);
 */
export function evaluateFeatures(query: LabelledFeatures, gallery: LabelledFeatures, options: EvaluateOptions = {}, sources = { query: 'query', gallery: 'gallery' }): RankReport {
  if (query.features.dim !== gallery.features.dim) {
    throw new PulError('features.mismatch', `${sources.query} has ${query.features.dim}-dimensional features, ${sources.gallery} ${gallery.features.dim}-dimensional`, { file: sources.gallery });
  }
  const metric = options.metric ?? 'cosine';
  const qf = metric === 'cosine' ? l2Normalize(query.features) : query.features;
  const gf = metric === 'cosine' ? l2Normalize(gallery.features) : gallery.features;
  const budget = options.budgetFloats ? { budgetFloats: options.budgetFloats } : {};
  return rankWith(query.index, gallery.index, options, sources, (accumulator, q) => {
    const blocks = options.rerank ? rerankedDistanceBlocks(qf, gf, { ...options.rerank, metric, ...budget }) : distanceBlocks(qf, gf, { metric, ...budget });
    const G = gf.rows;
    for (const block of blocks) {
      for (let i = 0; i < block.rows; i++) {
        const qi = block.first + i;
        accumulator.addQuery(qi, block.data.subarray(i * G, (i + 1) * G), q.pids[qi]!, q.camids[qi]!);
      }
    }
  });
}

/** Binary codes with the pid and camera of each row (codes.bin + index.csv of a feature folder). */
export interface LabelledCodes {
  readonly codes: PackedCodes;
  readonly index: readonly IndexRow[];
}

/**
 * Market-1501 evaluation of query codes against gallery codes by Hamming distance (XOR + popcount of
 * 64-bit words; native when the addon is loaded). Ties in distance — frequent with short codes — go
 * to the lower gallery index, as with float features (PROTOCOLS.md), so the ranking is deterministic.
 * @example
 * const report = evaluateCodes({ codes: await readCodes('out/query/codes.bin'), index: q.index }, { codes: g, index: g.index });
 */
export function evaluateCodes(query: LabelledCodes, gallery: LabelledCodes, options: RankOptions & HammingOptions = {}, sources = { query: 'query', gallery: 'gallery' }): RankReport {
  if (query.codes.bits !== gallery.codes.bits) {
    throw new PulError('features.mismatch', `${sources.query} has ${query.codes.bits}-bit codes, ${sources.gallery} ${gallery.codes.bits}-bit`, { file: sources.gallery });
  }
  return rankWith(query.index, gallery.index, options, sources, (accumulator, q, g) => rankCodes(query.codes, gallery.codes, q, g, accumulator, options));
}

/** Market-1501 metrics: `feed` adds every query to the accumulator, after the labels and ranks are checked. */
export function rankWith(
  queryIndex: readonly IndexRow[], galleryIndex: readonly IndexRow[], options: RankOptions, sources: { query: string; gallery: string },
  feed: (accumulator: RankAccumulator, query: Labels, gallery: Labels) => void,
): RankReport {
  const ranks = options.ranks ?? [1, 5, 10, 20];
  for (const k of ranks) {
    if (!Number.isInteger(k) || k < 1) throw new PulError('option.invalid', `rank ${k} is not a whole number ≥ 1`, { option: 'evaluation.ranks' });
  }
  const q = labelsOf(queryIndex, sources.query);
  const g = labelsOf(galleryIndex, sources.gallery);
  const accumulator = new RankAccumulator(g, { ...options, ranks });
  feed(accumulator, q, g);
  const report = accumulator.report();
  if (report.validQueries === 0) {
    throw new PulError('features.mismatch', `no query of ${sources.query} has a true match in ${sources.gallery} from another camera; nothing to evaluate`, { file: sources.query });
  }
  return report;
}
