import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPulError, nPairLoss, tf, type NPairOptions } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { analyticGrad, numericGrad } from '../helpers/finite-differences.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';
import { lossOn, type LossNumbers } from '../helpers/loss-values.js';

const run = (x: number[][], y: number[], opts: NPairOptions = {}): LossNumbers => lossOn((e, l) => nPairLoss(e, l, opts), x, y);
const E1 = [1, 0];
const E2 = [0, 1];

for (const backend of TEST_BACKENDS) {
  describe(`N-pair loss (${backend})`, () => {
    it('by hand on P×K batches (K = 2 is Sohn’s loss; K = 4 leaves same-identity pairs out); no tensor left', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      // K = 2: pairs (e1, e1), (e2, e2): logits A·Pᵀ = I, each ℓ = log(1 + e^{0 − 1}) = 0.313262
      assertClose([run([E1, E1, E2, E2], [0, 0, 1, 1], { l2: 0 }).loss], [0.313262], { atol: 1e-5 });
      // the regulariser: λ/2 · mean(‖a‖² + ‖p‖²) = 0.1/2 · 2 = 0.1
      assertClose([run([E1, E1, E2, E2], [0, 0, 1, 1], { l2: 0.1 }).loss], [0.413262], { atol: 1e-5 });
      // rows in any order: pairs are taken per label in batch order
      assertClose([run([E2, E1, E2, E1], [1, 0, 1, 0], { l2: 0 }).loss], [0.313262], { atol: 1e-5 });
      // K = 4: two pairs per identity; each anchor against its own positive (logit 1) and the two positives of the
      // other identity (logit 0), not the other pair of its own: log(1 + 2e^{−1}) = 0.551445
      // (with the same-identity pair as a negative it would be log(1 + e^0 + 2e^{−1}) = 0.999896)
      assertClose([run([E1, E1, E1, E1, E2, E2, E2, E2], [0, 0, 0, 0, 1, 1, 1, 1], { l2: 0 }).loss], [0.551445], { atol: 1e-5 });
      // K = 3: the third row of each identity is left out — the same value as K = 2
      assertClose([run([E1, E1, [5, 5], E2, E2, [7, -7]], [0, 0, 0, 1, 1, 1], { l2: 0 }).loss], [0.313262], { atol: 1e-5 });
      // normalised: (3, 0) and (0, 2) count as e1 and e2
      assertClose([run([[3, 0], [3, 0], [0, 2], [0, 2]], [0, 0, 1, 1], { l2: 0, normalize: true }).loss], [0.313262], { atol: 1e-5 });
      assert.equal(tf.memory().numTensors, before);
    });

    it('edges: one identity (no negative) leaves the regulariser; no identity twice gives 0; no activeShare', async () => {
      await useBackend(backend);
      const one = run([E1, E2, E1, E2], [3, 3, 3, 3], { l2: 0.1 });
      // pairs (e1, e2), (e1, e2), no negatives: cross-entropy part 0; regulariser 0.1/2 · 2 = 0.1
      assertClose([one.loss], [0.1], { atol: 1e-6 });
      assert.equal(one.activeShare, undefined);
      assert.equal(run([E1, E2, [2, 2]], [0, 1, 2]).loss, 0);
      const grad = analyticGrad((t) => nPairLoss(t, tf.tensor1d([0, 1, 2], 'int32')).loss, [E1, E2, [2, 2]]);
      assert.ok(grad.every((g) => g === 0), `zero gradient, got ${grad.join(', ')}`);
    });

    it('gradients match central finite differences', async () => {
      await useBackend(backend);
      const x = [[0.3, -1.2, 0.8], [1.5, 0.2, -0.4], [-0.7, 0.6, 1.1], [0.2, 0.9, -0.5], [1.1, -0.3, 0.4], [-0.9, -0.8, 0.2], [0.5, 0.5, 0.5], [-0.2, 0.1, -1]];
      const y = [0, 0, 1, 1, 2, 2, 0, 0];
      for (const opts of [{ l2: 0.05 }, { l2: 0, normalize: true }]) {
        const f = (t: tf.Tensor2D): tf.Scalar => nPairLoss(t, tf.tensor1d(y, 'int32'), opts).loss;
        assertClose(analyticGrad(f, x), numericGrad(f, x), { atol: 2e-3, rtol: 1e-2, label: JSON.stringify(opts) });
      }
    });

    it('a negative l2 weight is a PulError', async () => {
      await useBackend(backend);
      assert.throws(() => run([E1, E1], [0, 0], { l2: -1 }), (e) => isPulError(e) && e.where?.option === 'l2');
    });
  });
}
