import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterLoss, crossEntropy, tf, isPulError } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { analyticGrad, numericGrad } from '../helpers/finite-differences.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';

/** The values of a tensor, which is then disposed (so the leak check sees only the loss' own tensors). */
function valueOf(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

for (const backend of TEST_BACKENDS) {
  describe(`cross-entropy and cluster losses (${backend})`, () => {
    it('cross-entropy by hand, with and without label smoothing', async () => {
      await useBackend(backend);
      const logits = tf.tensor2d([[2, 0], [0, 0]]);
      const y = tf.tensor1d([0, 1], 'int32');
      // log(1 + e^-2) = 0.126928; uniform logits: log 2 = 0.693147
      assertClose(crossEntropy(logits, y).dataSync(), [(0.126928 + 0.693147) / 2], { atol: 1e-5 });
      // ε = 0.1, K = 2: targets 0.95/0.05: 0.95·0.126928 + 0.05·2.126928 = 0.226928; uniform still log 2
      assertClose(crossEntropy(logits, y, { labelSmoothing: 0.1 }).dataSync(), [(0.226928 + 0.693147) / 2], { atol: 1e-5 });
      assert.throws(() => crossEntropy(logits, y, { labelSmoothing: 1 }), (e) => isPulError(e) && e.code === 'option.outOfRange');
      tf.dispose([logits, y]);
    });

    it('cluster loss by hand: ‖e/‖e‖ − c‖² averaged over the batch', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const e = tf.tensor2d([[3, 4], [0, -2]]);
      const y = tf.tensor1d([0, 1], 'int32');
      const c = tf.tensor2d([[1, 0], [0, 1]]);
      // (0.6 − 1)² + 0.8² = 0.8 ; (0 − 0)² + (−1 − 1)² = 4 → mean 2.4
      assertClose(valueOf(clusterLoss(e, y, c)), [2.4], { atol: 1e-5 });
      tf.dispose([e, y, c]);
      assert.equal(tf.memory().numTensors, before);
    });

    it('gradients match central finite differences', async () => {
      await useBackend(backend);
      const y = tf.tensor1d([0, 2, 1], 'int32');
      const c = tf.tidy(() => {
        const t = tf.tensor2d([[1, 2, -1, 0], [0, 1, 1, 1], [-1, 0, 0, 2]]);
        return tf.div<tf.Tensor2D>(t, tf.norm(t, 2, 1, true));
      });
      const x = [[0.3, -1.2, 0.8, 0.1], [1.5, 0.2, -0.4, 0.9], [-0.7, 0.6, 1.1, -0.3]];
      const logitsOf = (t: tf.Tensor2D): tf.Tensor2D => tf.slice(t, [0, 0], [3, 3]);
      const fns: Record<string, (t: tf.Tensor2D) => tf.Scalar> = {
        'cross-entropy': (t) => crossEntropy(logitsOf(t), y, { labelSmoothing: 0.1 }),
        cluster: (t) => clusterLoss(t, y, c),
      };
      for (const [name, f] of Object.entries(fns)) {
        assertClose(analyticGrad(f, x), numericGrad(f, x), { atol: 2e-3, rtol: 1e-2, label: name });
      }
      tf.dispose([y, c]);
    });
  });
}
