/**
 * The two reference nets of ../shared/peers/train_ref.py (SmallCNN) exactly: pul's reference backbone
 * (src/model/reference-nets.ts) with train_ref.py's head — global average pool, dense 128 (the
 * embedding), BN, dense → classes — so that speed compares with PyTorch on identical architectures.
 */
import { Rng, tf } from '../src/index.js';
import { referenceBackbone } from '../src/model/reference-nets.js';

export const REFERENCE_NETS = {
  fmnist: { input: [28, 28, 1], classes: 10 },
  reid: { input: [128, 64, 3], classes: 751 },
} as const satisfies Record<string, { input: readonly number[]; classes: number }>;

export type ReferenceNetName = keyof typeof REFERENCE_NETS;

export function buildReferenceNet(name: ReferenceNetName): tf.LayersModel {
  const spec = REFERENCE_NETS[name];
  const input = tf.input({ shape: [...spec.input] });
  let h = referenceBackbone(name, input, new Rng(1));
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 128 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: spec.classes }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}
