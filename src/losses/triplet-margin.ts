/** The margin of the triplet family (a hinge or the soft margin) and its per-anchor reduction. */
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import type { LossValue } from './loss-value.js';

/**
 * A hinge margin m ≥ 0, giving max(0, d_ap − d_an + m), or 'soft' for the soft margin
 * ln(1 + e^{d_ap − d_an}) (Hermans et al. 2017 §3.3: no margin to tune, never exactly zero).
 */
export type TripletMargin = number | 'soft';

/** Throws unless `margin` is 'soft' or a finite number ≥ 0. */
export function checkMargin(margin: TripletMargin, loss: string): void {
  if (margin === 'soft') return;
  if (!(typeof margin === 'number' && Number.isFinite(margin) && margin >= 0)) {
    throw new PulError('option.outOfRange', `${loss}: margin=${String(margin)} must be a finite number ≥ 0 or 'soft'`, { option: 'margin' });
  }
}

/** The triplet term of d_ap and d_an (same shapes): max(0, d_ap − d_an + m) or softplus(d_ap − d_an). */
export function tripletTerm<T extends tf.Tensor>(dp: T, dn: T, margin: TripletMargin): T {
  return tf.tidy(() => {
    const gap = tf.sub(dp, dn);
    return (margin === 'soft' ? tf.softplus(gap) : tf.relu(tf.add(gap, margin))) as T;
  });
}

/**
 * Mean of the per-anchor terms over the anchors that have a valid triplet (`valid` 1/0 per row).
 * Rows without one contribute nothing (their term is zeroed, not counted); with no valid row the loss
 * and activeShare are 0, still connected to the embeddings so a gradient (of zeros) exists.
 */
export function meanOverValidAnchors(terms: tf.Tensor1D, valid: tf.Tensor1D): Required<LossValue> {
  return tf.tidy(() => {
    const perAnchor = tf.mul<tf.Tensor1D>(terms, valid);
    const count = tf.sum(valid);
    const denominator = tf.maximum(count, 1);
    const active = tf.sum(tf.cast(tf.greater(perAnchor, 0), 'float32'));
    return {
      loss: tf.div<tf.Scalar>(tf.sum(perAnchor), denominator),
      activeShare: tf.div<tf.Scalar>(active, denominator),
      perAnchor,
    };
  });
}
