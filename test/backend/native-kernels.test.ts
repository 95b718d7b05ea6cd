/**
 * pul's native kernels: the SGEMM against a float64 reference, forward convolutions (plain and fused
 * with bias + ReLU) against the cpu backend, and every backend test again with the native kernels off
 * (PUL_NATIVE=0), so that both the native and the WebAssembly/JS paths stay tested.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Rng, selectBackend, tf } from '../../src/index.js';
import { relativeMaxError } from '../helpers/assert-close.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function randomArray(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** Runs `make` on the cpu backend (the reference), then on wasm; returns each output's data and shape. */
async function cpuAndWasm(make: () => tf.Tensor[]): Promise<{ ref: { d: Float32Array; shape: number[] }[]; got: { d: Float32Array; shape: number[] }[] }> {
  const run = async () => {
    const outs = tf.tidy(make);
    const data = await Promise.all(outs.map(async (o) => ({ d: (await o.data()) as Float32Array, shape: o.shape })));
    tf.dispose(outs);
    return data;
  };
  await selectBackend('cpu');
  const ref = await run();
  await selectBackend('wasm');
  return { ref, got: await run() };
}

test('the native kernels load here and report their threads', async (t) => {
  const info = await selectBackend('wasm');
  if (process.env['PUL_NATIVE'] === '0') {
    assert.equal(info.native?.loaded, false);
    assert.match(info.native?.reason ?? '', /PUL_NATIVE=0/);
    return;
  }
  if (!info.native?.loaded) {
    t.skip(`native kernels not built here: ${info.native?.reason ?? ''}`);
    return;
  }
  assert.ok((info.native.threads ?? 0) >= 1);
  assert.ok(info.pulKernels.includes('Conv2D') && info.pulKernels.includes('FusedConv2D'));
});

test('native SGEMM matches a float64 reference for every transpose combination and edge sizes', async (t) => {
  const { loadNativeKernels } = await import('../../src/backend/native.js');
  const native = loadNativeKernels(2).kernels;
  if (native === null) {
    t.skip('native kernels not available');
    return;
  }
  const rng = new Rng(21);
  for (const [m, n, k] of [[1, 1, 1], [7, 17, 5], [6, 16, 256], [13, 33, 300], [130, 70, 513]] as const) {
    for (const ta of [0, 1]) {
      for (const tb of [0, 1]) {
        const a = randomArray(rng, m * k);
        const b = randomArray(rng, k * n);
        const c = new Float32Array(m * n);
        native.sgemm(a, b, c, m, n, k, ta, tb);
        const ref = new Float64Array(m * n);
        for (let i = 0; i < m; i++)
          for (let p = 0; p < k; p++) {
            const av = ta ? a[p * m + i]! : a[i * k + p]!;
            for (let j = 0; j < n; j++) ref[i * n + j]! += av * (tb ? b[j * k + p]! : b[p * n + j]!);
          }
        assert.ok(relativeMaxError(c, ref) <= 1e-5, `${m}x${n}x${k} ta=${ta} tb=${tb}: ${relativeMaxError(c, ref)}`);
      }
    }
  }
  assert.throws(() => native.sgemm(new Float32Array(2), new Float32Array(4), new Float32Array(4), 2, 2, 2, 0, 0), /bad arguments/);
});

test('SGEMM from a packed B gives the bits of the plain SGEMM (blocks across NC and KC, every core)', async (t) => {
  const { loadNativeKernels } = await import('../../src/backend/native.js');
  const native = loadNativeKernels(2).kernels;
  if (native === null) {
    t.skip('native kernels not available');
    return;
  }
  const rng = new Rng(22);
  // 4100 columns span three NC blocks of 2048 (the last partial, not a multiple of 16); 300 > KC = 256
  for (const [m, n, k] of [[1, 1, 1], [8, 4100, 300], [13, 37, 256], [2, 2100, 5]] as const) {
    for (const ta of [0, 1]) {
      for (const tb of [0, 1]) {
        const a = randomArray(rng, m * k);
        const b = randomArray(rng, k * n);
        const plain = new Float32Array(m * n);
        native.sgemm(a, b, plain, m, n, k, ta, tb);
        const length = native.sgemmPackB(b, new Float32Array(0), n, k, tb);
        assert.equal(length, k * Math.ceil(n / 16) * 16);
        const packed = new Float32Array(length);
        native.sgemmPackB(b, packed, n, k, tb);
        const c = new Float32Array(m * n).fill(Number.NaN); // overwritten, not accumulated
        native.sgemmPacked(a, packed, c, m, n, k, ta);
        assert.deepEqual(c, plain, `${m}x${n}x${k} ta=${ta} tb=${tb}`);
      }
    }
  }
  assert.throws(() => native.sgemmPacked(new Float32Array(4), new Float32Array(15), new Float32Array(4), 2, 2, 2, 0), /bad arguments/);
});

test('forward convolutions (plain, fused bias + ReLU, strided, 1×1, direct with taps past one KC block) match the cpu backend', async () => {
  const rng = new Rng(23);
  for (const [h, w, ci, co, k, s, pad] of [[9, 7, 3, 5, 3, 1, 'same'], [8, 8, 4, 6, 3, 2, 'same'], [9, 9, 2, 3, 3, 2, 'valid'], [10, 6, 3, 4, 1, 1, 'valid'], [7, 5, 16, 8, 5, 1, 'same'], [8, 8, 32, 64, 3, 1, 'same'], [7, 7, 40, 24, 3, 2, 'same']] as const) {
    const x = randomArray(rng, 2 * h * w * ci);
    const f = randomArray(rng, k * k * ci * co);
    const bias = randomArray(rng, co);
    const { ref, got } = await cpuAndWasm(() => {
      const xt = tf.tensor4d(x, [2, h, w, ci]);
      const ft = tf.tensor4d(f, [k, k, ci, co]);
      return [tf.conv2d(xt, ft, s, pad), tf.fused.conv2d({ x: xt, filter: ft, strides: s, pad, bias: tf.tensor1d(bias), activation: 'relu' })];
    });
    ref.forEach(({ d: r }, i) => assert.ok(relativeMaxError(got[i]!.d, r) <= 1e-5, `${h}x${w} ${ci}->${co} k${k} s${s} ${pad} output ${i}: ${relativeMaxError(got[i]!.d, r)}`));
  }
});

test('all backend tests pass with the native kernels off (the WebAssembly/JS kernels)', { skip: process.env['PUL_NATIVE'] === '0' }, () => {
  const files = ['conv2d-gradients.test.js', 'pool-and-norm-gradients.test.js', 'sgd-momentum.test.js', 'lazy-conv-gradient.test.js'].map((f) => path.join(here, f));
  // Without NODE_TEST_CONTEXT the nested runner reports plain TAP instead of talking to this one.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--test', ...files], { env: { ...env, PUL_NATIVE: '0' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout.slice(-3000));
  assert.match(r.stdout, /# fail 0/);
});

test('batch-norm forward (with and without scale/offset, 2-D and 4-D, many rows) matches the cpu backend', async () => {
  const rng = new Rng(29);
  for (const [shape, withAffine] of [[[3, 5, 4, 6], true], [[3, 5, 4, 6], false], [[70, 130], true], [[4, 33, 31, 3], true]] as const) {
    const c = shape.at(-1)!;
    const x = randomArray(rng, shape.reduce((a, b) => a * b, 1));
    const [mean, scale, offset] = [randomArray(rng, c), randomArray(rng, c), randomArray(rng, c)];
    const variance = Float32Array.from(randomArray(rng, c), (v) => v * v + 0.1);
    const run = async () => {
      const y = tf.tidy(() => tf.batchNorm(tf.tensor(x, [...shape]), tf.tensor1d(mean), tf.tensor1d(variance), withAffine ? tf.tensor1d(offset) : undefined, withAffine ? tf.tensor1d(scale) : undefined, 1e-3));
      const data = (await y.data()) as Float32Array;
      y.dispose();
      return data;
    };
    await selectBackend('cpu');
    const ref = await run();
    await selectBackend('wasm');
    const got = await run();
    assert.ok(relativeMaxError(got, ref) <= 1e-5, `${shape.join('×')} affine ${withAffine}: ${relativeMaxError(got, ref)}`);
  }
});

test('matMul (transposes, batches, a broadcast B, few rows × many columns) matches the cpu backend', async () => {
  const rng = new Rng(29);
  const cases: [number[], number[], boolean, boolean][] = [
    [[37, 70], [70, 19], false, false],
    [[70, 37], [70, 19], true, false],
    [[37, 70], [19, 70], false, true],
    [[70, 37], [19, 70], true, true],
    [[3, 5, 8], [3, 8, 4], false, false],
    [[3, 5, 8], [8, 4], false, false],
    [[2, 3, 9, 6], [1, 1, 6, 7], false, false],
    // few rows, many columns: the native GEMM splits the columns over the cores (k-means++ candidates)
    [[9, 120], [120, 4133], false, false],
    [[9, 120], [4133, 120], false, true],
  ];
  for (const [as, bs, ta, tb] of cases) {
    const a = randomArray(rng, as.reduce((x, y) => x * y, 1));
    const b = randomArray(rng, bs.reduce((x, y) => x * y, 1));
    const run = async () => {
      const c = tf.tidy(() => tf.matMul(tf.tensor(a, as), tf.tensor(b, bs), ta, tb));
      const d = (await c.data()) as Float32Array;
      const shape = c.shape;
      c.dispose();
      return { d, shape };
    };
    await selectBackend('cpu');
    const ref = await run();
    await selectBackend('wasm');
    const got = await run();
    assert.deepEqual(got.shape, ref.shape);
    assert.ok(relativeMaxError(got.d, ref.d) <= 1e-5, `${JSON.stringify([as, bs, ta, tb])}: ${relativeMaxError(got.d, ref.d)}`);
  }
});

test('a NaN input stays NaN through a fused convolution + ReLU (divergence must reach the loss)', async () => {
  await selectBackend('wasm');
  const y = tf.tidy(() => tf.fused.conv2d({ x: tf.tensor4d([Number.NaN, 1, 2, 3], [1, 2, 2, 1]), filter: tf.ones([1, 1, 1, 2]), strides: 1, pad: 'same', activation: 'relu' }));
  const values = Array.from(await y.data());
  y.dispose();
  assert.ok(Number.isNaN(values[0]!) && Number.isNaN(values[1]!), `got ${values.join(', ')}`);
  assert.deepEqual(values.slice(2), [1, 1, 2, 2, 3, 3]);
});

test('max pooling (2×2 valid, 3×3 stride 2 same, odd sizes, many images) matches the cpu backend bit for bit; a NaN in a window gives NaN', async () => {
  const rng = new Rng(29);
  for (const [n, h, w, c, k, s, pad] of [[65, 8, 8, 32, 2, 2, 'valid'], [3, 9, 7, 5, 3, 2, 'same'], [2, 7, 6, 12, 2, 1, 'same']] as const) {
    const x = randomArray(rng, n * h * w * c);
    const { ref, got } = await cpuAndWasm(() => [tf.maxPool(tf.tensor4d(x, [n, h, w, c]), k, s, pad)]);
    assert.deepEqual(got[0]!.shape, ref[0]!.shape);
    assert.deepEqual(got[0]!.d, ref[0]!.d, `${n}×${h}×${w}×${c} pool ${k} stride ${s} ${pad}`);
  }
  await selectBackend('wasm');
  const y = tf.tidy(() => tf.maxPool(tf.tensor4d([1, Number.NaN, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]), 2, 2, 'valid'));
  const values = Array.from(await y.data());
  y.dispose();
  assert.ok(Number.isNaN(values[1]!) && values[0] === 7, `got ${values.join(', ')}`);
});

test('training is repeatable bit for bit on wasm (threaded kernels sum in a fixed order)', async () => {
  await selectBackend('wasm');
  const { MODEL_PRESETS, buildModel, disposeModel } = await import('../../src/index.js');
  const trainTwice = async () => {
    const model = await buildModel(MODEL_PRESETS.fmnist, new Rng(5));
    const rng = new Rng(6);
    const x = tf.tensor4d(randomArray(rng, 64 * 28 * 28), [64, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 10), 'int32'), 10);
    const optimizer = tf.train.momentum(0.05, 0.9);
    for (let step = 0; step < 3; step++) {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, (model.net.apply(x, { training: true }) as tf.Tensor[])[1]!), true);
      loss?.dispose();
    }
    const weights = await Promise.all(model.net.trainableWeights.map(async (w) => (await w.read().data()) as Float32Array));
    tf.dispose([x, y]);
    optimizer.dispose();
    disposeModel(model);
    return weights;
  };
  const a = await trainTwice();
  const b = await trainTwice();
  a.forEach((w, i) => assert.deepEqual(w, b[i], `weight ${i} differs between two seeded runs`));
});

test('selectClusteringBackend: the native kernels alone (tfjs not even loaded) when they load, else the tfjs backend', async () => {
  const nativeHere = (await selectBackend('wasm')).native?.loaded === true;
  const index = path.join(here, '../../src/index.js');
  const script = `const pul = await import(${JSON.stringify(index)});
const info = await pul.selectClusteringBackend(process.env.CHOICE || undefined);
const loaded = Object.keys((await import('node:module')).createRequire(process.cwd() + '/').cache).some((f) => f.includes('tfjs-core'));
console.log(JSON.stringify({ backend: info?.backend ?? null, current: pul.currentBackend()?.backend ?? null, tfjsLoaded: loaded }));`;
  const run = (env: Record<string, string>) => {
    const { NODE_TEST_CONTEXT: _, ...rest } = process.env;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...rest, CHOICE: '', ...env }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { backend: string | null; current: string | null; tfjsLoaded: boolean };
  };
  if (nativeHere) {
    assert.deepEqual(run({}), { backend: null, current: null, tfjsLoaded: false });
    assert.deepEqual(run({ CHOICE: 'wasm' }), { backend: null, current: null, tfjsLoaded: false });
  }
  assert.deepEqual(run({ PUL_NATIVE: '0', CHOICE: 'wasm' }), { backend: 'wasm', current: 'wasm', tfjsLoaded: true });
  assert.deepEqual(run({ CHOICE: 'cpu' }), { backend: 'cpu', current: 'cpu', tfjsLoaded: true });
});

test('element-wise Add, Sub, Multiply, Square of large tensors (b whole, per channel, one value, other broadcasts) give the cpu backend bits', async () => {
  const rng = new Rng(31);
  const cases: [number[], number[]][] = [
    [[4, 28, 28, 32], [4, 28, 28, 32]],
    [[4, 28, 28, 32], [1, 1, 1, 32]],
    [[4, 28, 28, 32], [32]],
    [[4, 28, 28, 32], []],
    [[3, 100, 117], [3, 100, 117]], // not a multiple of the native block
    [[4, 28, 28, 32], [28, 32]], // a broadcast the native kernel leaves to the backend's
  ];
  for (const [as, bs] of cases) {
    const a = randomArray(rng, as.reduce((x, y) => x * y, 1));
    const b = randomArray(rng, bs.reduce((x, y) => x * y, 1));
    a[5] = Number.NaN; // NaN must stay NaN
    const { ref, got } = await cpuAndWasm(() => {
      const at = tf.tensor(a, as);
      const bt = tf.tensor(b, bs);
      return [tf.add(at, bt), tf.sub(at, bt), tf.mul(at, bt), tf.square(at)];
    });
    ref.forEach((r, i) => {
      assert.deepEqual(got[i]!.shape, r.shape);
      assert.deepEqual(got[i]!.d, r.d, `${JSON.stringify([as, bs])} output ${i}`);
    });
  }
});

test('fused matMul (dense layers: bias, linear and ReLU, transposes) and its gradients match the cpu backend', async () => {
  const rng = new Rng(37);
  const a = randomArray(rng, 64 * 130);
  const b = randomArray(rng, 130 * 21);
  const bias = randomArray(rng, 21);
  const { ref, got } = await cpuAndWasm(() => {
    const at = tf.tensor2d(a, [64, 130]);
    const bt = tf.tensor2d(b, [130, 21]);
    const biasT = tf.tensor1d(bias);
    const [da, db, dbias] = tf.grads((x: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => tf.sum(tf.square(tf.fused.matMul({ a: x, b: w, bias: c, activation: 'relu' }))))([at, bt, biasT]);
    return [
      tf.fused.matMul({ a: at, b: bt, bias: biasT, activation: 'relu' }),
      tf.fused.matMul({ a: at, b: bt, bias: biasT }),
      tf.fused.matMul({ a: at.transpose(), b: bt.transpose(), transposeA: true, transposeB: true }),
      tf.fused.matMul({ a: at, b: bt, activation: 'elu' }), // not covered: the backend's kernel
      da!,
      db!,
      dbias!,
    ];
  });
  ref.forEach((r, i) => {
    assert.deepEqual(got[i]!.shape, r.shape);
    assert.ok(relativeMaxError(got[i]!.d, r.d) <= 1e-5, `output ${i}: ${relativeMaxError(got[i]!.d, r.d)}`);
  });
});
