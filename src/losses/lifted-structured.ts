/**
 * Lifted structured loss (Oh Song et al., CVPR 2016): every positive pair of the batch against all the
 * negatives of both its members at once, on Euclidean distances.
 */
import { tf } from '../backend/tf.js';
import { pairwiseDistances } from './triplet.js';

/** Options of liftedStructuredLoss (margin). */
export interface LiftedOptions {
  /** Margin α; default 1 (the paper). */
  readonly margin?: number;
}

/**
 * For each positive pair (i, j), i < j: J = log(Σ_{k∉y_i} e^{α − D_ik} + Σ_{l∉y_j} e^{α − D_jl}) + D_ij;
 * the loss is Σ max(0, J)² / (2·|pairs|). A batch without a positive pair gives 0.
 *
 * @example
 * ```ts
 * liftedStructuredLoss(tf.tensor2d([[0], [1], [3]]), tf.tensor1d([0, 0, 1], 'int32'), { margin: 1 });
 * ```
 */
export function liftedStructuredLoss(embeddings: tf.Tensor2D, labels: tf.Tensor1D, opts: LiftedOptions = {}): tf.Scalar {
  const margin = opts.margin ?? 1;
  return tf.tidy(() => {
    const n = embeddings.shape[0];
    const d = pairwiseDistances(embeddings);
    const l = tf.cast(labels, 'int32');
    const same = tf.cast(tf.equal(tf.expandDims(l, 1), tf.expandDims(l, 0)), 'float32');
    const negative = tf.sub(1, same);
    // per row: Σ over its negatives of e^{α − D}; e^{α − D} ≤ e^α, so no overflow
    const negSum = tf.sum(tf.mul(tf.exp(tf.sub(margin, d)), negative), 1);
    const pairSum = tf.add(tf.expandDims(negSum, 1), tf.expandDims(negSum, 0));
    // 1e-12: a pair whose members have no negative gets log ≈ −27.6, not log 0 (NaN gradient)
    const j = tf.add(tf.log(tf.add(pairSum, 1e-12)), d);
    const upper = tf.linalg.bandPart(tf.ones([n, n]), 0, -1).sub(tf.eye(n));
    const positivePairs = tf.mul(same, upper);
    const count = tf.sum(positivePairs);
    const total = tf.sum(tf.mul(tf.square(tf.relu(j)), positivePairs));
    return tf.div<tf.Scalar>(total, tf.maximum(tf.mul(count, 2), 1));
  });
}
