/**
 * withLazyConvInputGradient (src/backend/fused-conv-gradient.ts): a conv net's variable gradients are the
 * same bits with it, the first convolution's input gradient is no longer computed, and no tensor leaks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectBackend, tf } from '../../src/index.js';
import { withLazyConvInputGradient } from '../../src/backend/fused-conv-gradient.js';

test('lazy fused-conv gradients: same variable gradients, no input gradient for the first convolution', async () => {
  await selectBackend('wasm');
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [9, 7, 2], filters: 8, kernelSize: 3, padding: 'same', useBias: false }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'valid', useBias: true }), // the bias path
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  });
  const x = tf.randomNormal([4, 9, 7, 2], 0, 1, 'float32', 1);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const grads = () => tf.variableGrads(() => tf.sum<tf.Scalar>(tf.square(model.apply(x) as tf.Tensor)), vars);
  const run = async (lazy: boolean) => {
    let values: Float32Array[] = [];
    const info = await tf.profile(async () => {
      const { value, grads: g } = lazy ? withLazyConvInputGradient(grads) : grads();
      values = await Promise.all(vars.map(async (v) => (await g[v.name]!.data()) as Float32Array));
      tf.dispose([value, ...Object.values(g)]);
    });
    return { values, inputGradients: info.kernels.filter((k) => k.name === 'Conv2DBackpropInput').length };
  };
  const eager = await run(false);
  const before = tf.memory().numTensors;
  const lazy = await run(true);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  assert.equal(eager.inputGradients, 2, 'tfjs computes both convolutions’ input gradients');
  assert.equal(lazy.inputGradients, 1, 'only the second convolution’s input gradient is needed');
  lazy.values.forEach((v, i) => assert.deepEqual(v, eager.values[i], `gradient of ${vars[i]!.name}`));
  assert.equal(tf.getGradient('fusedConv2d__op'), undefined, 'the gradient is registered only around the call');
  tf.dispose(x);
  model.dispose();
});
