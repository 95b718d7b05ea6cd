/** Triplet loss with softmax-weighted positives and negatives per anchor (fast-reid's weighted example mining). */
import { tf } from '../backend/tf.js';
import type { LossValue } from './loss-value.js';
import { FAR, pairMasks, prepareBatch, rowHasAny } from './pair-masks.js';
import { pairwiseDistances } from './pairwise-distances.js';
import { checkMargin, meanOverValidAnchors, tripletTerm, type TripletMargin } from './triplet-margin.js';

/** Options of tripletSoftmaxWeighted. */
export interface TripletSoftmaxWeightedOptions {
  /** Hinge margin m ≥ 0 or 'soft' (softplus). Default 0.3 (fast-reid's `LOSSES.TRI.MARGIN`). */
  readonly margin?: TripletMargin;
  /** L2-normalise the rows first. Default false (fast-reid's `LOSSES.TRI.NORM_FEAT`). */
  readonly normalize?: boolean;
}

/** Row-wise softmax of `x` over the true entries of `mask`; 0 elsewhere, and a row with no true entry is all 0. */
function maskedSoftmax(x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul<tf.Tensor2D>(tf.softmax(tf.where(mask, x, tf.fill(x.shape, -FAR))), tf.cast(mask, 'float32')));
}

/**
 * For each anchor a, a soft version of batch-hard: positives weighted by the softmax of their distances
 * and negatives by the softmax of their negated distances,
 *   d⁺_a = Σ_{p∈P(a)} w_ap·d_ap,  w_ap = e^{d_ap} / Σ_{p'∈P(a)} e^{d_ap'},
 *   d⁻_a = Σ_{n∈N(a)} w_an·d_an,  w_an = e^{−d_an} / Σ_{n'∈N(a)} e^{−d_an'},
 *   ℓ_a = max(0, d⁺_a − d⁻_a + m)   (or softplus(d⁺_a − d⁻_a) for 'soft'),
 * gradients flowing through the weights too, as in fast-reid (`softmax_weights`, not detached). Unlike
 * fast-reid the anchor itself is not among its positives (its zero distance would only dilute d⁺_a).
 * Loss = mean of ℓ_a over the anchors with a positive and a negative; the rest contribute nothing
 * (no such anchor: loss 0, activeShare 0). activeShare = share of those with ℓ_a > 0; perAnchor = ℓ_a.
 *
 * @example
 * ```ts
 * // 1-D points 0, 1 | 3, 5, m = 2: anchor 1 has d⁺ = 1, d⁻ = 2·σ(2) + 4·σ(−2) = 2.238406 → 0.761594;
 * // anchor 3: d⁺ = 2, d⁻ = 2·σ(1) + 3·σ(−1) = 2.268941 → 1.731059; anchors 0 and 5 → 0; loss 0.623163
 * tripletSoftmaxWeighted(tf.tensor2d([[0], [1], [3], [5]]), tf.tensor1d([0, 0, 1, 1], 'int32'), { margin: 2 });
 * ```
 */
export function tripletSoftmaxWeighted(embeddings: tf.Tensor2D, labels: tf.Tensor1D, opts: TripletSoftmaxWeightedOptions = {}): LossValue {
  const margin = opts.margin ?? 0.3;
  checkMargin(margin, 'tripletSoftmaxWeighted');
  return tf.tidy(() => {
    const d = pairwiseDistances(prepareBatch(embeddings, labels, opts.normalize ?? false, 'tripletSoftmaxWeighted'));
    const { positive, negative } = pairMasks(labels);
    const weightedPositive = tf.sum(tf.mul(maskedSoftmax(d, positive), d), 1);
    const weightedNegative = tf.sum(tf.mul(maskedSoftmax(tf.neg(d), negative), d), 1);
    const valid = tf.mul<tf.Tensor1D>(rowHasAny(positive), rowHasAny(negative));
    return meanOverValidAnchors(tripletTerm(weightedPositive, weightedNegative, margin) as tf.Tensor1D, valid);
  });
}
