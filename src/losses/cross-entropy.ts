/** Softmax cross-entropy on integer labels, with optional label smoothing (Szegedy et al. 2016). */
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import { fusedCrossEntropy } from '../backend/softmax-cross-entropy.js';

/** Options of crossEntropy (label smoothing ε). */
export interface CrossEntropyOptions {
  /** ε in [0, 1): the target is (1 − ε)·one-hot + ε/K (torch's `label_smoothing`). Default 0. */
  readonly labelSmoothing?: number;
}

/**
 * Mean cross-entropy of `logits` (N×K) against `labels` (N class indices in [0, K)).
 *
 * @example
 * ```ts
 * const loss = crossEntropy(tf.tensor2d([[2, 0]]), tf.tensor1d([0], 'int32')); // log(1 + e^-2)
 * ```
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, opts: CrossEntropyOptions = {}): tf.Scalar {
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps < 1)) throw new PulError('option.outOfRange', `labelSmoothing=${eps} must be in [0, 1)`, { option: 'labelSmoothing' });
  // one kernel forward and one backward on the wasm backend (kernels/softmax-cross-entropy.ts)
  const fused = fusedCrossEntropy(logits, labels, eps);
  if (fused !== null) return fused;
  return tf.tidy(() => {
    const k = logits.shape[1];
    const logp = tf.logSoftmax(logits);
    let target: tf.Tensor = tf.oneHot(tf.cast(labels, 'int32'), k);
    if (eps > 0) target = tf.add(tf.mul(target, 1 - eps), eps / k);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logp), 1))) as tf.Scalar;
  });
}
