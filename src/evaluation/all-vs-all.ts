/**
 * The deep-metric-learning retrieval protocol (Song et al. 2016, "lifted structured"; Musgrave et al.
 * 2020): one labelled set of classes unseen in training, every image a query against all the others
 * (leave-one-out). Recall@K: share of queries with a same-class image among their K nearest; mAP:
 * every other same-class image relevant.
 *
 * This is the Market-1501 ranking of rank.ts with the set as its own gallery and each image its own
 * "camera": the same-camera filter then removes exactly the query itself, so CMC@K is Recall@K and
 * the AP is the leave-one-out AP — no second ranking code, and the distances come in bounded blocks
 * (distance.ts), so 10 000 images never need a 10 000² matrix at once.
 */
import { PulError } from '../core/errors.js';
import { l2Normalize, type FeatureMatrix } from '../features/feature-matrix.js';
import type { PackedCodes } from '../features/binary-codes.js';
import { distanceBlocks, type DistanceBlock, type DistanceMetric } from './distance.js';
import { hammingDistanceBlocks, type HammingPath } from './hamming.js';
import { RankAccumulator, type ApDefinition, type RankReport } from './rank.js';

/** Options of evaluateAllVsAll. */
export interface AllVsAllOptions {
  /** Default 'cosine' (the rows are L2-normalised first). */
  readonly metric?: DistanceMetric;
  /** Recall@K at these K (default 1, 2, 4, 8). */
  readonly ks?: readonly number[];
  /** Default 'standard' (mean precision at each relevant image). */
  readonly ap?: ApDefinition;
  /** Largest number of distances held at once (distance.ts; default 16 Mi). */
  readonly budgetFloats?: number;
}

/**
 * Recall@K and mAP of a leave-one-out retrieval, and the queries counted (an image alone in its class
 * has nothing to retrieve and is skipped).
 */
export interface AllVsAllReport extends Pick<RankReport, 'mAP' | 'validQueries' | 'skippedQueries'> {
  readonly images: number;
  readonly classes: number;
  readonly ks: readonly number[];
  /** Recall@K for each of `ks`, same order, in [0, 1]. */
  readonly recall: readonly number[];
}

/** The default Recall@K ranks of the metric-learning literature. */
export const RECALL_KS: readonly number[] = Object.freeze([1, 2, 4, 8]);

/**
 * Leave-one-out Recall@K and mAP of `features` (rows × dim) labelled by `labels` (one class ≥ 0 per
 * row). `source` names the set in errors. Ties in distance go to the lower row index.
 * @example
 * const r = evaluateAllVsAll(featureMatrix(4, 1, Float32Array.of(0, 0.1, 5, 5.1)), Int32Array.of(0, 0, 1, 1));
 * r.recall[0]; // 1: each point's nearest other point is of its class
 */
export function evaluateAllVsAll(features: FeatureMatrix, labels: Int32Array, options: AllVsAllOptions = {}, source = 'features'): AllVsAllReport {
  if (labels.length !== features.rows) throw new PulError('features.mismatch', `${source}: ${features.rows} feature rows for ${labels.length} labels`, { file: source });
  const metric = options.metric ?? 'cosine';
  const x = metric === 'cosine' ? l2Normalize(features) : features;
  return rankAllVsAll(labels, options, source, () => distanceBlocks(x, x, { metric, ...(options.budgetFloats ? { budgetFloats: options.budgetFloats } : {}) }));
}

/**
 * The same protocol on binary codes (codes.bin, packSigns): Hamming distances by XOR + popcount, ties
 * to the lower row index — the retrieval a hash head is trained for.
 * @example
 * evaluateCodesAllVsAll(packSigns(features), labels).recall[0]; // Recall@1 by Hamming distance
 */
export function evaluateCodesAllVsAll(codes: PackedCodes, labels: Int32Array, options: Pick<AllVsAllOptions, 'ks' | 'ap' | 'budgetFloats'> & { readonly path?: HammingPath } = {}, source = 'codes'): AllVsAllReport {
  if (labels.length !== codes.rows) throw new PulError('features.mismatch', `${source}: ${codes.rows} code rows for ${labels.length} labels`, { file: source });
  const hamming = { ...(options.path ? { path: options.path } : {}), ...(options.budgetFloats ? { budgetFloats: options.budgetFloats } : {}) };
  return rankAllVsAll(labels, options, source, () => hammingDistanceBlocks(codes, codes, hamming));
}

/** Leave-one-out Recall@K and mAP from the set × set distance blocks (query rows in order); `blocks` runs after the checks. */
function rankAllVsAll(labels: Int32Array, options: Pick<AllVsAllOptions, 'ks' | 'ap'>, source: string, blocks: () => Iterable<DistanceBlock>): AllVsAllReport {
  const ks = options.ks ?? RECALL_KS;
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1) throw new PulError('option.invalid', `Recall@K: K=${k} is not a whole number ≥ 1`, { option: 'evaluation.ranks' });
  }
  labels.forEach((label, i) => {
    if (!(label >= 0)) throw new PulError('features.malformed', `${source}: row ${i} has class ${label}; the all-vs-all protocol needs a class ≥ 0 for every image`, { file: source, row: i });
  });
  const n = labels.length;
  const self = Int32Array.from({ length: n }, (_, i) => i); // each image its own camera
  const accumulator = new RankAccumulator({ pids: labels, camids: self }, { ranks: ks, ap: options.ap ?? 'standard', removeSameCamera: true });
  for (const block of blocks()) {
    for (let i = 0; i < block.rows; i++) {
      const q = block.first + i;
      accumulator.addQuery(q, block.data.subarray(i * n, (i + 1) * n), labels[q]!, q);
    }
  }
  const r = accumulator.report();
  if (r.validQueries === 0) throw new PulError('features.mismatch', `${source}: no class has two images; nothing to retrieve`, { file: source });
  return { images: n, classes: new Set(labels).size, ks: [...ks], recall: r.cmc, mAP: r.mAP, validQueries: r.validQueries, skippedQueries: r.skippedQueries };
}
