/**
 * What the trainer consumes: per epoch, an async sequence of labelled batches. `datasetBatchSource`
 * adapts the datasets' iterator (decoded, normalised, seeded-augmented images) to it.
 */
import type { AugmentOptions } from '../datasets/augment.js';
import { iterateBatches } from '../datasets/batches.js';
import type { ImageReader, ImageSpec } from '../datasets/images.js';
import type { Sample } from '../datasets/sample.js';
import { shuffledOrder } from '../datasets/samplers.js';
import { PulError } from '../core/errors.js';
import { Rng } from '../core/random.js';

/** N images (N×H×W×C, HWC order, normalised) and their N class labels. */
export interface TrainBatch {
  readonly pixels: Float32Array;
  readonly shape: readonly [number, number, number, number];
  readonly labels: Int32Array;
}

/** Training batches per epoch, repeatable from (seed, epoch). */
export interface BatchSource {
  /** Batches per epoch (for progress and schedules). */
  readonly stepsPerEpoch: number;
  /** The batches of epoch `epoch` (0-based); the same epoch gives the same batches (resume). */
  batches(epoch: number, signal?: AbortSignal): AsyncIterable<TrainBatch> | Iterable<TrainBatch>;
}

/** Options of datasetBatchSource: image spec, batch size, seed, augmentation. */
export interface DatasetBatchOptions extends ImageSpec {
  readonly batchSize: number;
  readonly seed: number;
  readonly augment?: AugmentOptions;
  readonly reader?: ImageReader;
  /** Drop a last incomplete batch (BN dislikes batches of 1); default true. */
  readonly dropLast?: boolean;
}

/**
 * Shuffled batches of `samples` with class `labels[i]` (0..K−1) for each sample; the shuffle and the
 * augmentation of epoch e come from Rng(seed, e), so a resumed run sees the same batches.
 */
export function datasetBatchSource(samples: readonly Sample[], labels: Int32Array, opts: DatasetBatchOptions): BatchSource {
  if (labels.length !== samples.length) {
    throw new PulError('option.invalid', `${labels.length} labels for ${samples.length} samples`, { option: 'labels' });
  }
  if (!(opts.batchSize >= 2 && Number.isInteger(opts.batchSize))) {
    throw new PulError('option.outOfRange', `batch size ${opts.batchSize} must be an integer ≥ 2`, { option: 'training.batchSize' });
  }
  const dropLast = opts.dropLast ?? true;
  const stepsPerEpoch = dropLast ? Math.floor(samples.length / opts.batchSize) : Math.ceil(samples.length / opts.batchSize);
  if (stepsPerEpoch === 0) {
    throw new PulError('dataset.empty', `${samples.length} training samples are fewer than one batch of ${opts.batchSize}`, { option: 'training.batchSize' });
  }
  return {
    stepsPerEpoch,
    async *batches(epoch: number, signal?: AbortSignal): AsyncIterable<TrainBatch> {
      const rng = new Rng(opts.seed * 7919 + epoch);
      const order = shuffledOrder(samples.length, rng);
      for await (const b of iterateBatches(samples, {
        height: opts.height,
        width: opts.width,
        channels: opts.channels,
        ...(opts.normalize === undefined ? {} : { normalize: opts.normalize }),
        batchSize: opts.batchSize,
        order,
        ...(opts.augment === undefined ? {} : { augment: opts.augment }),
        rng,
        ...(opts.reader === undefined ? {} : { reader: opts.reader }),
        dropLast,
        ...(signal === undefined ? {} : { signal }),
      })) {
        const y = new Int32Array(b.indices.length);
        for (let i = 0; i < y.length; i++) y[i] = labels[b.indices[i]!]!;
        yield { pixels: b.pixels, shape: b.shape, labels: y };
      }
    },
  };
}
