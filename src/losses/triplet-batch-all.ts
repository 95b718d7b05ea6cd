/** Triplet loss over every valid triplet of the batch ("batch all", Hermans, Beyer & Leibe 2017). */
import { tf } from '../backend/tf.js';
import type { LossValue } from './loss-value.js';
import { pairMasks, prepareBatch } from './pair-masks.js';
import { pairwiseDistances } from './pairwise-distances.js';
import { checkMargin, tripletTerm, type TripletMargin } from './triplet-margin.js';

/** Options of tripletBatchAll. */
export interface TripletBatchAllOptions {
  /** Hinge margin m ≥ 0 or 'soft' (softplus). Default 0.3, as tripletBatchHard (torchreid, fast-reid). */
  readonly margin?: TripletMargin;
  /** L2-normalise the rows first. Default false (Hermans et al. use the raw embedding). */
  readonly normalize?: boolean;
}

/** The batch-all value: a LossValue whose activeShare and perAnchor are always present, plus the active count. */
export interface TripletBatchAllValue extends Required<LossValue> {
  /** The number of valid triplets whose term is non-zero (the denominator of the loss). */
  readonly activeTriplets: tf.Scalar;
}

/**
 * Every valid triplet (a, p, n) of the batch — p ≠ a with a's label, n with another label — gives
 *   ℓ_apn = max(0, d_ap − d_an + m)   (or softplus(d_ap − d_an) for 'soft'),
 * on Euclidean distances; the loss is Σ ℓ_apn / #{ℓ_apn > 0}, the mean over the non-zero terms
 * (Hermans et al.'s "BA≠0": averaging over all triplets would drown the few informative ones as
 * training proceeds). `activeTriplets` = #{ℓ_apn > 0}; `activeShare` = activeTriplets / #valid triplets;
 * `perAnchor[a]` = the mean of anchor a's non-zero terms. No valid triplet (one identity, or no
 * identity twice), or no active one: loss 0, activeShare 0, activeTriplets 0.
 *
 * @example
 * ```ts
 * // 1-D points 0, 1 | 3, 5, m = 0.5: of the 8 triplets only (a 3, p 5, n 1) is active: 2 − 2 + 0.5 → loss 0.5
 * tripletBatchAll(tf.tensor2d([[0], [1], [3], [5]]), tf.tensor1d([0, 0, 1, 1], 'int32'), { margin: 0.5 });
 * ```
 */
export function tripletBatchAll(embeddings: tf.Tensor2D, labels: tf.Tensor1D, opts: TripletBatchAllOptions = {}): TripletBatchAllValue {
  const margin = opts.margin ?? 0.3;
  checkMargin(margin, 'tripletBatchAll');
  return tf.tidy(() => {
    const d = pairwiseDistances(prepareBatch(embeddings, labels, opts.normalize ?? false, 'tripletBatchAll'));
    const { positive, negative } = pairMasks(labels);
    // N×N×N: [a, p, n]
    const valid = tf.mul(tf.expandDims(tf.cast(positive, 'float32'), 2), tf.expandDims(tf.cast(negative, 'float32'), 1));
    const terms = tf.mul(tripletTerm(tf.expandDims(d, 2), tf.expandDims(d, 1), margin), valid);
    // terms ≥ 0, so step(terms) = [terms > 0]; unlike greater it has a (zero) gradient, and the count is piecewise constant
    const activeMask = tf.step(terms);
    const activeTriplets = tf.sum<tf.Scalar>(activeMask);
    const perAnchorActive = tf.sum(activeMask, [1, 2]);
    const perAnchorSum = tf.sum(terms, [1, 2]);
    return {
      loss: tf.div<tf.Scalar>(tf.sum(perAnchorSum), tf.maximum(activeTriplets, 1)),
      activeShare: tf.div<tf.Scalar>(activeTriplets, tf.maximum(tf.sum(valid), 1)),
      perAnchor: tf.div<tf.Tensor1D>(perAnchorSum, tf.maximum(perAnchorActive, 1)),
      activeTriplets,
    };
  });
}
