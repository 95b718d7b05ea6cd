/**
 * The two reference nets of ../shared/peers/train_ref.py (SmallCNN) exactly: pul's reference backbone
 * (src/model/reference-nets.ts) with train_ref.py's head — global average pool, dense 128 (the
 * embedding), BN, dense → classes — so that speed compares with PyTorch on identical architectures.
 */
import { Rng, tf } from '../src/index.js';
import { referenceBackbone } from '../src/model/reference-nets.js';
import { applyGradientsWithDecay } from '../src/training/optimizer.js';
import { withLazyConvInputGradient } from '../src/backend/fused-conv-gradient.js';

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

/**
 * bench:backend's training step for a reference net: batch 64 of random images, cross-entropy, SGD
 * momentum 0.9 at 0.01 with train_ref.py's weight decay 5e-4 added to the gradient (torch.optim's
 * weight_decay), by the update `pul train` uses. `run` does one step and waits for the loss; the hooks
 * mark where the forward pass and the gradients end (for profiles).
 */
export function referenceTrainStep(
  name: ReferenceNetName,
  hooks: { afterForward?: () => void; afterGradients?: () => void } = {},
): { model: tf.LayersModel; run(): Promise<void>; dispose(): void } {
  const spec = REFERENCE_NETS[name];
  const model = buildReferenceNet(name);
  const optimizer = tf.train.momentum(0.01, 0.9);
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const xb = tf.randomNormal([64, ...spec.input]);
  const yb = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % spec.classes), 'int32'), spec.classes));
  const run = async () => {
    const { value, grads } = withLazyConvInputGradient(() => tf.variableGrads(() => {
      const logits = model.apply(xb, { training: true }) as tf.Tensor;
      const loss = tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(yb, logits);
      hooks.afterForward?.();
      return loss;
    }, weights));
    hooks.afterGradients?.();
    applyGradientsWithDecay(optimizer, grads, 5e-4);
    tf.dispose(grads);
    await value.data();
    value.dispose();
  };
  return {
    model,
    run,
    dispose: () => {
      tf.dispose([xb, yb]);
      optimizer.dispose();
      model.dispose();
    },
  };
}
