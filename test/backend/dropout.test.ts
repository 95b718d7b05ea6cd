/**
 * Seeded dropout fused on wasm (src/backend/dropout.ts) gives tf.dropout's bits on the cpu backend:
 * the output and the gradient, for two rates; one kernel call each way; no leaked tensors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng, tf } from '../../src/index.js';
import { seededDropout } from '../../src/backend/dropout.js';
import { cpuThenWasm } from '../helpers/for-each-backend.js';

test('seeded dropout on wasm: the cpu backend tf.dropout bits forward and backward, without leaks', async () => {
  const rng = new Rng(3);
  const values = Float32Array.from({ length: 65 * 128 }, () => rng.normal() * 3);
  const weights = Float32Array.from({ length: 65 * 128 }, () => rng.normal());
  const run = async () => {
    const out: number[][] = [];
    for (const [rate, seed] of [[0.5, 7], [0.3, 1234]] as const) {
      const x = tf.tensor2d(values, [65, 128]);
      const w = tf.tensor2d(weights, [65, 128]);
      const f = (t: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(seededDropout(t, rate, seed), w));
      const y = seededDropout(x, rate, seed);
      const dx = tf.grad(f)(x);
      out.push(Array.from(await y.data()), Array.from(await dx.data()));
      tf.dispose([x, w, y, dx]);
    }
    return out;
  };
  const { ref, got, leaked } = await cpuThenWasm(run);
  assert.equal(leaked, 0);
  assert.deepEqual(got, ref);
  const dropped = ref[0]!.filter((v) => v === 0).length / ref[0]!.length;
  assert.ok(dropped > 0.45 && dropped < 0.55, `rate 0.5 dropped ${dropped}`);
  assert.ok(Math.abs(ref[0]![values.findIndex((_, i) => ref[0]![i] !== 0)]!) > 0);

  // on wasm (still selected): one PulDropoutApply call forward and one backward
  const x = tf.tensor2d(values, [65, 128]);
  const info = await tf.profile(() => {
    const dx = tf.grad((t: tf.Tensor) => tf.sum<tf.Scalar>(seededDropout(t, 0.5, 7)))(x);
    dx.dispose();
  });
  assert.equal(info.kernels.filter((k) => k.name === 'PulDropoutApply').length, 2);
  assert.ok(!info.kernelNames.includes('Floor'), info.kernelNames.join(', '));
  x.dispose();
});
