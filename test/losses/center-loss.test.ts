import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { centerLoss, isPulError, tf, updateCentres } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { analyticGrad, numericGrad } from '../helpers/finite-differences.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';
import { readLoss } from '../helpers/loss-values.js';

for (const backend of TEST_BACKENDS) {
  describe(`center loss (${backend})`, () => {
    it('by hand, no gradient into the centres, one identity; no tensor left', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const x = tf.tensor2d([[1, 2], [3, 3]]);
      const y = tf.tensor1d([0, 1], 'int32');
      const centres = tf.tensor2d([[0, 0], [3, 4]]);
      // ½ · mean(‖(1,2) − (0,0)‖², ‖(3,3) − (3,4)‖²) = ½ · (5 + 1)/2 = 1.5
      assertClose([readLoss(centerLoss(x, y, centres)).loss], [1.5], { atol: 1e-5 });
      // a batch of one identity is an ordinary batch: ½ · mean(5, 18) = 5.75
      const sameIdentity = tf.tensor1d([0, 0], 'int32');
      assertClose([readLoss(centerLoss(x, sameIdentity, centres)).loss], [5.75], { atol: 1e-5 });
      // d/dx_i = (x_i − c_{y_i}) / N: (0.5, 1), (0, −0.5); d/dc = 0 although the centres enter the loss
      const [gx, gc] = tf.tidy(() => tf.grads((a: tf.Tensor, c: tf.Tensor) => centerLoss(a as tf.Tensor2D, y, c as tf.Tensor2D).loss)([x, centres]).map((g) => Array.from(g.dataSync())));
      assertClose(gx!, [0.5, 1, 0, -0.5], { atol: 1e-6 });
      assert.deepEqual(gc, [0, 0, 0, 0]);
      tf.dispose([x, y, centres, sameIdentity]);
      assert.equal(tf.memory().numTensors, before);
    });

    it('updateCentres by hand (Wen et al. eq. 4): absent classes keep their centre; α in (0, 1]', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const x = tf.tensor2d([[1, 2], [3, 3], [2, 0]]);
      const y = tf.tensor1d([0, 1, 0], 'int32');
      const centres = tf.tensor2d([[0, 0], [3, 4], [7, 7]]);
      // class 0: Σ(c − x) = (−1 − 2, −2 − 0) = (−3, −2), /(1 + 2) → Δ = (−1, −2/3); c ← c − 0.5·Δ = (0.5, 1/3)
      // class 1: (0, 1)/(1 + 1) = (0, 0.5) → (3, 3.75); class 2 absent: (7, 7)
      const next = updateCentres(x, y, centres, { alpha: 0.5 });
      assertClose(next.dataSync(), [0.5, 1 / 3, 3, 3.75, 7, 7], { atol: 1e-5 });
      // default α = 0.5
      const byDefault = updateCentres(x, y, centres);
      assertClose(byDefault.dataSync(), next.dataSync());
      for (const alpha of [0, 1.5, Number.NaN]) {
        assert.throws(() => updateCentres(x, y, centres, { alpha }), (e) => isPulError(e) && e.code === 'option.outOfRange' && e.where?.option === 'alpha');
      }
      tf.dispose([x, y, centres, next, byDefault]);
      assert.equal(tf.memory().numTensors, before);
    });

    it('labels outside the centres or mismatched shapes are PulErrors', async () => {
      await useBackend(backend);
      const x = tf.tensor2d([[1, 2]]);
      const centres = tf.tensor2d([[0, 0]]);
      const bad = tf.tensor1d([1], 'int32');
      assert.throws(() => centerLoss(x, bad, centres), (e) => isPulError(e) && e.where?.option === 'labels' && /label 1 of row 0/.test(e.message));
      assert.throws(() => updateCentres(x, bad, centres), (e) => isPulError(e) && e.where?.option === 'labels');
      const wide = tf.tensor2d([[0, 0, 0]]);
      assert.throws(() => centerLoss(x, tf.tensor1d([0], 'int32'), wide), (e) => isPulError(e) && e.code === 'option.invalid');
      tf.dispose([x, centres, bad, wide]);
    });

    it('gradient matches central finite differences', async () => {
      await useBackend(backend);
      const y = tf.tensor1d([0, 2, 1], 'int32');
      const c = tf.tensor2d([[0.5, 0, 0, 1], [1, 1, 0, 0], [0, -1, 2, 0]]);
      const x = [[0.3, -1.2, 0.8, 0.1], [1.5, 0.2, -0.4, 0.9], [-0.7, 0.6, 1.1, -0.3]];
      const f = (t: tf.Tensor2D): tf.Scalar => centerLoss(t, y, c).loss;
      assertClose(analyticGrad(f, x), numericGrad(f, x), { atol: 2e-3, rtol: 1e-2, label: 'center' });
      tf.dispose([y, c]);
    });
  });
}
