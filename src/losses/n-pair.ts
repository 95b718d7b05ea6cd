/**
 * Multi-class N-pair loss (Sohn, NeurIPS 2016): N (anchor, positive) pairs of N different classes; each
 * anchor should be more similar (inner product) to its own positive than to the other N − 1 positives.
 */
import { tf } from '../backend/tf.js';

/** Options of nPairLoss (the L2 weight on the embeddings). */
export interface NPairOptions {
  /** Weight λ of the embedding-norm regulariser λ·mean_i(‖a_i‖² + ‖p_i‖²)/2; default 0.002, 0 turns it off. */
  readonly l2?: number;
}

/**
 * mean_i log(1 + Σ_{j≠i} exp(a_i·p_j − a_i·p_i)) — a softmax cross-entropy over the rows of A·Pᵀ with
 * target i — plus the norm regulariser. Row i of `anchors` and of `positives` share a class; rows differ.
 *
 * @example
 * ```ts
 * nPairLoss(tf.tensor2d([[1, 0], [0, 1]]), tf.tensor2d([[1, 0], [0, 1]]), { l2: 0 }); // log(1 + e^-1)
 * ```
 */
export function nPairLoss(anchors: tf.Tensor2D, positives: tf.Tensor2D, opts: NPairOptions = {}): tf.Scalar {
  const l2 = opts.l2 ?? 0.002;
  return tf.tidy(() => {
    const n = anchors.shape[0];
    const logits = tf.matMul(anchors, positives, false, true);
    const ce = tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(tf.range(0, n, 1, 'int32'), n), tf.logSoftmax(logits)), 1)));
    if (l2 === 0) return ce as tf.Scalar;
    const norms = tf.add(tf.sum(tf.square(anchors), 1), tf.sum(tf.square(positives), 1));
    return tf.add<tf.Scalar>(ce, tf.mul(tf.mean(norms), l2 / 2));
  });
}
