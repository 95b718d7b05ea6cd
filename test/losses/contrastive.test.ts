import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contrastiveLoss, isPulError, tf, type ContrastiveOptions } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { analyticGrad, numericGrad } from '../helpers/finite-differences.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';
import { lossOn, type LossNumbers } from '../helpers/loss-values.js';

const run = (x: number[][], y: number[], opts: ContrastiveOptions = {}): LossNumbers => lossOn((e, l) => contrastiveLoss(e, l, opts), x, y);

for (const backend of TEST_BACKENDS) {
  describe(`contrastive loss (${backend})`, () => {
    it('by hand, raw and L2-normalised; no tensor left', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      // 1-D points 0, 1 | 1.5, m = 1, raw: positive pair D = 1 → ½·1² = 0.5 (mean over the 2 ordered
      // copies 0.5); negatives D = 1.5 → 0 and D = 0.5 → ½·0.5² = 0.125, mean over 4 copies 0.0625.
      // Active: both positive copies and the two copies of D = 0.5 → 4 of 6.
      const raw = run([[0], [1], [1.5]], [0, 0, 1], { normalize: false });
      assertClose([raw.loss, raw.activeShare!], [0.5625, 4 / 6], { atol: 1e-5 });
      // (1,0), (0,1) | (−1,0), normalised (the default): positive D = √2 → ½·2 = 1; negatives D = 2 and √2 ≥ 1 → 0
      const unit = run([[1, 0], [0, 1], [-1, 0]], [0, 0, 1]);
      assertClose([unit.loss, unit.activeShare!], [1, 2 / 6], { atol: 1e-5 });
      // scaled by 3: normalised unchanged; raw the positive D = 3√2 → ½·18 = 9, negatives 6 and 3√2 ≥ 1 → 0
      assertClose([run([[3, 0], [0, 3], [-3, 0]], [0, 0, 1]).loss], [1], { atol: 1e-5 });
      assertClose([run([[3, 0], [0, 3], [-3, 0]], [0, 0, 1], { normalize: false }).loss], [9], { atol: 1e-4 });
      assert.equal(tf.memory().numTensors, before);
    });

    it('edges: one identity (no negative), distinct labels (no positive), one row — finite, the empty half 0', async () => {
      await useBackend(backend);
      // one identity, points 0, 1, 3: positives ½·(1, 9, 4) → mean 7/3; all 6 copies active
      const one = run([[0], [1], [3]], [0, 0, 0], { normalize: false });
      assertClose([one.loss, one.activeShare!], [7 / 3, 1], { atol: 1e-5 });
      // distinct labels, m = 1.5: negatives D = 1, 3, 2 → ½·0.5² = 0.125, 0, 0 → mean 0.125/3; 2 of 6 copies active
      const distinct = run([[0], [1], [3]], [0, 1, 2], { normalize: false, margin: 1.5 });
      assertClose([distinct.loss, distinct.activeShare!], [0.125 / 3, 1 / 3], { atol: 1e-5 });
      const single = run([[0.4, 0.2]], [7]);
      assertClose([single.loss, single.activeShare!], [0, 0]);
    });

    it('gradients match central finite differences (raw and normalised; no negative at the margin)', async () => {
      await useBackend(backend);
      const x = [[0.3, -1.2, 0.8], [1.5, 0.2, -0.4], [-0.7, 0.6, 1.1], [0.2, 0.9, -0.5]];
      const y = [0, 0, 1, 1];
      for (const [normalize, margin] of [[false, 2], [true, 1]] as const) {
        const f = (t: tf.Tensor2D): tf.Scalar => contrastiveLoss(t, tf.tensor1d(y, 'int32'), { normalize, margin }).loss;
        assertClose(analyticGrad(f, x), numericGrad(f, x), { atol: 2e-3, rtol: 1e-2, label: `normalize ${normalize}` });
      }
    });

    it('a negative margin or mismatched labels is a PulError', async () => {
      await useBackend(backend);
      assert.throws(() => run([[0], [1]], [0, 1], { margin: -1 }), (e) => isPulError(e) && e.code === 'option.outOfRange' && /margin=-1/.test(e.message));
      assert.throws(() => run([[0], [1]], [0, 1, 1]), (e) => isPulError(e) && e.code === 'option.invalid');
    });
  });
}
