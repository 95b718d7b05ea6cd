/**
 * Center loss (Wen, Zhang, Li & Qiao, ECCV 2016): pulls each embedding towards its class centre, added
 * to cross-entropy with a small weight. Unlike PUL's cluster term the embeddings are not normalised and
 * the centres (K×D) are state the caller keeps, moved towards the class means by updateCentres with
 * their own rate α rather than by the optimiser.
 */
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import type { LossValue } from './loss-value.js';

/** Options of updateCentres. */
export interface CentreUpdateOptions {
  /** Centre learning rate α in (0, 1]. Default 0.5 (Wen et al. §4: α = 0.5 with loss weight λ = 0.003). */
  readonly alpha?: number;
}

/**
 * The identity forward and a zero gradient backward: the centres are state, not parameters of the loss,
 * so an optimiser that holds them as a trainable variable still leaves them alone (tfjs has no
 * stop_gradient op).
 */
const asConstant = (t: tf.Tensor2D): tf.Tensor2D =>
  tf.customGrad((x, _save) => ({ value: tf.clone(x as tf.Tensor2D), gradFunc: (dy: tf.Tensor2D) => tf.zerosLike(dy) }))(t);

/** Throws unless the batch, its labels and the centres agree: N×D rows, N labels in [0, K), K×D centres. */
function checkCentres(embeddings: tf.Tensor2D, labels: tf.Tensor1D, centres: tf.Tensor2D, fn: string): void {
  const [n, dim] = embeddings.shape;
  const [k, centreDim] = centres.shape;
  if (labels.shape[0] !== n || centreDim !== dim) {
    throw new PulError('option.invalid', `${fn}: embeddings [${n}, ${dim}], labels [${labels.shape[0]}] and centres [${k}, ${centreDim}] do not agree`, { option: 'centres' });
  }
  const values = labels.dataSync();
  for (let i = 0; i < values.length; i++) {
    const y = values[i]!;
    if (!(Number.isInteger(y) && y >= 0 && y < k)) {
      throw new PulError('option.outOfRange', `${fn}: label ${y} of row ${i} is outside the ${k} centres [0, ${k})`, { option: 'labels' });
    }
  }
}

/**
 * L_C = ½ · mean_i ‖x_i − c_{y_i}‖² (Wen et al. eq. 2, averaged over the batch instead of summed), with
 * no gradient into `centres` (K×D) even when they are a trainable variable. Every row has a centre, so
 * there is no edge case: one identity or all-distinct labels are ordinary batches.
 *
 * @example
 * ```ts
 * centerLoss(tf.tensor2d([[1, 2]]), tf.tensor1d([0], 'int32'), tf.tensor2d([[0, 0]])).loss; // ½ · 5 = 2.5
 * ```
 */
export function centerLoss(embeddings: tf.Tensor2D, labels: tf.Tensor1D, centres: tf.Tensor2D): LossValue {
  checkCentres(embeddings, labels, centres, 'centerLoss');
  return tf.tidy(() => {
    // a one-hot product, not gather: gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks
    const target = tf.matMul(tf.oneHot(tf.cast(labels, 'int32'), centres.shape[0]).toFloat(), asConstant(centres));
    return { loss: tf.mul<tf.Scalar>(tf.mean(tf.sum(tf.square(tf.sub(embeddings, target)), 1)), 0.5) };
  });
}

/**
 * Wen et al.'s centre update (eq. 4): for each class j,
 *   Δc_j = Σ_{i: y_i = j} (c_j − x_i) / (1 + #{i: y_i = j}),   c_j ← c_j − α·Δc_j;
 * a class absent from the batch keeps its centre. Returns new centres (K×D); the caller disposes the old.
 *
 * @example
 * ```ts
 * // one row (2, 0) of class 0 at centre (0, 0): Δc = (0 − 2)/2 = −1 → c = 0 − 0.5·(−1) = (1, 0)
 * updateCentres(tf.tensor2d([[2, 0]]), tf.tensor1d([0], 'int32'), tf.tensor2d([[0, 0]]), { alpha: 0.5 });
 * ```
 */
export function updateCentres(embeddings: tf.Tensor2D, labels: tf.Tensor1D, centres: tf.Tensor2D, opts: CentreUpdateOptions = {}): tf.Tensor2D {
  const alpha = opts.alpha ?? 0.5;
  if (!(alpha > 0 && alpha <= 1)) throw new PulError('option.outOfRange', `updateCentres: alpha=${alpha} must be in (0, 1]`, { option: 'alpha' });
  checkCentres(embeddings, labels, centres, 'updateCentres');
  return tf.tidy(() => {
    const member = tf.oneHot(tf.cast(labels, 'int32'), centres.shape[0]).toFloat(); // N×K
    const count = tf.expandDims(tf.sum(member, 0), 1); // K×1
    const sumX = tf.matMul(member, embeddings, true, false); // K×D
    const delta = tf.div(tf.sub(tf.mul(centres, count), sumX), tf.add(count, 1));
    return tf.sub(centres, tf.mul(delta, alpha));
  });
}
