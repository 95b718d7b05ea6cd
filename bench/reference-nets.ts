/**
 * The two reference nets of ../shared/peers/train_ref.py (SmallCNN), built with tfjs layers so speed
 * compares with PyTorch on identical architectures: 3×3 convolutions ('same', no bias) – BN – ReLU
 * (– max-pool 2); global average pool; dense 128 (the embedding); BN; dense → classes.
 */
import { tf } from '../src/index.js';

export const REFERENCE_NETS = {
  fmnist: { input: [28, 28, 1], classes: 10, stages: [[32, 1, true], [64, 1, true], [128, 1, false]] },
  reid: { input: [128, 64, 3], classes: 751, stages: [[32, 1, true], [64, 1, true], [128, 1, false], [256, 2, false]] },
} as const satisfies Record<string, { input: readonly number[]; classes: number; stages: readonly (readonly [number, number, boolean])[] }>;

export type ReferenceNetName = keyof typeof REFERENCE_NETS;

export function buildReferenceNet(name: ReferenceNetName): tf.LayersModel {
  const spec = REFERENCE_NETS[name];
  const input = tf.input({ shape: [...spec.input] });
  let h = input;
  for (const [filters, strides, pool] of spec.stages) {
    h = tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', useBias: false }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
    h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
    if (pool) h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  }
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 128 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: spec.classes }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}
