/**
 * Multi-class N-pair loss (Sohn, NeurIPS 2016): (anchor, positive) pairs of different classes; each
 * anchor should be more similar (inner product) to its own positive than to the positives of the other
 * classes — a softmax cross-entropy over the pairs.
 */
import { tf } from '../backend/tf.js';
import type { LossValue } from './loss-value.js';
import { FAR, checkNumber, prepareBatch } from './pair-masks.js';

/** Options of nPairLoss. */
export interface NPairOptions {
  /** Weight λ ≥ 0 of the embedding-norm regulariser λ·mean(‖a‖² + ‖p‖²)/2 (Sohn regularises the norm rather than normalising). Default 0.002 (pul's earlier default); 0 turns it off. */
  readonly l2?: number;
  /** L2-normalise the rows first (then the regulariser is a constant). Default false, as Sohn. */
  readonly normalize?: boolean;
}

/**
 * The pairs of a P×K batch: for each label, its rows in batch order taken two by two, (1st, 2nd),
 * (3rd, 4th), … (an odd last row is left out; so is a label seen once).
 */
function formPairs(labels: ArrayLike<number>): { anchors: number[]; positives: number[]; pairLabels: number[] } {
  const rowsOf = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    const rows = rowsOf.get(label);
    if (rows === undefined) rowsOf.set(label, [i]);
    else rows.push(i);
  }
  const anchors: number[] = [];
  const positives: number[] = [];
  const pairLabels: number[] = [];
  for (const [label, rows] of rowsOf) {
    for (let t = 0; t + 1 < rows.length; t += 2) {
      anchors.push(rows[t]!);
      positives.push(rows[t + 1]!);
      pairLabels.push(label);
    }
  }
  return { anchors, positives, pairLabels };
}

/**
 * On a P×K batch (K ≥ 2), the pairs are formed within the batch, ⌊K/2⌋ per identity (formPairs above);
 * with a_i, p_i the embeddings of pair i and C(i) the pairs of other identities (eq. 6 of Sohn with the
 * same-identity pairs left out of the denominator, as they are not negatives of one another):
 *   ℓ_i = log(1 + Σ_{j∈C(i)} exp(a_i·p_j − a_i·p_i)),
 * loss = mean of ℓ_i over the pairs with C(i) non-empty + λ·mean_i(‖a_i‖² + ‖p_i‖²)/2 over all pairs.
 * With K = 2 this is exactly Sohn's N-pair-mc loss. A batch with no pair (no label twice) gives 0;
 * a batch of one identity has no negatives: only the regulariser remains. No activeShare (the softmax
 * term is never zero). Reads the labels back from the backend (N numbers).
 *
 * @example
 * ```ts
 * // pairs (e1, e2) and (e3, e4) with e = I: each ℓ_i = log(1 + e^{0 − 1}) = 0.313262
 * nPairLoss(tf.tensor2d([[1, 0], [1, 0], [0, 1], [0, 1]]), tf.tensor1d([0, 0, 1, 1], 'int32'), { l2: 0 });
 * ```
 */
export function nPairLoss(embeddings: tf.Tensor2D, labels: tf.Tensor1D, opts: NPairOptions = {}): LossValue {
  const l2 = opts.l2 ?? 0.002;
  checkNumber(l2, 'l2', 'nPairLoss');
  return tf.tidy(() => {
    const x = prepareBatch(embeddings, labels, opts.normalize ?? false, 'nPairLoss');
    const { anchors, positives, pairLabels } = formPairs(labels.dataSync());
    // no pair: a zero still connected to the embeddings, so a trainer's gradient exists
    if (anchors.length === 0) return { loss: tf.mul<tf.Scalar>(tf.sum(x), 0) };
    // one-hot row selections, not gather: gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks
    const a = tf.matMul(tf.oneHot(tf.tensor1d(anchors, 'int32'), labels.shape[0]).toFloat(), x);
    const p = tf.matMul(tf.oneHot(tf.tensor1d(positives, 'int32'), labels.shape[0]).toFloat(), x);
    const pl = tf.tensor1d(pairLabels, 'int32');
    const candidate = tf.logicalOr(tf.notEqual(tf.expandDims(pl, 1), tf.expandDims(pl, 0)), tf.cast(tf.eye(anchors.length), 'bool'));
    const logits = tf.where(candidate, tf.matMul(a, p, false, true), tf.fill([anchors.length, anchors.length], -FAR));
    // −log softmax at the own positive = log(1 + Σ_{j∈C(i)} e^{a_i·p_j − a_i·p_i})
    const terms = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.eye(anchors.length)), 1));
    const hasNegative = tf.cast(tf.greater(tf.sum(tf.cast(candidate, 'float32'), 1), 1), 'float32');
    const ce = tf.div(tf.sum(tf.mul(terms, hasNegative)), tf.maximum(tf.sum(hasNegative), 1));
    if (l2 === 0) return { loss: ce as tf.Scalar };
    const norms = tf.add(tf.sum(tf.square(a), 1), tf.sum(tf.square(p), 1));
    return { loss: tf.add<tf.Scalar>(ce, tf.mul(tf.mean(norms), l2 / 2)) };
  });
}
