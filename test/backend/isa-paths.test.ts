/**
 * The native GEMM on every instruction set this CPU runs (native/src/gemm.c picks AVX-512, AVX2 or the
 * portable kernel at load; PUL_ISA forces one): the SGEMM against a float64 reference and convolutions,
 * their gradients and matMul against the cpu backend, once per path. On an AVX-512 machine this covers the
 * AVX-512 and the forced AVX2 path; elsewhere the paths the CPU has (the test reports which ran).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Rng, selectBackend, tf } from '../../src/index.js';
import { loadNativeKernels } from '../../src/backend/native.js';
import { relativeMaxError } from '../helpers/assert-close.js';

function randomArray(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

function cpuFlags(): Set<string> {
  try {
    return new Set(/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

/** Σ conv(x, f)·r and its gradients, a fused conv + bias + ReLU, a transposed matMul: on the active backend. */
async function workload(rng: Rng): Promise<Float32Array[]> {
  const x = tf.tensor4d(randomArray(rng, 2 * 9 * 7 * 16), [2, 9, 7, 16]);
  const f = tf.tensor4d(randomArray(rng, 3 * 3 * 16 * 37), [3, 3, 16, 37]); // K = 144, 37 columns: partial panels
  const f5 = tf.tensor4d(randomArray(rng, 5 * 5 * 16 * 19), [5, 5, 16, 19]); // K = 400 > one KC block
  const bias = tf.tensor1d(randomArray(rng, 37));
  const r = tf.tensor4d(randomArray(rng, 2 * 9 * 7 * 19), [2, 9, 7, 19]);
  const a = tf.tensor2d(randomArray(rng, 257 * 41), [257, 41]);
  const b = tf.tensor2d(randomArray(rng, 23 * 257), [23, 257]);
  const loss = (xs: tf.Tensor4D, ws: tf.Tensor4D) => tf.sum(tf.mul(tf.conv2d(xs, ws, 1, 'same'), r));
  const [dx, df] = tf.grads(loss as (...t: tf.Tensor[]) => tf.Tensor)([x, f5]) as [tf.Tensor, tf.Tensor];
  // three input channels, 24 outputs (a 16- and an 8-wide tile): the direct kernels of a first layer
  const x3 = tf.tensor4d(randomArray(rng, 2 * 13 * 11 * 3), [2, 13, 11, 3]);
  const f3 = tf.tensor4d(randomArray(rng, 3 * 3 * 3 * 24), [3, 3, 3, 24]);
  const bias3 = tf.tensor1d(randomArray(rng, 24));
  const r3 = tf.tensor4d(randomArray(rng, 2 * 7 * 6 * 24), [2, 7, 6, 24]);
  const loss3 = (ws: tf.Tensor4D) => tf.sum(tf.mul(tf.conv2d(x3, ws, 2, 'same'), r3));
  const df3 = tf.grad(loss3 as (t: tf.Tensor) => tf.Tensor)(f3);
  const outs = [
    tf.fused.conv2d({ x, filter: f, strides: 1, pad: 'same', bias, activation: 'relu' }),
    tf.conv2d(x, f, 2, 'valid'),
    dx,
    df,
    tf.matMul(a, b, true, true), // 41 × 23 over k = 257 (an odd last block)
    tf.fused.conv2d({ x: x3, filter: f3, strides: 1, pad: 'same', bias: bias3, activation: 'relu' }),
    df3,
  ];
  const data = await Promise.all(outs.map(async (o) => (await o.data()) as Float32Array));
  tf.dispose([x, f, f5, bias, r, a, b, x3, f3, bias3, r3, ...outs]);
  return data;
}

test('the native kernels give the same results on every instruction-set path this CPU runs (PUL_ISA)', async (t) => {
  const native = loadNativeKernels(2).kernels;
  if (native === null) {
    t.skip('native kernels not available');
    return;
  }
  const paths = native.isas();
  const flags = cpuFlags();
  // the paths a CPU with these features must offer: AVX-512 and the AVX2 it can be forced down to
  if (flags.has('avx2') && flags.has('fma')) assert.ok(paths.includes('avx2'), `AVX2 CPU, paths ${paths.join(', ')}`);
  if (flags.has('avx512f')) assert.ok(paths.includes('avx512'), `AVX-512 CPU, paths ${paths.join(', ')}`);
  const chosen = native.isa();
  assert.equal(chosen, paths.at(-1), 'the default is the widest path');

  await selectBackend('cpu');
  const ref = await workload(new Rng(5));
  await selectBackend('wasm');
  try {
    for (const path of paths) {
      native.isa(path);
      assert.equal(native.isa(), path);
      const got = await workload(new Rng(5));
      got.forEach((g, i) => assert.ok(relativeMaxError(g, ref[i]!) <= 1e-4, `${path}: output ${i} relative error ${relativeMaxError(g, ref[i]!)}`));
      // the SGEMM alone against float64, odd and partial block sizes
      const rng = new Rng(9);
      for (const [m, n, k] of [[7, 17, 5], [13, 33, 257], [130, 70, 513]] as const) {
        const a = randomArray(rng, m * k);
        const b = randomArray(rng, k * n);
        const c = new Float32Array(m * n);
        native.sgemm(a, b, c, m, n, k, 0, 1);
        const expected = new Float64Array(m * n);
        for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) expected[i * n + j]! += a[i * k + p]! * b[j * k + p]!;
        assert.ok(relativeMaxError(c, expected) <= 1e-5, `${path} sgemm ${m}×${n}×${k}: ${relativeMaxError(c, expected)}`);
      }
    }
  } finally {
    native.isa('auto');
  }
  assert.equal(native.isa(), chosen);
  assert.throws(() => native.isa('avx9'), /cannot run/);
  t.diagnostic(`paths run: ${paths.join(', ')} (default ${chosen}; CPU ${flags.has('avx512f') ? 'with' : 'without'} AVX-512F)`);
});
