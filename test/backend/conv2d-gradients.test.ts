/**
 * pul's wasm Conv2DBackpropFilter / Conv2DBackpropInput against the cpu backend (tfjs's reference
 * kernels) on random inputs: stride 1 and 2, 'same' and 'valid', 1×1 and 3×3, batch 1 and > 1,
 * non-square images; max |difference| ≤ 1e-4 relative to the magnitude of the reference.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Rng, selectBackend, tf } from '../../src/index.js';
import { setColumnBudget } from '../../src/backend/kernels/column-budget.js';
import { relativeMaxError } from '../helpers/assert-close.js';

interface Case {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: 'same' | 'valid';
}

const CASES: Case[] = [];
for (const stride of [1, 2])
  for (const pad of ['same', 'valid'] as const)
    for (const kernel of [1, 3])
      for (const batch of [1, 3])
        CASES.push({ batch, height: 9, width: 6, inChannels: 3, outChannels: 5, kernel, stride, pad });
CASES.push({ batch: 2, height: 7, width: 12, inChannels: 16, outChannels: 8, kernel: 3, stride: 2, pad: 'same' });
CASES.push({ batch: 2, height: 8, width: 5, inChannels: 1, outChannels: 4, kernel: 3, stride: 1, pad: 'same' });
CASES.push({ batch: 2, height: 10, width: 8, inChannels: 4, outChannels: 6, kernel: 5, stride: 1, pad: 'valid' });
// few taps and output channels a multiple of 8: the native direct kernels (a first layer's shapes)
CASES.push({ batch: 3, height: 9, width: 7, inChannels: 1, outChannels: 32, kernel: 3, stride: 1, pad: 'same' });
CASES.push({ batch: 2, height: 11, width: 6, inChannels: 3, outChannels: 24, kernel: 3, stride: 2, pad: 'valid' });
CASES.push({ batch: 2, height: 8, width: 9, inChannels: 2, outChannels: 8, kernel: 5, stride: 2, pad: 'same' });
// stride 1 and input channels a multiple of 8 (≤ 64): the input gradient as a direct convolution of dy
// with the turned filter, its taps (9·co) past one KC block of 256
CASES.push({ batch: 2, height: 7, width: 6, inChannels: 16, outChannels: 24, kernel: 3, stride: 1, pad: 'same' });
CASES.push({ batch: 2, height: 9, width: 8, inChannels: 32, outChannels: 64, kernel: 3, stride: 1, pad: 'valid' });
CASES.push({ batch: 1, height: 6, width: 7, inChannels: 8, outChannels: 16, kernel: 5, stride: 1, pad: 'same' });

function randomArray(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** Gradients of Σ conv2d(x, w) ⊙ r with respect to x and w, on the active backend. */
async function gradients(c: Case, x: Float32Array, w: Float32Array, r: Float32Array, rShape: number[]): Promise<{ dx: Float32Array; dw: Float32Array }> {
  const xs = tf.tensor4d(x, [c.batch, c.height, c.width, c.inChannels]);
  const ws = tf.tensor4d(w, [c.kernel, c.kernel, c.inChannels, c.outChannels]);
  const rs = tf.tensor(r, rShape);
  const f = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.sum(tf.mul(tf.conv2d(a, b, c.stride, c.pad), rs));
  const [dx, dw] = tf.grads(f as (...t: tf.Tensor[]) => tf.Tensor)([xs, ws]) as [tf.Tensor, tf.Tensor];
  const out = { dx: (await dx.data()) as Float32Array, dw: (await dw.data()) as Float32Array };
  tf.dispose([xs, ws, rs, dx, dw]);
  return out;
}

function outSize(n: number, k: number, s: number, pad: 'same' | 'valid'): number {
  return pad === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

async function checkAll(label: string): Promise<void> {
  const rng = new Rng(42);
  for (const c of CASES) {
    const x = randomArray(rng, c.batch * c.height * c.width * c.inChannels);
    const w = randomArray(rng, c.kernel * c.kernel * c.inChannels * c.outChannels);
    const rShape = [c.batch, outSize(c.height, c.kernel, c.stride, c.pad), outSize(c.width, c.kernel, c.stride, c.pad), c.outChannels];
    const r = randomArray(rng, rShape.reduce((a, b) => a * b, 1));
    await selectBackend('cpu');
    const ref = await gradients(c, x, w, r, rShape);
    await selectBackend('wasm');
    const got = await gradients(c, x, w, r, rShape);
    const name = `${label} ${JSON.stringify(c)}`;
    assert.ok(relativeMaxError(got.dw, ref.dw) <= 1e-4, `${name}: dW relative error ${relativeMaxError(got.dw, ref.dw)}`);
    assert.ok(relativeMaxError(got.dx, ref.dx) <= 1e-4, `${name}: dx relative error ${relativeMaxError(got.dx, ref.dx)}`);
  }
}

after(() => setColumnBudget(1 << 25));

test('wasm conv2d gradients match the cpu backend', async () => {
  await checkAll('whole batch');
});

test('wasm conv2d gradients match the cpu backend when the batch is processed in chunks', async () => {
  setColumnBudget(64); // less than one image's columns: one image per chunk
  await checkAll('chunked');
  setColumnBudget(1 << 25);
});

test('the wasm backend registers pul kernels and trains a conv layer', async () => {
  const info = await selectBackend('wasm');
  assert.ok(info.pulKernels.includes('Conv2DBackpropFilter'));
  const before = tf.memory().numTensors;
  const init = tf.ones<tf.Rank.R4>([3, 3, 2, 4]);
  const w = tf.variable(init);
  const x = tf.ones<tf.Rank.R4>([2, 6, 5, 2]);
  const opt = tf.train.sgd(0.01);
  const loss = opt.minimize(() => tf.mean(tf.square(tf.conv2d(x, w, 1, 'same'))), true);
  assert.ok(loss !== null && (await loss.data())[0]! > 0);
  tf.dispose([loss, w, x, init]);
  opt.dispose();
  assert.equal(tf.memory().numTensors, before);
});
