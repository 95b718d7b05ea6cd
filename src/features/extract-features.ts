/**
 * Embeddings of a list of samples with a model: decoded in batches (no augmentation), forwarded in
 * inference mode (BN running statistics folded into the convolutions, no dropout: inference-forward.ts),
 * copied into one FeatureMatrix in sample order.
 */
import { tf } from '../backend/tf.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import { PulError } from '../core/errors.js';
import { iterateBatches } from '../datasets/batches.js';
import type { ImageReader, Normalization } from '../datasets/images.js';
import type { Sample } from '../datasets/sample.js';
import type { ModelSpec, ReidModel } from '../model/build-model.js';
import { inferenceForward } from '../model/inference-forward.js';
import { featureMatrix, type FeatureMatrix } from './feature-matrix.js';

/** How images become model inputs for extraction: batch size, normalisation, reader. */
export interface ExtractOptions {
  /** Images per forward pass; default extractBatchSize(model.spec). */
  readonly batchSize?: number;
  /** Default: the usual one for the model's channels (imagenet for RGB, unit for grey). */
  readonly normalize?: Normalization;
  readonly reader?: ImageReader;
  /** Skip unreadable images (their rows stay zero) instead of failing. Default false. */
  readonly skipBad?: boolean;
}

/**
 * The default images per extraction forward pass: 512 for small inputs (fmnist's 28×28 grey; on 2 cores
 * 8–13 % more images/s than 256, as PyTorch's peer extracts), 256 above 64×64 values per image, where one
 * batch's first feature map would pass 100 MB.
 */
export function extractBatchSize(spec: Pick<ModelSpec, 'input'>): number {
  const { height, width, channels } = spec.input;
  return height * width * channels <= 64 * 64 ? 512 : 256;
}

/** The model's inputs for `samples`, in order, un-augmented (extraction and the batch-norm refresh). */
export function inputBatches(model: ReidModel, samples: readonly Sample[], batchSize: number, opts: ExtractOptions, signal?: AbortSignal): ReturnType<typeof iterateBatches> {
  const { height, width, channels } = model.spec.input;
  return iterateBatches(samples, {
    height,
    width,
    channels,
    batchSize,
    ...(opts.normalize === undefined ? {} : { normalize: opts.normalize }),
    ...(opts.reader === undefined ? {} : { reader: opts.reader }),
    ...(opts.skipBad === undefined ? {} : { skipBad: opts.skipBad }),
    ...(signal === undefined ? {} : { signal }),
  });
}

/**
 * One embedding row per sample (rows × embeddingDim, not normalised).
 *
 * @example
 * ```ts
 * const features = await extractFeatures(model, dataset.samples, { normalize: 'unit' });
 * ```
 */
export async function extractFeatures(
  model: ReidModel,
  samples: readonly Sample[],
  opts: ExtractOptions = {},
  ctx: { readonly signal?: AbortSignal; readonly progress?: ProgressSink } = {},
): Promise<FeatureMatrix> {
  const batchSize = opts.batchSize ?? extractBatchSize(model.spec);
  if (!(batchSize >= 1 && Number.isInteger(batchSize))) throw new PulError('option.outOfRange', `batch size ${batchSize} must be a positive integer`, { option: 'extract.batchSize' });
  const dim = model.spec.embeddingDim;
  const out = featureMatrix(samples.length, dim);
  const progress = ctx.progress ?? silentProgress;
  let done = 0;
  const forward = inferenceForward(model.embedder);
  try {
    for await (const b of inputBatches(model, samples, batchSize, opts, ctx.signal)) {
      if (ctx.signal?.aborted) throw new PulError('interrupted', `feature extraction interrupted after ${done} of ${samples.length} images`);
      const emb = tf.tidy(() => forward(tf.tensor4d(b.pixels, [...b.shape])));
      const values = (await emb.data()) as Float32Array;
      emb.dispose();
      for (let i = 0; i < b.indices.length; i++) out.data.set(values.subarray(i * dim, (i + 1) * dim), b.indices[i]! * dim);
      done += b.indices.length;
      progress.update({ task: 'extract', done, total: samples.length });
      await new Promise<void>((resolve) => setImmediate(resolve)); // let a Ctrl-C handler run between batches
    }
  } finally {
    forward.dispose();
  }
  return out;
}
