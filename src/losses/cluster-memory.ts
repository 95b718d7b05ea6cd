/**
 * The cluster-memory contrastive loss of Cluster-Contrast (Dai et al. 2021): a memory of K
 * L2-normalised cluster centroids (re-initialised from the extracted features after each clustering),
 * InfoNCE of each normalised embedding against every centroid with temperature τ, and after each step a
 * momentum update of the centroids of the clusters in the batch — "hard": with the batch's least
 * similar member of that cluster (Dai et al. §3.2), else with the members' mean.
 *
 * The memory is plain state (no gradient flows into it): `clusterMemoryLoss` reads it, `updateClusterMemory`
 * returns its next value.
 */
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import { l2NormalizeRows } from './cluster-loss.js';

/** Options of the cluster-memory loss and its update. */
export interface ClusterMemoryOptions {
  /** τ > 0 of the InfoNCE softmax; default 0.05 (Dai et al.). */
  readonly temperature?: number;
  /** m in [0, 1]: c ← m·c + (1 − m)·x, then renormalised; default 0.1 (Dai et al.'s code). */
  readonly momentum?: number;
  /** Update with the least similar member of the cluster in the batch (default true) instead of their mean. */
  readonly hard?: boolean;
}

/** Throws a named error for τ ≤ 0 or a momentum outside [0, 1]; returns the filled-in options. */
export function checkClusterMemoryOptions(opts: ClusterMemoryOptions, prefix = ''): Required<ClusterMemoryOptions> {
  const temperature = opts.temperature ?? 0.05;
  const momentum = opts.momentum ?? 0.1;
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new PulError('option.outOfRange', `temperature τ=${temperature} must be a finite number > 0`, { option: `${prefix}temperature` });
  if (!(momentum >= 0 && momentum <= 1)) throw new PulError('option.outOfRange', `momentum=${momentum} must be in [0, 1]`, { option: `${prefix}momentum` });
  return { temperature, momentum, hard: opts.hard ?? true };
}

function checkShapes(embeddings: tf.Tensor2D, labels: tf.Tensor1D, memory: tf.Tensor2D, fn: string): Int32Array {
  const [n, dim] = embeddings.shape;
  const [k, memDim] = memory.shape;
  if (labels.shape[0] !== n || memDim !== dim) {
    throw new PulError('option.invalid', `${fn}: embeddings [${n}, ${dim}], labels [${labels.shape[0]}] and memory [${k}, ${memDim}] do not agree`, { option: 'memory' });
  }
  const y = Int32Array.from(labels.dataSync());
  for (let i = 0; i < y.length; i++) {
    if (!(y[i]! >= 0 && y[i]! < k)) throw new PulError('option.outOfRange', `${fn}: label ${y[i]} of row ${i} is outside the ${k} clusters of the memory [0, ${k})`, { option: 'labels' });
  }
  return y;
}

/**
 * L = mean_i −log( exp(q_i·c_{y_i}/τ) / Σ_k exp(q_i·c_k/τ) ), q_i = e_i/‖e_i‖, over the memory `memory`
 * (K×D, L2-normalised rows, held constant).
 *
 * @example
 * ```ts
 * // q = (1, 0) against c = (1, 0), (0, 1) at τ = 0.5: −log(e² / (e² + 1)) = 0.1269
 * clusterMemoryLoss(tf.tensor2d([[3, 0]]), tf.tensor1d([0], 'int32'), tf.tensor2d([[1, 0], [0, 1]]), { temperature: 0.5 });
 * ```
 */
export function clusterMemoryLoss(embeddings: tf.Tensor2D, labels: tf.Tensor1D, memory: tf.Tensor2D, opts: ClusterMemoryOptions = {}): tf.Scalar {
  const { temperature } = checkClusterMemoryOptions(opts);
  checkShapes(embeddings, labels, memory, 'clusterMemoryLoss');
  return tf.tidy(() => {
    const logits = tf.div<tf.Tensor2D>(tf.matMul(l2NormalizeRows(embeddings), memory, false, true), temperature);
    // one-hot product, not gather: gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks
    const target = tf.oneHot(tf.cast(labels, 'int32'), memory.shape[0]);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

/**
 * The memory after one step: for each cluster c present in the batch, x = its least similar member
 * (hard) or the mean of its members' normalised embeddings, c ← (m·c + (1 − m)·x) / ‖…‖ (Dai et al.'s
 * ClusterMemory backward). Clusters absent from the batch keep their row. Returns a new K×D tensor.
 *
 * @example
 * ```ts
 * // c = (1, 0); members (0, 2) and (1, 1): the hardest is (0, 1) → 0.1·(1, 0) + 0.9·(0, 1), renormalised
 * updateClusterMemory(tf.tensor2d([[0, 2], [1, 1]]), tf.tensor1d([0, 0], 'int32'), tf.tensor2d([[1, 0]]));
 * ```
 */
export function updateClusterMemory(embeddings: tf.Tensor2D, labels: tf.Tensor1D, memory: tf.Tensor2D, opts: ClusterMemoryOptions = {}): tf.Tensor2D {
  const { momentum, hard } = checkClusterMemoryOptions(opts);
  const y = checkShapes(embeddings, labels, memory, 'updateClusterMemory');
  const [n, dim] = embeddings.shape;
  const q = tf.tidy(() => l2NormalizeRows(embeddings));
  const x = q.dataSync() as Float32Array;
  q.dispose();
  const m = Float32Array.from(memory.dataSync());
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const list = members.get(y[i]!);
    if (list) list.push(i);
    else members.set(y[i]!, [i]);
  }
  const target = new Float64Array(dim);
  for (const [c, rows] of members) {
    target.fill(0);
    if (hard) {
      let worst = rows[0]!;
      let worstSim = Number.POSITIVE_INFINITY;
      for (const i of rows) {
        let s = 0;
        for (let t = 0; t < dim; t++) s += x[i * dim + t]! * m[c * dim + t]!;
        if (s < worstSim) [worst, worstSim] = [i, s];
      }
      for (let t = 0; t < dim; t++) target[t] = x[worst * dim + t]!;
    } else {
      for (const i of rows) for (let t = 0; t < dim; t++) target[t] = target[t]! + x[i * dim + t]! / rows.length;
    }
    let norm = 0;
    for (let t = 0; t < dim; t++) {
      const v = momentum * m[c * dim + t]! + (1 - momentum) * target[t]!;
      target[t] = v;
      norm += v * v;
    }
    norm = Math.sqrt(Math.max(norm, 1e-24));
    for (let t = 0; t < dim; t++) m[c * dim + t] = target[t]! / norm;
  }
  return tf.tensor2d(m, [memory.shape[0], dim]);
}
