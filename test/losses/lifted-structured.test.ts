import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPulError, liftedStructuredLoss, tf, type LiftedOptions } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { analyticGrad, numericGrad } from '../helpers/finite-differences.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';
import { lossOn, type LossNumbers } from '../helpers/loss-values.js';

const run = (x: number[][], y: number[], opts: LiftedOptions = {}): LossNumbers => lossOn((e, l) => liftedStructuredLoss(e, l, opts), x, y);

for (const backend of TEST_BACKENDS) {
  describe(`lifted structured loss (${backend})`, () => {
    it('by hand; stable where the exponentials underflow; no tensor left', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      // points 0, 1 | 3, one positive pair: J = log(e^{1−3} + e^{1−2}) + 1 = −1 + log(1 + e^{−1}) + 1 = 0.313262; loss J²/2
      const one = run([[0], [1], [3]], [0, 0, 1], { margin: 1 });
      assertClose([one.loss, one.activeShare!], [0.313262 ** 2 / 2, 1], { atol: 1e-5 });
      // points 0, 1 | 3, 5: both pairs see the exponents −2, −4 (from 0), −1, −3 (from 1) — or the same set from 3 and 5 —
      // log(e^{−1} + e^{−2} + e^{−3} + e^{−4}) = log 0.571317 = −0.559815; J = 0.440185 (D = 1) and 1.440185 (D = 2);
      // loss (0.440185² + 1.440185²) / (2·2) = 0.566974
      const two = run([[0], [1], [3], [5]], [0, 0, 1, 1], { margin: 1 });
      assertClose([two.loss, two.activeShare!], [0.566974, 1], { atol: 1e-5 });
      // far negatives: J < 0 → 0, activeShare 0
      const far = run([[0], [0.5], [40]], [0, 0, 1], { margin: 1 });
      assertClose([far.loss, far.activeShare!], [0, 0], { atol: 1e-6 });
      // ×100: every e^{α − D} underflows float32 (e^{−199}); the shifted log-sum-exp still gives J = −199 + log(1 + …) + D:
      // pair (0, 100) −99 → 0; pair (300, 500) −199 + 200 = 1 → loss 1²/(2·2) = 0.25 (a log(0 + ε) would give 72.4 for the first)
      const scaled = run([[0], [100], [300], [500]], [0, 0, 1, 1], { margin: 1 });
      assertClose([scaled.loss, scaled.activeShare!], [0.25, 0.5], { atol: 1e-4 });
      assert.equal(tf.memory().numTensors, before);
    });

    it('edges: one identity (no negative), distinct labels (no positive pair), one row — 0, activeShare 0', async () => {
      await useBackend(backend);
      for (const [x, y] of [[[[0], [1], [3]], [0, 0, 0]], [[[0], [1], [3]], [0, 1, 2]], [[[1, 2]], [0]]] as const) {
        const v = run(x.map((r) => [...r]), [...y]);
        assert.deepEqual([v.loss, v.activeShare], [0, 0], `labels ${y.join()}`);
        const grad = analyticGrad((t) => liftedStructuredLoss(t, tf.tensor1d([...y], 'int32')).loss, x.map((r) => [...r]));
        assert.ok(grad.every((g) => g === 0), `zero gradient, got ${grad.join(', ')}`);
      }
    });

    it('gradients match central finite differences (raw and normalised)', async () => {
      await useBackend(backend);
      const x = [[0.3, -1.2, 0.8], [1.5, 0.2, -0.4], [-0.7, 0.6, 1.1], [0.2, 0.9, -0.5], [1.1, -0.3, 0.4]];
      const y = [0, 0, 1, 1, 2];
      for (const [margin, normalize] of [[2, false], [1, true]] as const) {
        const f = (t: tf.Tensor2D): tf.Scalar => liftedStructuredLoss(t, tf.tensor1d(y, 'int32'), { margin, normalize }).loss;
        assertClose(analyticGrad(f, x), numericGrad(f, x), { atol: 2e-3, rtol: 1e-2, label: `margin ${margin} normalize ${normalize}` });
      }
    });

    it('a negative margin is a PulError', async () => {
      await useBackend(backend);
      assert.throws(() => run([[0], [1]], [0, 0], { margin: -1 }), (e) => isPulError(e) && e.code === 'option.outOfRange' && e.where?.option === 'margin');
    });
  });
}
