/**
 * The fused softmax cross-entropy on wasm (src/backend/kernels/softmax-cross-entropy.ts) against the
 * op-by-op loss on the cpu backend: value and gradient, label smoothing, float and out-of-range labels,
 * finite differences, NaN propagation, no leaked tensors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crossEntropy, Rng, tf } from '../../src/index.js';
import { cpuThenWasm } from '../helpers/for-each-backend.js';
import { assertClose } from '../helpers/assert-close.js';
import { analyticGrad, numericGrad } from '../helpers/finite-differences.js';

test('fused softmax cross-entropy: the op-by-op value and gradient, one kernel each way, no leaks', async () => {
  const rng = new Rng(11);
  const n = 65;
  const k = 5;
  const logits = Array.from({ length: n }, () => Array.from({ length: k }, () => rng.normal() * 4));
  logits[3] = [80, -80, 0, 1, 2]; // far from 0: the max subtraction must hold
  const labels = Array.from({ length: n }, (_, i) => (i * 7) % k);
  labels[9] = k + 2; // outside [0, K): tf.oneHot's zero row
  const cases: { eps: number; dtype: 'int32' | 'float32' }[] = [
    { eps: 0, dtype: 'int32' },
    { eps: 0.1, dtype: 'int32' },
    { eps: 0.25, dtype: 'float32' },
  ];
  const run = async () => {
    const out: number[][] = [];
    for (const { eps, dtype } of cases) {
      const y = tf.tensor1d(labels, dtype);
      const x = tf.tensor2d(logits);
      const f = (t: tf.Tensor) => crossEntropy(t as tf.Tensor2D, y, { labelSmoothing: eps });
      const { value, grads } = tf.valueAndGrads(f)([x]);
      const dx = grads[0]!;
      out.push([(await value.data())[0]!], Array.from(await dx.data()));
      tf.dispose([x, y, value, dx]);
    }
    return out;
  };
  const { ref, got, leaked } = await cpuThenWasm(run);
  assert.equal(leaked, 0);
  for (let i = 0; i < ref.length; i++) assertClose(got[i]!, ref[i]!, { atol: 1e-6, rtol: 1e-5, label: `case ${i >> 1} ${i % 2 ? 'gradient' : 'loss'}` });
  assert.ok(ref[0]![0]! > 0.5, 'a real loss');

  // on wasm (still selected): the fused kernels ran, one call forward and one backward
  const y = tf.tensor1d(labels, 'int32');
  const x = tf.tensor2d(logits);
  const info = await tf.profile(() => {
    const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => crossEntropy(t as tf.Tensor2D, y, { labelSmoothing: 0.1 }))([x]);
    tf.dispose([value, ...grads]);
  });
  assert.deepEqual(info.kernelNames.filter((name) => name.startsWith('PulSoftmax')).sort(), ['PulSoftmaxCrossEntropy', 'PulSoftmaxCrossEntropyGrad']);
  assert.ok(info.kernelNames.length <= 4, `kernels: ${info.kernelNames.join(', ')}`);

  // finite differences of the fused op itself (small logits, gradient O(1/N))
  const small = logits.slice(0, 4).map((row) => row.map((v) => v / 4));
  const y4 = tf.tensor1d(labels.slice(0, 4), 'int32');
  const f = (t: tf.Tensor2D) => crossEntropy(t, y4, { labelSmoothing: 0.1 });
  assertClose(analyticGrad(f, small), numericGrad(f, small), { atol: 2e-3, rtol: 1e-2, label: 'finite differences' });

  // a NaN logit reaches the loss (divergence must stop training)
  const bad = tf.tensor2d([[0, Number.NaN], [1, 2]]);
  const y2 = tf.tensor1d([0, 1], 'int32');
  const lossOfBad = crossEntropy(bad, y2);
  assert.ok(Number.isNaN((await lossOfBad.data())[0]!));
  tf.dispose([x, y, y4, bad, y2, lossOfBad]);
});
