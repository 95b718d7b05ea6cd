import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tf } from '../../src/index.js';
import { pairwiseDistances, pairwiseSquaredDistances } from '../../src/losses/pairwise-distances.js';
import { assertClose } from '../helpers/assert-close.js';
import { analyticGrad, numericGrad } from '../helpers/finite-differences.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';

for (const backend of TEST_BACKENDS) {
  describe(`pairwise distances (${backend})`, () => {
    it('by hand: (0,0), (3,4), (6,8) are 5 and 10 apart; the diagonal sits at the 1e-6 floor; no tensor left', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const x = tf.tensor2d([[0, 0], [3, 4], [6, 8]]);
      const d = pairwiseDistances(x);
      const d2 = pairwiseSquaredDistances(x);
      assertClose(d.dataSync(), [1e-6, 5, 10, 5, 1e-6, 5, 10, 5, 1e-6], { atol: 1e-4 });
      assertClose(d2.dataSync(), [0, 25, 100, 25, 0, 25, 100, 25, 0], { atol: 1e-4 });
      tf.dispose([x, d, d2]);
      assert.equal(tf.memory().numTensors, before);
    });

    it('the gradient at coincident rows is finite (the floor), elsewhere it matches finite differences', async () => {
      await useBackend(backend);
      // two identical rows: √ at 0 would give an infinite derivative; the floor gives 0 for that pair
      const same = analyticGrad((t) => tf.sum(pairwiseDistances(t)), [[1, 2], [1, 2], [4, 6]]);
      assert.ok(same.every(Number.isFinite), `finite gradient: ${same.join(', ')}`);
      // rows 1 and 2 pull on row 3 along the unit vector (−3, −4)/5, twice (d_13 and d_31): row 3's gradient is 2·2·(0.6, 0.8)
      assertClose(same.slice(4), [2.4, 3.2], { atol: 1e-4 });
      const x = [[0.3, -1.2, 0.8], [1.5, 0.2, -0.4], [-0.7, 0.6, 1.1]];
      const f = (t: tf.Tensor2D): tf.Scalar => tf.sum(tf.mul(pairwiseDistances(t), tf.tensor2d([[0, 1, 2], [3, 0, 1], [2, 2, 0]])));
      assertClose(analyticGrad(f, x), numericGrad(f, x), { atol: 2e-3, rtol: 1e-2, label: 'distances' });
    });
  });
}
