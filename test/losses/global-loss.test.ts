import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globalLoss, isPulError, tf, type GlobalLossOptions } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { analyticGrad, numericGrad } from '../helpers/finite-differences.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';
import { lossOn, type LossNumbers } from '../helpers/loss-values.js';

const run = (x: number[][], y: number[], opts: GlobalLossOptions = {}): LossNumbers => lossOn((e, l) => globalLoss(e, l, opts), x, y);

for (const backend of TEST_BACKENDS) {
  describe(`global loss (${backend})`, () => {
    it('by hand: variances of both distance distributions + λ·hinge on their means; no tensor left', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      // points 0, 1 | 3 (raw): d⁺ = {1}: μ 1, σ² 0; d⁻ = {9, 4}: μ 6.5, σ² 6.25; hinge max(0, 1 − 6.5 + 0.4) = 0 → 6.25
      assertClose([run([[0], [1], [3]], [0, 0, 1], { normalize: false }).loss], [6.25], { atol: 1e-4 });
      // points 0, 2 | 1, 4, λ = 0.5: d⁺ = {4, 9}: μ 6.5, σ² 6.25; d⁻ = {1, 16, 1, 4}: μ 5.5,
      // σ² = (4.5² + 10.5² + 4.5² + 1.5²)/4 = 38.25; hinge 6.5 − 5.5 + 0.4 = 1.4 → 6.25 + 38.25 + 0.5·1.4 = 45.2
      assertClose([run([[0], [2], [1], [4]], [0, 0, 1, 1], { normalize: false, lambda: 0.5 }).loss], [45.2], { atol: 1e-3 });
      // the same with t = 0 : hinge 1 → 44.5
      assertClose([run([[0], [2], [1], [4]], [0, 0, 1, 1], { normalize: false, lambda: 0.5, margin: 0 }).loss], [45], { atol: 1e-3 });
      // normalised (the default): (1,0), (0,1) | (−1,0): d⁺ = {2}; d⁻ = {4, 2}: μ 3, σ² 1; hinge 2 − 3 + 0.4 < 0 → 1;
      // scaling the rows changes nothing
      assertClose([run([[1, 0], [0, 1], [-1, 0]], [0, 0, 1]).loss], [1], { atol: 1e-5 });
      assertClose([run([[5, 0], [0, 5], [-5, 0]], [0, 0, 1]).loss], [1], { atol: 1e-5 });
      assert.equal(tf.memory().numTensors, before);
    });

    it('edges: one identity or distinct labels give the one variance there is (no hinge); one row gives 0', async () => {
      await useBackend(backend);
      // points 0, 1, 3: distances 1, 9, 4 → μ 14/3, σ² = ((1 − 14/3)² + (9 − 14/3)² + (4 − 14/3)²)/3 = 98/9
      for (const y of [[0, 0, 0], [0, 1, 2]]) assertClose([run([[0], [1], [3]], y, { normalize: false }).loss], [98 / 9], { atol: 1e-4, label: y.join() });
      assert.equal(run([[0.3, 0.4]], [0]).loss, 0);
      // two points of one identity: one positive distance, variance 0 — loss 0 with a (zero) gradient
      const grad = analyticGrad((t) => globalLoss(t, tf.tensor1d([1, 1], 'int32')).loss, [[1, 0], [0, 1]]);
      assert.ok(grad.every((g) => Math.abs(g) < 1e-6), `zero gradient, got ${grad.join(', ')}`);
    });

    it('gradients match central finite differences (hinge open and closed)', async () => {
      await useBackend(backend);
      const x = [[0.3, -1.2, 0.8], [1.5, 0.2, -0.4], [-0.7, 0.6, 1.1], [0.2, 0.9, -0.5], [1.1, -0.3, 0.4], [-0.9, -0.8, 0.2]];
      const y = [0, 0, 1, 1, 2, 2];
      for (const opts of [{ margin: 2, lambda: 0.8 }, { normalize: false }, { margin: 0.4 }]) {
        const f = (t: tf.Tensor2D): tf.Scalar => globalLoss(t, tf.tensor1d(y, 'int32'), opts).loss;
        assertClose(analyticGrad(f, x), numericGrad(f, x), { atol: 2e-3, rtol: 1e-2, label: JSON.stringify(opts) });
      }
    });

    it('a negative margin or λ is a PulError', async () => {
      await useBackend(backend);
      assert.throws(() => run([[0], [1]], [0, 1], { margin: -0.1 }), (e) => isPulError(e) && e.where?.option === 'margin');
      assert.throws(() => run([[0], [1]], [0, 1], { lambda: -1 }), (e) => isPulError(e) && e.where?.option === 'lambda');
    });
  });
}
