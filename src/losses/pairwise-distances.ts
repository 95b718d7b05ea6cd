/** Distances between the rows of an embedding batch, shared by the pair and triplet losses. */
import { tf } from '../backend/tf.js';

/**
 * Floor of the squared distance under the square root: d = √max(‖x_i − x_j‖², 1e-12). The gradient of
 * √· at 0 is infinite; below the floor `maximum` passes no gradient, so coincident rows (and the
 * diagonal) give a finite, zero gradient instead of NaN (the clamp of open-reid / torchreid / fast-reid).
 */
const SQUARED_FLOOR = 1e-12;

/**
 * Pairwise squared Euclidean distances of the rows (N×N) by ‖x_i‖² + ‖x_j‖² − 2·x_i·x_j, clipped at 0
 * (float32 cancellation can make the expansion slightly negative).
 */
export function pairwiseSquaredDistances(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(x), 1, true);
    return tf.relu(tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(tf.matMul(x, x, false, true), 2))) as tf.Tensor2D;
  });
}

/**
 * Pairwise Euclidean distances of the rows (N×N), √max(d², 1e-12): finite gradient everywhere, and
 * ≈ 1e-6 (not 0) on the diagonal.
 *
 * @example
 * ```ts
 * pairwiseDistances(tf.tensor2d([[0, 0], [3, 4]])); // [[1e-6, 5], [5, 1e-6]]
 * ```
 */
export function pairwiseDistances(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.sqrt(tf.maximum(pairwiseSquaredDistances(x), SQUARED_FLOOR)) as tf.Tensor2D);
}
