/** Triplet loss with batch-hard mining (Hermans, Beyer & Leibe 2017, "In Defense of the Triplet Loss"). */
import { tf } from '../backend/tf.js';
import type { LossValue } from './loss-value.js';
import { FAR, pairMasks, prepareBatch, rowHasAny } from './pair-masks.js';
import { pairwiseDistances } from './pairwise-distances.js';
import { checkMargin, meanOverValidAnchors, tripletTerm, type TripletMargin } from './triplet-margin.js';

/** Options of tripletBatchHard. */
export interface TripletBatchHardOptions {
  /** Hinge margin m ≥ 0 or 'soft' (softplus, Hermans et al.'s preferred variant). Default 0.3 (torchreid, fast-reid). */
  readonly margin?: TripletMargin;
  /** L2-normalise the rows first. Default false: Hermans et al., torchreid and fast-reid use the raw embedding. */
  readonly normalize?: boolean;
}

/**
 * For each anchor a: its farthest positive and its nearest negative in the batch, on Euclidean distances,
 *   ℓ_a = max(0, max_{p∈P(a)} d_ap − min_{n∈N(a)} d_an + m)   (or softplus(·) without m for 'soft');
 * the loss is the mean of ℓ_a over the anchors that have both a positive (same label, another row) and a
 * negative. An anchor without a positive (its identity once in the batch) or without a negative (a batch
 * of one identity) contributes nothing and is not counted; a batch with no such anchor gives loss 0 and
 * activeShare 0. `activeShare` = share of the counted anchors with ℓ_a > 0 (always 1 with 'soft', whose
 * softplus is never 0); `perAnchor` = ℓ_a (0 for uncounted rows). Batches should come from a P×K sampler.
 *
 * @example
 * ```ts
 * // 1-D points 0, 1 | 3, 5 with m = 0.5: only anchor 3 violates (d_ap 2, d_an 2) → 0.5 / 4
 * const { loss } = tripletBatchHard(tf.tensor2d([[0], [1], [3], [5]]), tf.tensor1d([0, 0, 1, 1], 'int32'), { margin: 0.5 });
 * ```
 */
export function tripletBatchHard(embeddings: tf.Tensor2D, labels: tf.Tensor1D, opts: TripletBatchHardOptions = {}): LossValue {
  const margin = opts.margin ?? 0.3;
  checkMargin(margin, 'tripletBatchHard');
  return tf.tidy(() => {
    const d = pairwiseDistances(prepareBatch(embeddings, labels, opts.normalize ?? false, 'tripletBatchHard'));
    const { positive, negative } = pairMasks(labels);
    // d ≥ 0, so 0 in the masked entries never wins the max over a row that has a positive
    const hardestPositive = tf.max(tf.where(positive, d, tf.zerosLike(d)), 1);
    const hardestNegative = tf.min(tf.where(negative, d, tf.fill(d.shape, FAR)), 1);
    const valid = tf.mul<tf.Tensor1D>(rowHasAny(positive), rowHasAny(negative));
    return meanOverValidAnchors(tripletTerm(hardestPositive, hardestNegative, margin) as tf.Tensor1D, valid);
  });
}
