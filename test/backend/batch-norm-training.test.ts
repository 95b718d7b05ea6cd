/**
 * The fused training-mode batch norm (+ ReLU) of the wasm backend's native kernels
 * (src/backend/batch-norm-training.ts): outputs, moving statistics and every gradient of a small graph
 * against the cpu backend and against tfjs-layers' own path on wasm (PUL_FUSED_BN off), finite
 * differences, float64 statistics, every instruction-set path, ghost batch norm on a pul network, leaks.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MODEL_PRESETS, Rng, buildModel, disposeModel, forwardTraining, selectBackend, tf, type ModelSpec } from '../../src/index.js';
import { setFusedBatchNorm } from '../../src/backend/batch-norm-training.js';
import { BATCH_NORM_TRAINING_KERNEL } from '../../src/backend/kernels/batch-norm-training.js';
import { loadNativeKernels } from '../../src/backend/native.js';
import { batchNorm, conv } from '../../src/model/layers.js';
import { assertClose, relativeMaxError } from '../helpers/assert-close.js';
import { analyticGrad, numericGrad } from '../helpers/finite-differences.js';

type Sym = tf.SymbolicTensor;

/** Whether the fused kernel exists here (wasm with a native addon that has it). */
async function fusedAvailable(): Promise<boolean> {
  const info = await selectBackend('wasm');
  return info.native?.loaded === true && tf.getKernel(BATCH_NORM_TRAINING_KERNEL, 'wasm') !== undefined;
}

function randomArray(rng: Rng, n: number, scale = 1, shift = 0): Float32Array {
  return Float32Array.from({ length: n }, () => shift + scale * rng.normal());
}

/** Random scale, offset and moving statistics for every BN layer (initial ones are 1, 0, 0, 1). */
function randomiseBatchNorms(net: tf.LayersModel, rng: Rng): void {
  for (const layer of net.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const c = layer.getWeights()[0]!.shape[0];
    tf.tidy(() => layer.setWeights([
      tf.tensor1d(randomArray(rng, c, 0.5, 1)),
      tf.tensor1d(randomArray(rng, c, 0.5)),
      tf.tensor1d(randomArray(rng, c, 0.2)),
      tf.tensor1d(Float32Array.from({ length: c }, () => 0.5 + rng.next())),
    ]));
  }
}

/**
 * conv → BN → ReLU (fused with the ReLU) → conv → BN feeding both a ReLU and a pooling (not fused with
 * it: two consumers) → dense → BN on 2-D input (no ReLU after it).
 */
function buildGraph(): tf.LayersModel {
  const rng = new Rng(3);
  const input = tf.input({ shape: [5, 6, 3] });
  const r1 = tf.layers.reLU().apply(batchNorm().apply(conv(input, 8, rng))) as Sym;
  const b2 = batchNorm().apply(conv(r1, 13, rng)) as Sym;
  const p1 = tf.layers.globalAveragePooling2d({}).apply(tf.layers.reLU().apply(b2)) as Sym;
  const p2 = tf.layers.globalAveragePooling2d({}).apply(b2) as Sym;
  const d = tf.layers.dense({ units: 6, kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }).apply(tf.layers.concatenate().apply([p1, p2])) as Sym;
  const net = tf.model({ inputs: input, outputs: batchNorm().apply(d) as Sym });
  randomiseBatchNorms(net, rng);
  return net;
}

interface GraphRun {
  readonly output: Float32Array;
  readonly grads: Float32Array[];
  readonly moving: Float32Array[];
  readonly kernels: readonly string[];
}

/** One training-mode forward + backward of buildGraph() on the active backend, with what it produced. */
async function runGraph(): Promise<GraphRun> {
  const net = buildGraph();
  const rng = new Rng(8);
  const x = tf.tensor4d(randomArray(rng, 7 * 5 * 6 * 3), [7, 5, 6, 3]);
  const r = tf.tensor2d(randomArray(rng, 7 * 6), [7, 6]);
  const weights = net.trainableWeights.map((w) => w.read() as tf.Variable);
  let output: Float32Array = new Float32Array();
  const profile = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => {
      const y = net.apply(x, { training: true }) as tf.Tensor;
      output = y.dataSync() as Float32Array;
      return tf.sum<tf.Scalar>(tf.mul(y, r));
    }, weights);
    const list = weights.map((w) => grads[w.name]!);
    const data = list.map((g) => g.dataSync() as Float32Array);
    tf.dispose([value, ...list]);
    return data; // profile wants a result; plain data here
  });
  const grads = profile.result as unknown as Float32Array[];
  const moving = net.layers.filter((l) => l.getClassName() === 'BatchNormalization').flatMap((l) => l.getWeights().slice(2).map((w) => w.dataSync() as Float32Array));
  tf.dispose([x, r]);
  net.dispose();
  return { output, grads, moving, kernels: profile.kernels.map((k) => k.name) };
}

describe('fused batch norm for training (wasm, native kernels)', () => {
  it('gives tfjs-layers\' outputs, moving statistics and gradients (cpu backend; wasm without it), with the ReLU folded in', async (t) => {
    if (!(await fusedAvailable())) {
      t.skip('native batch-norm kernel not available');
      return;
    }
    await selectBackend('cpu');
    const ref = await runGraph();
    await selectBackend('wasm');
    setFusedBatchNorm(false);
    const unfused = await runGraph().finally(() => setFusedBatchNorm(true));
    const before = tf.memory().numTensors;
    const fused = await runGraph();
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
    // the fused kernel ran for all three BN layers and replaced one of the two ReLUs (and every moments op)
    assert.equal(fused.kernels.filter((k) => k === BATCH_NORM_TRAINING_KERNEL).length, 3);
    assert.equal(fused.kernels.filter((k) => k === 'Relu').length, 1);
    assert.ok(!fused.kernels.includes('FusedBatchNorm') && !fused.kernels.includes('Square'));
    assert.ok(!unfused.kernels.includes(BATCH_NORM_TRAINING_KERNEL) && unfused.kernels.includes('FusedBatchNorm'));
    for (const [name, other, tol] of [['cpu', ref, 2e-5], ['wasm, tfjs-layers path', unfused, 2e-5]] as const) {
      assert.ok(relativeMaxError(fused.output, other.output) <= tol, `output vs ${name}: ${relativeMaxError(fused.output, other.output)}`);
      fused.moving.forEach((m, i) => assertClose(m, other.moving[i]!, { atol: 1e-6, rtol: 1e-5, label: `moving statistic ${i} vs ${name}` }));
      // relative to 1 at least: the dense bias before the last BN has a zero gradient (rounding noise only)
      fused.grads.forEach((g, i) => assertClose(g, other.grads[i]!, { atol: 1e-4 * Math.max(1, ...other.grads[i]!.map(Math.abs)), rtol: 0, label: `gradient ${i} vs ${name}` }));
    }
  });

  it('matches finite differences through batch statistics and the ReLU mask (2-D, 5 × 3)', async (t) => {
    if (!(await fusedAvailable())) {
      t.skip('native batch-norm kernel not available');
      return;
    }
    const input = tf.input({ shape: [3] });
    const bn = batchNorm();
    const net = tf.model({ inputs: input, outputs: tf.layers.reLU().apply(bn.apply(input)) as Sym });
    bn.setWeights([tf.tensor1d([1.5, 0.7, 1.1]), tf.tensor1d([0.3, -0.2, 0.1]), tf.zeros([3]), tf.ones([3])]);
    const r = tf.tensor2d([[0.3, -1.2, 0.8], [1.1, 0.4, -0.5], [-0.7, 0.9, 1.3], [0.2, -0.3, 0.6], [1.4, 0.5, -0.9]]);
    const x = [[0.9, -1.3, 0.4], [-0.6, 0.8, 2.1], [1.7, 0.2, -0.8], [0.1, -0.4, 0.7], [-1.2, 1.6, -0.3]];
    const f = (xt: tf.Tensor2D) => tf.sum<tf.Scalar>(tf.mul(net.apply(xt, { training: true }) as tf.Tensor, r));
    const kernels = (await tf.profile(() => f(tf.tensor2d(x)))).kernels.map((k) => k.name);
    assert.ok(kernels.includes(BATCH_NORM_TRAINING_KERNEL) && !kernels.includes('Relu'), kernels.join(', '));
    assertClose(analyticGrad(f, x), numericGrad(f, x), { atol: 2e-3, rtol: 1e-2, label: 'dx' });
    // dscale and doffset against finite differences in the weights
    const weights = bn.getWeights().map((w) => Array.from(w.dataSync()));
    const loss = (which: number, i: number, d: number) =>
      tf.tidy(() => {
        const w = weights.map((v) => v.slice());
        w[which]![i]! += d;
        bn.setWeights(w.map((v) => tf.tensor1d(v)));
        return f(tf.tensor2d(x)).dataSync()[0]!;
      });
    bn.setWeights(weights.map((v) => tf.tensor1d(v)));
    const [dScale, dOffset] = tf.tidy(() => {
      const g = tf.variableGrads(() => f(tf.tensor2d(x)), bn.getWeights(true) as tf.Variable[]).grads;
      return Object.values(g).map((v) => Array.from(v.dataSync()));
    });
    for (const [which, analytic] of [[0, dScale!], [1, dOffset!]] as const) {
      const numeric = [0, 1, 2].map((i) => (loss(which, i, 1e-2) - loss(which, i, -1e-2)) / 2e-2);
      bn.setWeights(weights.map((v) => tf.tensor1d(v)));
      assertClose(analytic, numeric, { atol: 2e-3, rtol: 1e-2, label: which === 0 ? 'dscale' : 'doffset' });
    }
    tf.dispose(r);
    net.dispose();
  });

  it('statistics are float64-exact for data far from zero, moving averages as tfjs-layers (biased variance), on every instruction-set path', async (t) => {
    if (!(await fusedAvailable())) {
      t.skip('native batch-norm kernel not available');
      return;
    }
    const native = loadNativeKernels(2).kernels!;
    const rng = new Rng(11);
    // 3 000 rows × 13 channels: several row blocks, a partial last one, channels not a multiple of 8; mean 1000
    const [rows, channels] = [3000, 13];
    const data = randomArray(rng, rows * channels, 1, 1000);
    const scale = randomArray(rng, channels, 0.5, 1);
    const offset = randomArray(rng, channels, 0.5);
    const dy = randomArray(rng, rows * channels);
    const mean = new Float64Array(channels);
    const variance = new Float64Array(channels);
    for (let i = 0; i < data.length; i++) mean[i % channels]! += data[i]! / rows;
    for (let i = 0; i < data.length; i++) variance[i % channels]! += (data[i]! - mean[i % channels]!) ** 2 / rows;
    const input = tf.input({ shape: [channels] });
    const bn = batchNorm();
    const net = tf.model({ inputs: input, outputs: bn.apply(input) as Sym });
    const movingMean = randomArray(rng, channels);
    const movingVariance = Float32Array.from({ length: channels }, () => 1 + rng.next());
    const run = () => {
      bn.setWeights([tf.tensor1d(scale), tf.tensor1d(offset), tf.tensor1d(movingMean), tf.tensor1d(movingVariance)]);
      return tf.tidy(() => {
        const x = tf.tensor2d(data, [rows, channels]);
        const { value, grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(tf.mul(net.apply(x, { training: true }) as tf.Tensor, tf.tensor2d(dy, [rows, channels]))), bn.getWeights(true) as tf.Variable[]);
        const dx = tf.grad((xt: tf.Tensor) => tf.sum(tf.mul(net.apply(xt, { training: true }) as tf.Tensor, tf.tensor2d(dy, [rows, channels]))))(x);
        bn.setWeights([tf.tensor1d(scale), tf.tensor1d(offset), tf.tensor1d(movingMean), tf.tensor1d(movingVariance)]);
        const y = net.apply(x, { training: true }) as tf.Tensor;
        return [y, dx, ...Object.values(grads), value, ...bn.getWeights().slice(2)].map((v) => v.dataSync() as Float32Array);
      });
    };
    const paths = native.isas();
    const results: Float32Array[][] = [];
    try {
      for (const path of paths) {
        native.isa(path);
        results.push(run());
      }
    } finally {
      native.isa('auto');
    }
    results.forEach((res, p) => res.forEach((v, i) => assert.deepEqual(v, results[0]![i], `${paths[p]}: output ${i} differs from ${paths[0]}'s`)));
    const got = results[0]!;
    const [movingMeanAfter, movingVarianceAfter] = [got.at(-2)!, got.at(-1)!];
    const decay = Math.fround(1 - 0.9);
    for (let c = 0; c < channels; c++) {
      const batchMean = Math.fround(mean[c]!);
      const batchVariance = Math.fround(variance[c]!);
      assert.equal(movingMeanAfter[c], Math.fround(movingMean[c]! - Math.fround(Math.fround(movingMean[c]! - batchMean) * decay)), `moving mean ${c}`);
      assert.equal(movingVarianceAfter[c], Math.fround(movingVariance[c]! - Math.fround(Math.fround(movingVariance[c]! - batchVariance) * decay)), `moving variance ${c}`);
    }
    // y against float64: (x − mean)/√(var + ε)·scale + offset
    const y = got[0]!;
    let worst = 0;
    for (let i = 0; i < y.length; i++) {
      const c = i % channels;
      worst = Math.max(worst, Math.abs(y[i]! - ((data[i]! - mean[c]!) / Math.sqrt(variance[c]! + 1e-5)) * scale[c]! - offset[c]!));
    }
    assert.ok(worst <= 5e-4, `y off by ${worst}`); // x = 1000 + N(0, 1) in float32 is itself only exact to 3e-5
    // dx, dscale, doffset against float64
    const r = Array.from(variance, (v) => 1 / Math.sqrt(v + 1e-5));
    const s1 = new Float64Array(channels);
    const s2 = new Float64Array(channels);
    for (let i = 0; i < dy.length; i++) {
      s1[i % channels]! += dy[i]!;
      s2[i % channels]! += dy[i]! * (data[i]! - mean[i % channels]!) * r[i % channels]!;
    }
    const dx = Float64Array.from(dy, (g, i) => {
      const c = i % channels;
      return scale[c]! * r[c]! * (g - s1[c]! / rows - (data[i]! - mean[c]!) * r[c]! * (s2[c]! / rows));
    });
    assert.ok(relativeMaxError(got[1]!, dx) <= 1e-3, `dx: ${relativeMaxError(got[1]!, dx)}`);
    assertClose(got[2]!, s2, { rtol: 1e-4, atol: 1e-2, label: 'dscale' });
    assertClose(got[3]!, s1, { rtol: 1e-4, atol: 1e-3, label: 'doffset' });
    net.dispose();
    t.diagnostic(`paths run: ${paths.join(', ')}`);
  });

  it('trains a pul network with ghost batch norm as tfjs-layers does, without leaking', async (t) => {
    if (!(await fusedAvailable())) {
      t.skip('native batch-norm kernel not available');
      return;
    }
    const spec: ModelSpec = { ...MODEL_PRESETS.fmnist, classes: 3, embeddingDim: 8, ghostBatchSize: 4, dropout: 0.2 };
    const rng = new Rng(4);
    const images = tf.tensor4d(randomArray(rng, 8 * 28 * 28), [8, 28, 28, 1]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
    const train = async (fused: boolean) => {
      setFusedBatchNorm(fused);
      const model = await buildModel(spec, new Rng(1));
      const optimizer = tf.train.momentum(0.05, 0.9);
      const step = (seed: number) => tf.dispose(optimizer.minimize(() => tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(labels, forwardTraining(model, images, seed)[1]), true) ?? []);
      step(1); // burn-in: the optimizer's slots
      const before = tf.memory().numTensors;
      step(2);
      step(3);
      const leaked = tf.memory().numTensors - before;
      const weights = model.net.getWeights().map((w) => w.dataSync() as Float32Array);
      const names = model.net.layers.map((l) => `${l.name}:${l.getClassName()}`);
      optimizer.dispose();
      disposeModel(model);
      return { weights, names, leaked };
    };
    try {
      const reference = await train(false);
      const fused = await train(true);
      assert.equal(fused.leaked, 0, 'tensors left per step');
      assert.deepEqual(fused.names.map((n) => n.split(':')[1]), reference.names.map((n) => n.split(':')[1]));
      // absolute: the embedding's bias (before the BNNeck) has a zero gradient, so only rounding noise of 1e-7 moves it
      fused.weights.forEach((w, i) => assertClose(w, reference.weights[i]!, { atol: 1e-5, rtol: 1e-3, label: `weight ${i} (${fused.names.length} layers) after 3 steps` }));
    } finally {
      setFusedBatchNorm(true);
      tf.dispose([images, labels]);
    }
  });
});
