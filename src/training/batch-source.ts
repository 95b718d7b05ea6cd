/**
 * What the trainer consumes: per epoch, an async sequence of labelled batches. `datasetBatchSource`
 * adapts the datasets' iterator (decoded, normalised, seeded-augmented images) to it, in the order of
 * a sampler (src/datasets/samplers.ts), and passes the trainer's per-row losses back to it.
 */
import type { AugmentOptions } from '../datasets/augment.js';
import { iterateBatches } from '../datasets/batches.js';
import type { ImageReader, ImageSpec } from '../datasets/images.js';
import type { Sample } from '../datasets/sample.js';
import { createSampler, type Sampler } from '../datasets/samplers.js';
import { PulError } from '../core/errors.js';
import { Rng } from '../core/random.js';

/** N images (N×H×W×C, HWC order, normalised) and their N class labels. */
export interface TrainBatch {
  readonly pixels: Float32Array;
  readonly shape: readonly [number, number, number, number];
  readonly labels: Int32Array;
  /** Which sample each row is (for samplers that learn from the loss). */
  readonly indices?: Int32Array;
  /** Margin the source asks of the margin losses for this batch (the smart miner's controller); default: the loss's own. */
  readonly margin?: number;
}

/** Training batches per epoch, repeatable from (seed, epoch). */
export interface BatchSource {
  /** Batches per epoch (for progress and schedules). */
  readonly stepsPerEpoch: number;
  /** The batches of epoch `epoch` (0-based); the same epoch gives the same batches (resume). */
  batches(epoch: number, signal?: AbortSignal): AsyncIterable<TrainBatch> | Iterable<TrainBatch>;
  /** Called after each step with the loss's per-row values (when it has them): a loss-guided sampler learns from it. */
  feedback?(batch: TrainBatch, perAnchor: Float32Array): void;
  /** The sampler's state, for the checkpoint (absent when there is none to keep). */
  state?(): Float32Array;
  restore?(saved: Float32Array): void;
}

/** Options of datasetBatchSource: image spec, batch size, seed, augmentation. */
export interface DatasetBatchOptions extends ImageSpec {
  readonly batchSize: number;
  readonly seed: number;
  readonly augment?: AugmentOptions;
  readonly reader?: ImageReader;
  /** Drop a last incomplete batch (BN dislikes batches of 1); default true. */
  readonly dropLast?: boolean;
  /** The order of each epoch; default createSampler('epoch'): every image once per epoch, shuffled. */
  readonly sampler?: Sampler;
}

/**
 * Batches of `samples` with class `labels[i]` (0..K−1) for each sample, in the sampler's order; the
 * order and the augmentation of epoch e come from Rng(seed, e), so a resumed run sees the same batches.
 */
export function datasetBatchSource(samples: readonly Sample[], labels: Int32Array, opts: DatasetBatchOptions): BatchSource {
  if (labels.length !== samples.length) {
    throw new PulError('option.invalid', `${labels.length} labels for ${samples.length} samples`, { option: 'labels' });
  }
  const dropLast = opts.dropLast ?? true;
  const sampler = opts.sampler ?? createSampler('epoch', labels, { structure: 'epoch', batchSize: opts.batchSize, p: 1, k: 1, seed: opts.seed, dropLast });
  return {
    stepsPerEpoch: sampler.stepsPerEpoch,
    async *batches(epoch: number, signal?: AbortSignal): AsyncIterable<TrainBatch> {
      const rng = new Rng(opts.seed * 7919 + epoch);
      const order = sampler.order(epoch, rng);
      for await (const b of iterateBatches(samples, {
        height: opts.height,
        width: opts.width,
        channels: opts.channels,
        ...(opts.normalize === undefined ? {} : { normalize: opts.normalize }),
        batchSize: sampler.batchSize,
        order,
        ...(opts.augment === undefined ? {} : { augment: opts.augment }),
        rng,
        ...(opts.reader === undefined ? {} : { reader: opts.reader }),
        dropLast,
        ...(signal === undefined ? {} : { signal }),
      })) {
        const y = new Int32Array(b.indices.length);
        for (let i = 0; i < y.length; i++) y[i] = labels[b.indices[i]!]!;
        yield { pixels: b.pixels, shape: b.shape, labels: y, indices: b.indices };
      }
    },
    ...(sampler.feedback ? { feedback: (batch: TrainBatch, perAnchor: Float32Array) => batch.indices && sampler.feedback!(batch.indices, perAnchor) } : {}),
    ...(sampler.state && sampler.restore ? { state: () => sampler.state!(), restore: (saved: Float32Array) => sampler.restore!(saved) } : {}),
  };
}
