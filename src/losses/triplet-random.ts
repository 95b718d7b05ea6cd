/** Triplet loss with random mining: one random positive and one random negative per anchor (the baseline of smart mining). */
import { tf } from '../backend/tf.js';
import { Rng } from '../core/random.js';
import type { LossValue } from './loss-value.js';
import { checkNumber, prepareBatch } from './pair-masks.js';
import { pairwiseDistances } from './pairwise-distances.js';
import { checkMargin, meanOverValidAnchors, tripletTerm, type TripletMargin } from './triplet-margin.js';

/** Options of tripletRandom. */
export interface TripletRandomOptions {
  /** Hinge margin m ≥ 0 or 'soft' (softplus). Default 0.3, as tripletBatchHard. */
  readonly margin?: TripletMargin;
  /** L2-normalise the rows first. Default false, as tripletBatchHard. */
  readonly normalize?: boolean;
  /** Seed of the draws; the same seed and labels give the same triplets. Pass a new one per step (e.g. deriveSeed(seed, epoch, step)). Default 0. */
  readonly seed?: number;
}

/**
 * One-hot N×N selections of one random positive and one random negative per anchor (a zero row when
 * the anchor has none), and the anchors that have both.
 */
function drawTriplets(labels: ArrayLike<number>, rng: Rng): { positive: Float32Array; negative: Float32Array; valid: Float32Array } {
  const n = labels.length;
  const positive = new Float32Array(n * n);
  const negative = new Float32Array(n * n);
  const valid = new Float32Array(n);
  for (let a = 0; a < n; a++) {
    const pos: number[] = [];
    const neg: number[] = [];
    for (let j = 0; j < n; j++) {
      if (j === a) continue;
      (labels[j] === labels[a] ? pos : neg).push(j);
    }
    // both draws happen for every anchor, so one anchor's candidates do not shift the others' stream
    const p = pos[rng.int(Math.max(pos.length, 1))];
    const q = neg[rng.int(Math.max(neg.length, 1))];
    if (p === undefined || q === undefined) continue;
    positive[a * n + p] = 1;
    negative[a * n + q] = 1;
    valid[a] = 1;
  }
  return { positive, negative, valid };
}

/**
 * For each anchor a, a positive p (same label, another row) and a negative n (another label) drawn
 * uniformly from the batch with the seeded Rng, and
 *   ℓ_a = max(0, d_ap − d_an + m)   (or softplus(d_ap − d_an) for 'soft'), on Euclidean distances;
 * the loss is the mean of ℓ_a over the anchors that have a positive and a negative (the rest contribute
 * nothing; none: loss 0, activeShare 0). activeShare = share of those with ℓ_a > 0 — the quantity smart
 * mining is compared on; perAnchor = ℓ_a. Reads the labels back from the backend (N numbers).
 *
 * @example
 * ```ts
 * const embeddings = tf.tensor2d([[0], [1], [3], [5]]);
 * const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
 * const { loss, activeShare } = tripletRandom(embeddings, labels, { seed: deriveSeed(1, 0, 0) }); // run seed 1, epoch 0, step 0
 * ```
 */
export function tripletRandom(embeddings: tf.Tensor2D, labels: tf.Tensor1D, opts: TripletRandomOptions = {}): LossValue {
  const margin = opts.margin ?? 0.3;
  checkMargin(margin, 'tripletRandom');
  const seed = opts.seed ?? 0;
  checkNumber(seed, 'seed', 'tripletRandom', -Infinity);
  return tf.tidy(() => {
    const d = pairwiseDistances(prepareBatch(embeddings, labels, opts.normalize ?? false, 'tripletRandom'));
    const n = labels.shape[0];
    const draw = drawTriplets(labels.dataSync(), new Rng(seed));
    const dp = tf.sum(tf.mul(d, tf.tensor2d(draw.positive, [n, n])), 1);
    const dn = tf.sum(tf.mul(d, tf.tensor2d(draw.negative, [n, n])), 1);
    return meanOverValidAnchors(tripletTerm(dp, dn, margin) as tf.Tensor1D, tf.tensor1d(draw.valid));
  });
}
