/**
 * Re-estimates the BatchNorm running statistics of a model's embedder on a set of images before it
 * extracts their features: one no-gradient pass in training mode, each BN layer's moving mean and
 * variance replaced by the average of its batch means and (biased) batch variances over the whole set,
 * each batch weighted by its images (a cumulative average, PyTorch's momentum=None, not the exponential
 * one of training). Cluster-Contrast needs it: the memory is initialised from extracted (inference-mode)
 * features while the loss sees training-mode ones, and a model trained on P×K batches keeps running
 * statistics that put the two far apart. With one batch holding the whole set, inference afterwards
 * gives exactly the training-mode features of that batch.
 *
 * Ghost batch norm (spec.ghostBatchSize) does not apply here: it is a training regulariser, while this
 * pass estimates the set's statistics, so the embedder runs on whole batches.
 */
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import type { Sample } from '../datasets/sample.js';
import type { ReidModel } from '../model/build-model.js';
import { inputBatches, type ExtractOptions } from './extract-features.js';

/** The BN layers of a graph: tfjs' BatchNormalization keeps `momentum` and the moving_mean/variance weights. */
interface BatchNormLayer {
  momentum: number;
  readonly name: string;
}

export function batchNormLayers(net: tf.LayersModel): (tf.layers.Layer & BatchNormLayer)[] {
  return net.layers.filter((l) => l.getClassName() === 'BatchNormalization') as (tf.layers.Layer & BatchNormLayer)[];
}

/** Options of a refresh pass: images per batch (default 256), their normalisation and reader. */
export interface RefreshOptions extends Omit<ExtractOptions, 'skipBad'> {
  readonly signal?: AbortSignal;
}

/**
 * Rewrites the moving mean/variance of every BN layer of `model.embedder` from a training-mode pass
 * over `samples` (in order, no augmentation: deterministic). Returns the number of BN layers refreshed.
 *
 * @example
 * ```ts
 * await refreshBatchNorm(model, data.target, { normalize: 'unit' });
 * const features = await extractFeatures(model, data.target);
 * ```
 */
export async function refreshBatchNorm(model: ReidModel, samples: readonly Sample[], opts: RefreshOptions = {}): Promise<number> {
  const layers = batchNormLayers(model.embedder);
  if (layers.length === 0 || samples.length === 0) return 0;
  const batchSize = opts.batchSize ?? 256;
  if (!(batchSize >= 2 && Number.isInteger(batchSize))) throw new PulError('option.outOfRange', `batch-norm refresh batch size ${batchSize} must be a whole number ≥ 2`, { option: 'clusterContrast.refreshBatchNorm' });
  const momenta = layers.map((l) => l.momentum);
  let seen = 0;
  try {
    for await (const b of inputBatches(model, samples, batchSize, opts, opts.signal)) {
      if (opts.signal?.aborted) throw new PulError('interrupted', `batch-norm refresh interrupted after ${seen} of ${samples.length} images`);
      const n = b.indices.length;
      // a batch of one has no variance: fold it into nothing rather than write zeros
      if (n < 2) continue;
      seen += n;
      // tfjs moves a statistic as s ← s − (s − batch)·(1 − momentum): with 1 − momentum = n / seen,
      // s becomes the image-weighted mean of the batch statistics so far (the first batch replaces s)
      for (const l of layers) l.momentum = 1 - n / seen;
      tf.dispose(tf.tidy(() => model.embedder.apply(tf.tensor4d(b.pixels, [...b.shape]), { training: true }) as tf.Tensor));
      await new Promise<void>((resolve) => setImmediate(resolve)); // let a Ctrl-C handler run between batches
    }
  } finally {
    layers.forEach((l, i) => (l.momentum = momenta[i]!));
  }
  return seen === 0 ? 0 : layers.length;
}
