/** What every metric loss of pul returns: the scalar to minimise and, for the mining losses, how much of the batch was informative. */
import type { tf } from '../backend/tf.js';

/**
 * The value of a loss on one batch. `activeShare` is the share in [0, 1] of the mined pairs or triplets
 * whose term is non-zero (mining losses only; 0 when the batch has no valid pair/triplet); `perAnchor`
 * holds each batch row's own term, 0 for a row with no valid triplet (the triplet family, for
 * loss-guided sampling). The caller disposes all three.
 */
export interface LossValue {
  readonly loss: tf.Scalar;
  readonly activeShare?: tf.Scalar;
  readonly perAnchor?: tf.Tensor1D;
}
