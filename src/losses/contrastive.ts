/** Contrastive loss (Hadsell, Chopra & LeCun, CVPR 2006) over all the pairs of a labelled batch. */
import { tf } from '../backend/tf.js';
import type { LossValue } from './loss-value.js';
import { checkNumber, pairMasks, prepareBatch } from './pair-masks.js';
import { pairwiseDistances, pairwiseSquaredDistances } from './pairwise-distances.js';

/** Options of contrastiveLoss. */
export interface ContrastiveOptions {
  /** Margin m ≥ 0 past which a negative pair costs nothing. Default 1 (pytorch-metric-learning's neg_margin; half the diameter of the unit sphere). */
  readonly margin?: number;
  /** L2-normalise the rows first. Default true: with raw embeddings a net can meet any margin by scaling up; Hadsell et al. bounded their output instead. */
  readonly normalize?: boolean;
}

/**
 * Hadsell et al.'s pair loss, positives pulled to distance 0 and negatives pushed past the margin:
 *   positive pair (same label, i ≠ j): ½·D_ij²      negative pair: ½·max(0, m − D_ij)²
 * on Euclidean distances D. The loss is the mean over the positive pairs plus the mean over the negative
 * pairs, each half over its own pairs: Hadsell et al. fed pairs drawn in balance, while a P×K batch
 * holds K − 1 positives per anchor against N − K negatives. A half with no pair (a batch of one identity
 * has no negative; a batch of distinct labels no positive) is 0. activeShare = share of all the pairs
 * whose term is > 0 (0 with no pair).
 *
 * @example
 * ```ts
 * // 1-D points 0, 1 | 1.5, margin 1, not normalised: positive ½·1² = 0.5; negatives ½·(1 − 1.5)₊² = 0 and ½·0.5² → mean 0.0625
 * contrastiveLoss(tf.tensor2d([[0], [1], [1.5]]), tf.tensor1d([0, 0, 1], 'int32'), { normalize: false }); // 0.5625
 * ```
 */
export function contrastiveLoss(embeddings: tf.Tensor2D, labels: tf.Tensor1D, opts: ContrastiveOptions = {}): LossValue {
  const margin = opts.margin ?? 1;
  checkNumber(margin, 'margin', 'contrastiveLoss');
  return tf.tidy(() => {
    const x = prepareBatch(embeddings, labels, opts.normalize ?? true, 'contrastiveLoss');
    const { positive, negative } = pairMasks(labels);
    const pos = tf.cast(positive, 'float32');
    const neg = tf.cast(negative, 'float32');
    const positiveTerms = tf.mul(tf.mul(pairwiseSquaredDistances(x), 0.5), pos);
    const negativeTerms = tf.mul(tf.mul(tf.square(tf.relu(tf.sub(margin, pairwiseDistances(x)))), 0.5), neg);
    const positiveCount = tf.sum(pos);
    const negativeCount = tf.sum(neg);
    const loss = tf.add(tf.div(tf.sum(positiveTerms), tf.maximum(positiveCount, 1)), tf.div(tf.sum(negativeTerms), tf.maximum(negativeCount, 1)));
    const active = tf.add(tf.sum(tf.cast(tf.greater(positiveTerms, 0), 'float32')), tf.sum(tf.cast(tf.greater(negativeTerms, 0), 'float32')));
    return { loss: loss as tf.Scalar, activeShare: tf.div<tf.Scalar>(active, tf.maximum(tf.add(positiveCount, negativeCount), 1)) };
  });
}
