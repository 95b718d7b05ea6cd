/**
 * Lifted structured loss (Oh Song, Xiang, Jegelka & Savarese, CVPR 2016): every positive pair of the
 * batch against all the negatives of both its members at once, on Euclidean distances.
 */
import { tf } from '../backend/tf.js';
import type { LossValue } from './loss-value.js';
import { FAR, checkNumber, pairMasks, prepareBatch, rowHasAny } from './pair-masks.js';
import { pairwiseDistances } from './pairwise-distances.js';

/** Options of liftedStructuredLoss. */
export interface LiftedOptions {
  /** Margin α ≥ 0. Default 1 (the paper; also TensorFlow's `lifted_struct_loss`). */
  readonly margin?: number;
  /** L2-normalise the rows first. Default false: the paper's equations act on the raw embedding (TensorFlow's implementation asks for it unnormalised). */
  readonly normalize?: boolean;
}

/**
 * For each positive pair (i, j), i < j (paper eq. 4):
 *   J_ij = log( Σ_{k∈N(i)} e^{α − D_ik} + Σ_{l∈N(j)} e^{α − D_jl} ) + D_ij,
 * computed as a log-sum-exp shifted by its largest exponent (no overflow or log 0); the loss is
 * Σ max(0, J_ij)² / (2·|P|) over the set P of positive pairs that have negatives. A batch without a
 * positive pair (all labels distinct) or without a negative (one identity) gives 0 and activeShare 0.
 * activeShare = share of the pairs of P with J_ij > 0.
 *
 * @example
 * ```ts
 * // points 0, 1 | 3, one positive pair: J = log(e^{1−3} + e^{1−2}) + 1 = 0.313262 → loss J²/2
 * liftedStructuredLoss(tf.tensor2d([[0], [1], [3]]), tf.tensor1d([0, 0, 1], 'int32'), { margin: 1 });
 * ```
 */
export function liftedStructuredLoss(embeddings: tf.Tensor2D, labels: tf.Tensor1D, opts: LiftedOptions = {}): LossValue {
  const margin = opts.margin ?? 1;
  checkNumber(margin, 'margin', 'liftedStructuredLoss');
  return tf.tidy(() => {
    const n = labels.shape[0];
    const d = pairwiseDistances(prepareBatch(embeddings, labels, opts.normalize ?? false, 'liftedStructuredLoss'));
    const { positive, negative } = pairMasks(labels);
    // per row i: the largest exponent over its negatives, and Σ_k e^{α − D_ik − max_i}
    const exponents = tf.where(negative, tf.sub(margin, d), tf.fill(d.shape, -FAR));
    const rowMax = tf.max(exponents, 1);
    const rowSum = tf.sum(tf.mul(tf.exp(tf.sub(exponents, tf.expandDims(rowMax, 1))), tf.cast(negative, 'float32')), 1);
    // N×N both, not broadcast: tfjs's Maximum gradient does not reduce a broadcast input back to its shape
    const mi = tf.tile(tf.expandDims(rowMax, 1), [1, n]);
    const mj = tf.transpose(mi);
    const pairMax = tf.maximum(mi, mj);
    const pairSum = tf.add(tf.mul(tf.exp(tf.sub(mi, pairMax)), tf.expandDims(rowSum, 1)), tf.mul(tf.exp(tf.sub(mj, pairMax)), tf.expandDims(rowSum, 0)));
    const upper = tf.cast(tf.linalg.bandPart(tf.ones([n, n], 'int32'), 0, -1), 'bool');
    const hasNegative = rowHasAny(negative);
    const pairs = tf.mul(tf.cast(tf.logicalAnd(positive, upper), 'float32'), tf.expandDims(hasNegative, 1));
    // pairs outside P have pairSum 0 when no row has a negative: log(1) there, masked out below
    const j = tf.add(tf.add(pairMax, tf.log(tf.where(tf.cast(pairs, 'bool'), pairSum, tf.onesLike(pairSum)))), d);
    const terms = tf.mul(tf.square(tf.relu(j)), pairs);
    const count = tf.sum(pairs);
    return {
      loss: tf.div<tf.Scalar>(tf.sum(terms), tf.maximum(tf.mul(count, 2), 1)),
      activeShare: tf.div<tf.Scalar>(tf.sum(tf.cast(tf.greater(terms, 0), 'float32')), tf.maximum(count, 1)),
    };
  });
}
