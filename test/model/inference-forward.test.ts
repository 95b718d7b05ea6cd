import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildModel, disposeModel, MODEL_PRESETS, Rng, tf } from '../../src/index.js';
import { inferenceForward } from '../../src/model/inference-forward.js';
import { relativeMaxError } from '../helpers/assert-close.js';
import { useBackend } from '../helpers/for-each-backend.js';

/** Gives every batch norm of `model` non-trivial scale, offset and running statistics (a fresh net has 1, 0, 0, 1). */
function randomiseBatchNorms(model: tf.LayersModel, rng: Rng): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(layer.getWeights().map((w, i) => {
      // order: gamma, beta, moving mean, moving variance (> 0)
      const values = Float32Array.from({ length: w.size }, () => (i === 3 ? 0.2 + rng.next() * 2 : i === 0 ? 0.5 + rng.next() : rng.next() - 0.5));
      return tf.tensor(values, w.shape);
    }));
  }
}

function images(n: number, rng: Rng): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from({ length: n * 784 }, () => rng.next() * 2 - 1), [n, 28, 28, 1]);
}

/** The layers' own inference path on the cpu backend (the reference) and the folded forward on `backend`. */
async function compare(embedder: tf.LayersModel, x: tf.Tensor4D, backend: 'cpu' | 'wasm'): Promise<{ error: number; folded: boolean }> {
  await useBackend('cpu');
  const ref = tf.tidy(() => embedder.predict(x) as tf.Tensor).dataSync();
  await useBackend(backend);
  const before = tf.memory().numTensors;
  const forward = inferenceForward(embedder);
  const out = tf.tidy(() => forward(x));
  const got = out.dataSync();
  out.dispose();
  forward.dispose();
  assert.equal(tf.memory().numTensors, before, 'the folded weights are released');
  return { error: relativeMaxError(got, ref), folded: forward.folded };
}

describe('inferenceForward: batch norm folded into the convolutions and dense layers', () => {
  it('the fmnist net: conv → BN → ReLU folded, features equal to the layers path on cpu within float rounding (cpu and wasm)', async () => {
    await useBackend('cpu');
    const rng = new Rng(3);
    const model = await buildModel({ ...MODEL_PRESETS.fmnist, classes: 5 }, rng);
    randomiseBatchNorms(model.net, rng);
    const x = images(9, rng);
    for (const backend of ['cpu', 'wasm'] as const) {
      const { error, folded } = await compare(model.embedder, x, backend);
      assert.equal(folded, true);
      assert.ok(error < 1e-5, `${backend}: relative error ${error}`);
    }
    // PUL_FOLD_BN=0's path: the layers' own inference, not folded
    const plain = inferenceForward(model.embedder, { fold: false });
    assert.equal(plain.folded, false);
    x.dispose();
    disposeModel(model);
  });

  it('a conv with bias, BN, average pooling, flatten, dense → BN → ReLU and a tanh dense fold too', async () => {
    await useBackend('cpu');
    const rng = new Rng(5);
    const input = tf.input({ shape: [28, 28, 1] });
    let h = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid', useBias: true, biasInitializer: 'glorotNormal' }).apply(input) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ epsilon: 1e-5 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
    h = tf.layers.averagePooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
    h = tf.layers.dense({ units: 16 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.reLU().apply(h) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 8, activation: 'tanh' }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    randomiseBatchNorms(model, rng);
    const x = images(5, rng);
    for (const backend of ['cpu', 'wasm'] as const) {
      const { error, folded } = await compare(model, x, backend);
      assert.equal(folded, true);
      assert.ok(error < 1e-5, `${backend}: relative error ${error}`);
    }
    x.dispose();
    model.dispose();
  });

  it('a graph it does not cover (GeM pooling) runs the layers path: same features, nothing folded', async () => {
    await useBackend('cpu');
    const rng = new Rng(7);
    const model = await buildModel({ ...MODEL_PRESETS.fmnist, classes: 5, pooling: 'gem' }, rng);
    randomiseBatchNorms(model.net, rng);
    const x = images(4, rng);
    const { error, folded } = await compare(model.embedder, x, 'wasm');
    assert.equal(folded, false);
    assert.ok(error < 1e-4, `relative error ${error}`);
    x.dispose();
    disposeModel(model);
  });
});
