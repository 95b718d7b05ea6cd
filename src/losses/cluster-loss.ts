/**
 * The cluster term of the PUL objective (Fan et al. 2018): pull each L2-normalised embedding towards
 * the (fixed, from k-means) normalised centroid of its pseudo-label.
 */
import { tf } from '../backend/tf.js';

const EPS = 1e-12;

/** Rows scaled to unit L2 norm (a zero row stays zero). */
export function l2NormalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), 1, true), EPS))));
}

/**
 * Mean over the batch of ‖ e_i/‖e_i‖ − c_{y_i} ‖², with `centroids` (K×D) already L2-normalised and
 * held constant (no gradient flows into them).
 *
 * @example
 * ```ts
 * clusterLoss(tf.tensor2d([[3, 4]]), tf.tensor1d([0], 'int32'), tf.tensor2d([[1, 0]])); // (0.6−1)²+0.8² = 0.8
 * ```
 */
export function clusterLoss(embeddings: tf.Tensor2D, labels: tf.Tensor1D, centroids: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const target = tf.gather(centroids, tf.cast(labels, 'int32'));
    return tf.mean<tf.Scalar>(tf.sum(tf.square(tf.sub(l2NormalizeRows(embeddings), target)), 1));
  });
}
