/**
 * The training-mode forward of a pul network → [embedding, logits]: the model's dropout before the
 * classifier (seeded per step, not a graph layer: see build-model.ts), and "ghost" batch norm — with
 * `spec.ghostBatchSize` = G the batch goes through the net in chunks of G images, so every BN layer
 * normalises with statistics of G images whatever the batch size (Hoffer et al. 2017; the samples-per-BN
 * of multi-GPU re-ID training). Each chunk also moves the BN running statistics once, as each GPU's
 * replica does; inference (extraction) uses those running statistics as usual.
 */
import { tf } from '../backend/tf.js';
import { seededDropout } from '../backend/dropout.js';
import { LAYER_BNNECK, LAYER_CLASSIFIER, type ReidModel } from './build-model.js';

/** The BNNeck and classifier of a pul network, or null for a graph of another shape (dropout then skipped). */
function headLayers(net: tf.LayersModel): { bnneck: tf.layers.Layer; classifier: tf.layers.Layer } | null {
  const find = (name: string) => net.layers.find((l) => l.name === name);
  const bnneck = find(LAYER_BNNECK);
  const classifier = find(LAYER_CLASSIFIER);
  return bnneck && classifier ? { bnneck, classifier } : null;
}

function forwardWhole(model: ReidModel, x: tf.Tensor4D, seed: number): [tf.Tensor2D, tf.Tensor2D] {
  const rate = model.spec.dropout;
  const head = rate > 0 ? headLayers(model.net) : null;
  if (head === null) return model.net.apply(x, { training: true }) as [tf.Tensor2D, tf.Tensor2D];
  const emb = model.embedder.apply(x, { training: true }) as tf.Tensor2D;
  const normalised = head.bnneck.apply(emb, { training: true }) as tf.Tensor2D;
  const dropped = seededDropout(normalised, rate, seed);
  return [emb, head.classifier.apply(dropped, { training: true }) as tf.Tensor2D];
}

/**
 * Training-mode [embedding N×D, logits N×K] of a batch (call inside a gradient tape or tidy); the
 * dropout mask of chunk c comes from seed + c.
 *
 * @example
 * ```ts
 * const [emb, logits] = forwardTraining(model, images, seed);
 * ```
 */
export function forwardTraining(model: ReidModel, x: tf.Tensor4D, seed: number): [tf.Tensor2D, tf.Tensor2D] {
  const g = model.spec.ghostBatchSize;
  const n = x.shape[0];
  if (g === undefined || g >= n) return forwardWhole(model, x, seed);
  const parts: [tf.Tensor2D, tf.Tensor2D][] = [];
  for (let start = 0, c = 0; start < n; start += g, c++) {
    parts.push(forwardWhole(model, tf.slice(x, [start, 0, 0, 0], [Math.min(g, n - start), -1, -1, -1]), seed + c));
  }
  return [tf.concat(parts.map((p) => p[0]), 0), tf.concat(parts.map((p) => p[1]), 0)];
}
