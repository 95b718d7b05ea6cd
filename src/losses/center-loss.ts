/**
 * Center loss (Wen et al., ECCV 2016): pulls each embedding towards its class centre, usually added to
 * cross-entropy with a small weight. Unlike PUL's cluster term the embeddings are not normalised and the
 * centres are a K×D tensor the caller keeps (learnable, or moved towards the class means between steps).
 */
import { tf } from '../backend/tf.js';

/**
 * ½ · mean over the batch of ‖x_i − c_{y_i}‖².
 *
 * @example
 * ```ts
 * centerLoss(tf.tensor2d([[1, 2]]), tf.tensor1d([0], 'int32'), tf.tensor2d([[0, 0]])); // ½ · 5 = 2.5
 * ```
 */
export function centerLoss(embeddings: tf.Tensor2D, labels: tf.Tensor1D, centres: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const target = tf.gather(centres, tf.cast(labels, 'int32'));
    return tf.mul<tf.Scalar>(tf.mean(tf.sum(tf.square(tf.sub(embeddings, target)), 1)), 0.5);
  });
}
