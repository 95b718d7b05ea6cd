/** Triplet loss with batch-hard mining (Hermans et al. 2017), on Euclidean distances. */
import { tf } from '../backend/tf.js';

/** Options of tripletBatchHard (margin). */
export interface TripletOptions {
  /** Margin m of max(0, d(a,p) − d(a,n) + m); default 0.3 (torchreid). */
  readonly margin?: number;
}

/** Pairwise Euclidean distances of the rows (N×N), with a small floor so the gradient at 0 is finite. */
export function pairwiseDistances(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(x), 1, true);
    const d2 = tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(tf.matMul(x, x, false, true), 2));
    return tf.sqrt(tf.maximum(d2, 1e-12)) as tf.Tensor2D;
  });
}

/**
 * For each anchor, its farthest positive and nearest negative in the batch; mean hinge over anchors.
 * Anchors without a positive or a negative in the batch contribute max(0, m) terms from masked values,
 * so batches should come from a P×K identity sampler.
 */
export function tripletBatchHard(embeddings: tf.Tensor2D, labels: tf.Tensor1D, opts: TripletOptions = {}): tf.Scalar {
  const margin = opts.margin ?? 0.3;
  return tf.tidy(() => {
    const d = pairwiseDistances(embeddings);
    const l = tf.cast(labels, 'int32');
    const same = tf.cast(tf.equal(tf.expandDims(l, 1), tf.expandDims(l, 0)), 'float32');
    const big = tf.mul(tf.max(d), 2);
    const hardestPos = tf.max(tf.mul(d, same), 1);
    const hardestNeg = tf.min(tf.add(d, tf.mul(same, big)), 1);
    return tf.mean<tf.Scalar>(tf.relu(tf.add(tf.sub(hardestPos, hardestNeg), margin)));
  });
}
