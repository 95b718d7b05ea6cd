/** Closed-set classification accuracy of a re-ID model's classifier head on labelled images. */
import { tf } from '../backend/tf.js';
import type { ImageReader, Normalization } from '../datasets/images.js';
import type { Sample } from '../datasets/sample.js';
import type { ReidModel } from '../model/build-model.js';
import { datasetBatchSource } from './batch-source.js';

/**
 * The fraction of `samples` whose arg-max class equals `labels[i]` (classes 0..K−1 as trained);
 * NaN for no samples. Pixels are normalised as the model was trained (`normalize`).
 * @example await closedSetAccuracy(model, test, labels, 'unit') // e.g. 0.97
 */
export async function closedSetAccuracy(model: ReidModel, samples: readonly Sample[], labels: Int32Array, normalize: Normalization, reader?: ImageReader): Promise<number> {
  if (samples.length === 0) return Number.NaN;
  const source = datasetBatchSource(samples, labels, { ...model.spec.input, normalize, ...(reader ? { reader } : {}), batchSize: 256, seed: 0, dropLast: false });
  let correct = 0;
  for await (const b of source.batches(0)) {
    const pred = tf.tidy(() => tf.argMax((model.net.predict(tf.tensor4d(b.pixels, [...b.shape]), { batchSize: b.shape[0] }) as tf.Tensor[])[1]!, 1));
    const p = await pred.data();
    pred.dispose();
    for (let i = 0; i < b.labels.length; i++) if (p[i] === b.labels[i]) correct++;
  }
  return correct / samples.length;
}
