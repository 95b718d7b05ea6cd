import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MODEL_PRESETS, Rng, buildModel, disposeModel, forwardTraining, gemPool, isPulError, loadCheckpoint, saveCheckpoint, tf, type ModelSpec } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';
import { withTempDir } from '../helpers/temp-dir.js';

const small: ModelSpec = { ...MODEL_PRESETS.fmnist, classes: 3, embeddingDim: 8 };
const images = (n: number, seed: number): tf.Tensor4D => {
  const rng = new Rng(seed);
  return tf.tensor4d(Float32Array.from({ length: n * 28 * 28 }, () => rng.next() * 2 - 1), [n, 28, 28, 1]);
};

for (const backend of TEST_BACKENDS) {
  describe(`GeM pooling (${backend})`, () => {
    it('equals (mean x^p)^(1/p) by hand, p = 1 is average pooling; gradient in x and p matches finite differences', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      // one image, 2×2 map, 2 channels: channel 0 = 1, 2, 3, 4; channel 1 = 0 (clamped to 1e-6), 1, 1, 1
      const x = tf.tensor4d([1, 0, 2, 1, 3, 1, 4, 1], [1, 2, 2, 2]);
      const y = gemPool(x, 3);
      assertClose(y.dataSync(), [Math.cbrt((1 + 8 + 27 + 64) / 4), Math.cbrt(3 / 4)], { atol: 1e-4 });
      const avg = gemPool(x, 1);
      assertClose(avg.dataSync(), [2.5, 0.75], { atol: 1e-5 });
      // d/dp of the sum of outputs, and d/dx, against central differences (positive inputs: away from the clamp)
      const xs = [0.5, 1.2, 2, 0.7, 1.5, 0.9, 0.3, 1.1];
      const f = (xv: number[], p: number) => tf.tidy(() => gemPool(tf.tensor4d(xv, [1, 2, 2, 2]), p).sum().dataSync()[0]!);
      const h = 1e-2;
      const [gx, gp] = tf.tidy(() => {
        const g = tf.grads((a: tf.Tensor, p: tf.Tensor) => gemPool(a as tf.Tensor4D, p).sum())([tf.tensor4d(xs, [1, 2, 2, 2]), tf.tensor1d([3])]);
        return g.map((t) => Array.from(t.dataSync()));
      });
      assertClose(gp!, [(f(xs, 3 + h) - f(xs, 3 - h)) / (2 * h)], { atol: 2e-3, rtol: 1e-2, label: 'dp' });
      const numeric = xs.map((_, i) => (f(xs.map((v, j) => (j === i ? v + h : v)), 3) - f(xs.map((v, j) => (j === i ? v - h : v)), 3)) / (2 * h));
      assertClose(gx!, numeric, { atol: 2e-3, rtol: 1e-2, label: 'dx' });
      tf.dispose([x, y, avg]);
      assert.equal(tf.memory().numTensors, before);
    });
  });
}

describe('model options: GeM pooling and ghost batch norm', () => {
  it('a GeM net learns p, is saved and loaded with its p; a fixed p is not trained', () =>
    withTempDir(async (dir) => {
      await useBackend('cpu');
      const model = await buildModel({ ...small, pooling: 'gem', gem: { p: 3, learnable: true } }, new Rng(1));
      const p = model.net.getLayer('gem').getWeights()[0]!;
      assert.deepEqual(Array.from(p.dataSync()), [3]);
      assert.ok(model.net.trainableWeights.some((w) => w.name.startsWith('gem/')));
      // a changed p survives the checkpoint (model.json names the registered layer class)
      model.net.getLayer('gem').setWeights([tf.tensor1d([2.5])]);
      const x = images(2, 3);
      const before = model.embedder.predict(x) as tf.Tensor;
      await saveCheckpoint(dir, { model, normalization: 'unit', epoch: 1 });
      const loaded = await loadCheckpoint(dir);
      assert.equal(loaded.model.spec.pooling, 'gem');
      assert.deepEqual(Array.from(loaded.model.net.getLayer('gem').getWeights()[0]!.dataSync()), [2.5]);
      const after = loaded.model.embedder.predict(x) as tf.Tensor;
      assertClose(after.dataSync(), before.dataSync(), { atol: 1e-5 });
      const fixed = await buildModel({ ...small, pooling: 'gem', gem: { p: 4, learnable: false } }, new Rng(1));
      assert.ok(!fixed.net.trainableWeights.some((w) => w.name.startsWith('gem/')));
      tf.dispose([x, before, after]);
      [model, loaded.model, fixed].forEach(disposeModel);
    }));

  it('ghost BN: chunks of G normalise on their own statistics; G ≥ batch is plain BN; gradients flow (cpu)', async () => {
    await useBackend('cpu');
    const plain = await buildModel(small, new Rng(7));
    const ghost = await buildModel({ ...small, ghostBatchSize: 2 }, new Rng(7));
    const whole = await buildModel({ ...small, ghostBatchSize: 4 }, new Rng(7));
    const x = images(4, 9);
    const numTensors = tf.memory().numTensors;
    tf.tidy(() => {
      const [ePlain] = forwardTraining(plain, x, 1);
      const [eWhole] = forwardTraining(whole, x, 1);
      assertClose(eWhole.dataSync(), ePlain.dataSync(), { atol: 1e-6, label: 'G = batch' });
      // G = 2: rows 0–1 are what the plain net gives the first two images alone, rows 2–3 the last two
      const [eGhost] = forwardTraining(ghost, x, 1);
      const [first] = forwardTraining(plain, tf.slice(x, 0, 2), 1);
      const [second] = forwardTraining(plain, tf.slice(x, 2, 2), 1);
      assertClose(eGhost.dataSync(), tf.concat([first, second]).dataSync(), { atol: 1e-5, label: 'G = 2' });
      assert.ok(Math.max(...Array.from(tf.abs(tf.sub(eGhost, ePlain)).dataSync())) > 1e-3, 'statistics of 2 images differ from those of 4');
      // the gradient of the chunked forward is the sum of the chunks' gradients
      const vars = ghost.net.trainableWeights.map((w) => w.read() as tf.Variable);
      const { grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(forwardTraining(ghost, x, 1)[0]), vars);
      const plainVars = plain.net.trainableWeights.map((w) => w.read() as tf.Variable);
      const half = (s: number) => tf.variableGrads(() => tf.sum<tf.Scalar>(forwardTraining(plain, tf.slice(x, s, 2), 1)[0]), plainVars).grads;
      const [g0, g1] = [half(0), half(2)];
      const name = ghost.net.trainableWeights[0]!.name; // the first conv kernel
      const plainName = plain.net.trainableWeights[0]!.name;
      assertClose(grads[name]!.dataSync(), tf.add(g0[plainName]!, g1[plainName]!).dataSync(), { atol: 1e-4, rtol: 1e-3, label: 'conv kernel gradient' });
      assert.ok(Math.max(...Array.from(tf.abs(grads[name]!).dataSync())) > 0);
    });
    assert.equal(tf.memory().numTensors, numTensors);
    await assert.rejects(buildModel({ ...small, ghostBatchSize: 1 }, new Rng(1)), (e) => isPulError(e) && e.where?.option === 'model.ghostBatchSize');
    await assert.rejects(buildModel({ ...small, pooling: 'gem', gem: { p: 0.5, learnable: true } }, new Rng(1)), (e) => isPulError(e) && e.where?.option === 'model.gem.p');
    tf.dispose(x);
    [plain, ghost, whole].forEach(disposeModel);
  });
});
