/**
 * pul's wasm MaxPoolGrad and one-pass batch-norm gradient against the cpu backend on random inputs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng, selectBackend, tf } from '../../src/index.js';
import { relativeMaxError } from '../helpers/assert-close.js';

function randomArray(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

async function onBothBackends(compute: () => Promise<Float32Array[]>): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  await selectBackend('cpu');
  const cpu = await compute();
  await selectBackend('wasm');
  const wasm = await compute();
  return { cpu, wasm };
}

test('wasm MaxPoolGrad matches the cpu backend (pool 2 and 3, stride 1 and 2, same and valid, odd sizes, ties)', async () => {
  const rng = new Rng(3);
  for (const [pool, stride, pad, channels] of [
    [2, 2, 'valid', 3],
    [3, 2, 'same', 3],
    [3, 1, 'same', 3],
    [2, 1, 'valid', 3],
    [2, 2, 'valid', 11], // the native kernel's 4-channel vector steps and a tail
    [3, 1, 'same', 11],
  ] as const) {
    const shape: [number, number, number, number] = [2, 7, 6, channels];
    // with many channels, values on a coarse grid: tied maxima, where the first in scan order must win
    const x = randomArray(rng, 2 * 7 * 6 * channels).map((v) => (channels > 3 ? Math.round(v * 2) / 2 : v));
    const out = tf.tidy(() => tf.maxPool(tf.tensor4d(x, shape), pool, stride, pad)).shape;
    const r = randomArray(rng, out.reduce((a, b) => a * b, 1));
    const { cpu, wasm } = await onBothBackends(async () => {
      const g = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, pool, stride, pad), tf.tensor(r, out))))(tf.tensor4d(x, shape)));
      const d = (await g.data()) as Float32Array;
      g.dispose();
      return [d];
    });
    assert.ok(relativeMaxError(wasm[0]!, cpu[0]!) <= 1e-6, `pool ${pool} stride ${stride} ${pad} ${channels} channels: ${relativeMaxError(wasm[0]!, cpu[0]!)}`);
  }
});

test('wasm batch-norm gradients (x, mean, variance, scale, offset) match the cpu backend', async () => {
  const rng = new Rng(5);
  for (const shape of [
    [4, 5, 3, 6],
    [16, 8],
  ]) {
    const size = shape.reduce((a, b) => a * b, 1);
    const channels = shape.at(-1)!;
    const x = randomArray(rng, size);
    const r = randomArray(rng, size);
    const mean = randomArray(rng, channels);
    const variance = randomArray(rng, channels).map((v) => v * v + 0.5);
    const scale = randomArray(rng, channels);
    const offset = randomArray(rng, channels);
    const { cpu, wasm } = await onBothBackends(async () => {
      const grads = tf.tidy(() =>
        tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => tf.sum(tf.mul(tf.batchNorm(a, m, v, o, s, 1e-3), tf.tensor(r, shape))))([
          tf.tensor(x, shape),
          tf.tensor1d(mean),
          tf.tensor1d(variance),
          tf.tensor1d(scale),
          tf.tensor1d(offset),
        ]),
      );
      const data = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
      tf.dispose(grads);
      return data;
    });
    ['x', 'mean', 'variance', 'scale', 'offset'].forEach((name, i) => {
      const err = relativeMaxError(wasm[i]!, cpu[i]!);
      assert.ok(err <= 1e-4, `${JSON.stringify(shape)} d${name}: relative error ${err}`);
    });
  }
});

// With scale and offset, as tf.layers' BN passes them (plain tfjs-wasm 4.22 fails when both are omitted).
test('batch-norm moments gradient (training-mode BN layer) matches the cpu backend end to end', async () => {
  const rng = new Rng(9);
  const x = randomArray(rng, 6 * 4 * 4 * 5);
  const r = randomArray(rng, 6 * 4 * 4 * 5);
  const { cpu, wasm } = await onBothBackends(async () => {
    const g = tf.tidy(() =>
      tf.grad((a: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        return tf.sum(tf.mul(tf.batchNorm(a, mean, variance, tf.zeros([5]), tf.ones([5]), 1e-3), tf.tensor(r, [6, 4, 4, 5])));
      })(tf.tensor(x, [6, 4, 4, 5])),
    );
    const d = (await g.data()) as Float32Array;
    g.dispose();
    return [d];
  });
  assert.ok(relativeMaxError(wasm[0]!, cpu[0]!) <= 1e-4, `dx relative error ${relativeMaxError(wasm[0]!, cpu[0]!)}`);
});

test('wasm Sum and Mean over leading axes match the cpu backend; other reductions still work', async () => {
  const rng = new Rng(11);
  const x = randomArray(rng, 3 * 4 * 5 * 6);
  const { cpu, wasm } = await onBothBackends(async () => {
    const outs = tf.tidy(() => {
      const t = tf.tensor(x, [3, 4, 5, 6]);
      // [1, 2]: global average pooling (per image)
      return [tf.sum(t, [0, 1, 2]), tf.mean(t, [0, 1, 2], true), tf.mean(t, [-4, -3, -2]), tf.sum(t, [1, 2]), tf.mean(t, 3), tf.sum(t), tf.mean(t, [1, 2], true), tf.mean(t, [2, 1])];
    });
    const data = await Promise.all(outs.map(async (o) => (await o.data()) as Float32Array));
    assert.deepEqual(outs[1]!.shape, [1, 1, 1, 6]);
    assert.deepEqual(outs[6]!.shape, [3, 1, 1, 6]);
    tf.dispose(outs);
    return data;
  });
  cpu.forEach((ref, i) => assert.ok(relativeMaxError(wasm[i]!, ref) <= 1e-5, `reduction ${i}: ${relativeMaxError(wasm[i]!, ref)}`));
});

test('the gradient of a per-channel mean and of global average pooling match the cpu backend (and other means still work)', async () => {
  const rng = new Rng(13);
  const x = randomArray(rng, 3 * 4 * 5 * 6);
  const r6 = randomArray(rng, 6);
  const r4 = randomArray(rng, 3 * 4 * 5);
  const r36 = randomArray(rng, 3 * 6);
  const { cpu, wasm } = await onBothBackends(async () => {
    const grads = tf.tidy(() => [
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.mean(a, [0, 1, 2]), tf.tensor1d(r6))))(tf.tensor(x, [3, 4, 5, 6])),
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.mean(a, 3), tf.tensor(r4, [3, 4, 5]))))(tf.tensor(x, [3, 4, 5, 6])),
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.mean(a, [1, 2]), tf.tensor(r36, [3, 6]))))(tf.tensor(x, [3, 4, 5, 6])),
    ]);
    const data = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
    tf.dispose(grads);
    return data;
  });
  cpu.forEach((ref, i) => assert.ok(relativeMaxError(wasm[i]!, ref) <= 1e-5, `mean gradient ${i}: ${relativeMaxError(wasm[i]!, ref)}`));
  assert.deepEqual(wasm[2], cpu[2], 'global average pooling: the same bits');
});

test('Identity and same-dtype Cast share data without leaking, other casts convert', async () => {
  await selectBackend('wasm');
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([1.5, -2, 3]);
  const copies = [tf.clone(x), tf.cast(x, 'float32'), tf.cast(x, 'int32'), tf.cast(x, 'bool')];
  x.dispose(); // the shared copies must outlive the original
  assert.deepEqual(await copies[0]!.data(), Float32Array.from([1.5, -2, 3]));
  assert.deepEqual(await copies[1]!.data(), Float32Array.from([1.5, -2, 3]));
  assert.deepEqual(Array.from(await copies[2]!.data()), [1, -2, 3]);
  assert.deepEqual(Array.from(await copies[3]!.data()), [1, 1, 1]);
  tf.dispose(copies);
  assert.equal(tf.memory().numTensors, before);
});
