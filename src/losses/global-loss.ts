/**
 * The global loss of Kumar B G, Carneiro & Reid (CVPR 2016, "Learning local image descriptors with deep
 * siamese and triplet convolutional networks by minimising global loss functions"): rather than one
 * pair or triplet at a time, shape the two distributions of distances — positive pairs and negative
 * pairs — to be tight and far apart. Smart mining (Harwood et al. 2017) adds it to a triplet loss.
 */
import { tf } from '../backend/tf.js';
import type { LossValue } from './loss-value.js';
import { checkNumber, pairMasks, prepareBatch } from './pair-masks.js';
import { pairwiseSquaredDistances } from './pairwise-distances.js';

/** Options of globalLoss. */
export interface GlobalLossOptions {
  /** Gap t ≥ 0 wanted between the mean negative and the mean positive squared distance. Default 0.4, a tenth of the [0, 4] range of squared distances between unit vectors. */
  readonly margin?: number;
  /** Weight λ ≥ 0 of the hinge on the means against the variances. Default 1 (both parts weighed equally); the paper tunes t and λ per data set. */
  readonly lambda?: number;
  /** L2-normalise the rows first. Default true: the paper's descriptors are unit vectors, so d ∈ [0, 4]. */
  readonly normalize?: boolean;
}

/**
 * With d_ij = ‖x_i − x_j‖² over the pairs of the batch, the positive pairs (same label) give the
 * distribution d⁺ with mean μ⁺ and variance σ²⁺, the negative pairs d⁻ with μ⁻ and σ²⁻ (population
 * variances, over the pairs i < j), and
 *   J = σ²⁺ + σ²⁻ + λ·max(0, μ⁺ − μ⁻ + t)
 * (the paper's triplet form; its siamese form λ·max(0, m − (μ⁻ − μ⁺)) is the same hinge with t = m).
 * Edges: a distribution with no pair has variance 0, and the hinge needs both — a batch of one
 * identity (no negative pair) or of distinct labels (no positive pair) gives the other variance alone.
 * Not a mining loss: no activeShare.
 *
 * @example
 * ```ts
 * // 1-D points 0, 1 | 3, not normalised: d⁺ = {1}; d⁻ = {9, 4}, μ⁻ = 6.5, σ²⁻ = 6.25; hinge max(0, 1 − 6.5 + 0.4) = 0 → 6.25
 * globalLoss(tf.tensor2d([[0], [1], [3]]), tf.tensor1d([0, 0, 1], 'int32'), { normalize: false });
 * ```
 */
export function globalLoss(embeddings: tf.Tensor2D, labels: tf.Tensor1D, opts: GlobalLossOptions = {}): LossValue {
  const margin = opts.margin ?? 0.4;
  const lambda = opts.lambda ?? 1;
  checkNumber(margin, 'margin', 'globalLoss');
  checkNumber(lambda, 'lambda', 'globalLoss');
  return tf.tidy(() => {
    const d = pairwiseSquaredDistances(prepareBatch(embeddings, labels, opts.normalize ?? true, 'globalLoss'));
    const { positive, negative } = pairMasks(labels);
    // each unordered pair appears twice in a symmetric mask: means and variances are unchanged
    const moments = (mask: tf.Tensor2D): { mean: tf.Scalar; variance: tf.Scalar; present: tf.Scalar } => {
      const m = tf.cast(mask, 'float32');
      const count = tf.sum(m);
      const denominator = tf.maximum(count, 1);
      const mean = tf.div<tf.Scalar>(tf.sum(tf.mul(d, m)), denominator);
      const variance = tf.div<tf.Scalar>(tf.sum(tf.mul(tf.square(tf.sub(d, mean)), m)), denominator);
      return { mean, variance, present: tf.cast(tf.greater(count, 0), 'float32') as tf.Scalar };
    };
    const pos = moments(positive);
    const neg = moments(negative);
    const hinge = tf.mul(tf.relu(tf.add(tf.sub(pos.mean, neg.mean), margin)), tf.mul(pos.present, neg.present));
    return { loss: tf.add<tf.Scalar>(tf.add(pos.variance, neg.variance), tf.mul(hinge, lambda)) };
  });
}
