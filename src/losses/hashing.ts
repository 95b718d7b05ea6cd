/**
 * Deep Supervised Hashing loss (Liu et al., CVPR 2016, eq. 2–4) for a B-bit tanh head, plus a bit-balance
 * term: similar pairs are pulled together, dissimilar ones pushed apart until their squared distance
 * reaches the margin m (DSH: m = 2B), the outputs are drawn towards ±1 (the quantisation regulariser,
 * so that sign() loses little), and each bit's batch mean is drawn towards 0 (balanced bits carry the
 * most information; as in the bit-balance terms of later hashing work).
 */
import { tf } from '../backend/tf.js';
import type { LossValue } from './loss-value.js';
import { checkNumber, pairMasks, prepareBatch } from './pair-masks.js';
import { pairwiseSquaredDistances } from './pairwise-distances.js';

/** Weights and margin of hashingLoss. */
export interface HashingLossOptions {
  /** Margin on the squared distance of dissimilar pairs; default 2B (DSH). */
  readonly margin?: number;
  /** Weight α of the quantisation term; default 0.01 (DSH). */
  readonly alpha?: number;
  /** Weight β of the bit-balance term; default 0.01. */
  readonly beta?: number;
}

/**
 * With b_i the N×B codes (real-valued, tanh outputs) and d_ij = ‖b_i − b_j‖²:
 *   pairs      mean over the N(N−1) ordered pairs i ≠ j of  ½·d_ij (same label)  or  ½·max(m − d_ij, 0) (different)
 *   quantise   α · mean over rows of ‖|b_i| − 1‖₁
 *   balance    β · Σ_k (mean_i b_ik)²
 * A batch of one row has no pair (that term is 0); a batch of one identity only pulls together and
 * one without positives only pushes apart. `activeShare` is the share of pairs with a non-zero pair term.
 *
 * @example
 * ```ts
 * const { loss } = hashingLoss(tf.tensor2d([[1, 1], [1, -1]]), tf.tensor1d([0, 0], 'int32'), { alpha: 0, beta: 0 });
 * // one similar pair at squared distance 4: ½ · 4 = 2
 * ```
 */
export function hashingLoss(codes: tf.Tensor2D, labels: tf.Tensor1D, opts: HashingLossOptions = {}): LossValue {
  const [n, bits] = codes.shape;
  const margin = opts.margin ?? 2 * bits;
  const alpha = opts.alpha ?? 0.01;
  const beta = opts.beta ?? 0.01;
  checkNumber(margin, 'margin', 'hashingLoss');
  checkNumber(alpha, 'alpha', 'hashingLoss');
  checkNumber(beta, 'beta', 'hashingLoss');
  const pairs = n * (n - 1);
  const [loss, activeShare] = tf.tidy(() => {
    const b = prepareBatch(codes, labels, false, 'hashingLoss');
    const d = pairwiseSquaredDistances(b);
    const { positive, negative } = pairMasks(labels);
    const perPair = tf.add(tf.mul(tf.cast(positive, 'float32'), d), tf.mul(tf.cast(negative, 'float32'), tf.relu(tf.sub(margin, d))));
    const pairTerm = pairs === 0 ? tf.scalar(0) : tf.div(tf.mul(tf.sum(perPair), 0.5), pairs);
    const quantise = tf.mul(tf.mean(tf.sum(tf.abs(tf.sub(tf.abs(b), 1)), 1)), alpha);
    const balance = tf.mul(tf.sum(tf.square(tf.mean(b, 0))), beta);
    const active = pairs === 0 ? tf.scalar(0) : tf.div(tf.sum(tf.cast(tf.greater(perPair, 0), 'float32')), pairs);
    return [tf.addN([pairTerm, quantise, balance]) as tf.Scalar, active as tf.Scalar];
  });
  return { loss, activeShare };
}
