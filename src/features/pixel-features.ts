/**
 * Raw pixels as features: each image decoded (no augmentation), normalised and flattened (H·W·C
 * values, HWC order). The baseline that a learned embedding has to beat on unseen classes.
 */
import type { ProgressSink } from '../core/progress.js';
import { PulError } from '../core/errors.js';
import { iterateBatches } from '../datasets/batches.js';
import type { ImageReader, ImageSpec } from '../datasets/images.js';
import type { Sample } from '../datasets/sample.js';
import { featureMatrix, type FeatureMatrix } from './feature-matrix.js';

/**
 * One row of H·W·C pixel values per sample, in sample order; `spec.normalize` defaults to the usual
 * one for the channels (unit for grey).
 * @example
 * const px = await pixelFeatures(samplesOf(ds, 'gallery'), { height: 28, width: 28, channels: 1 });
 * px.dim; // 784
 */
export async function pixelFeatures(
  samples: readonly Sample[],
  spec: ImageSpec,
  opts: { readonly reader?: ImageReader; readonly signal?: AbortSignal; readonly progress?: ProgressSink } = {},
): Promise<FeatureMatrix> {
  const dim = spec.height * spec.width * spec.channels;
  const out = featureMatrix(samples.length, dim);
  let done = 0;
  for await (const b of iterateBatches(samples, { ...spec, batchSize: 256, ...(opts.reader ? { reader: opts.reader } : {}), ...(opts.signal ? { signal: opts.signal } : {}) })) {
    if (opts.signal?.aborted) throw new PulError('interrupted', `pixel features interrupted after ${done} of ${samples.length} images`);
    for (let i = 0; i < b.indices.length; i++) out.data.set(b.pixels.subarray(i * dim, (i + 1) * dim), b.indices[i]! * dim);
    done += b.indices.length;
    opts.progress?.update({ task: 'pixels', done, total: samples.length });
  }
  return out;
}
