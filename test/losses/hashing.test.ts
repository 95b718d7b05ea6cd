/** The DSH hashing loss: a hand-computed value, finite-difference gradients, edges (one identity, no positive, one row). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashingLoss, isPulError, tf } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';

function lossOf(codes: number[][], labels: number[], opts: Parameters<typeof hashingLoss>[2] = {}): { loss: number; active: number } {
  return tf.tidy(() => {
    const v = hashingLoss(tf.tensor2d(codes), tf.tensor1d(labels, 'int32'), opts);
    return { loss: v.loss.dataSync()[0]!, active: v.activeShare!.dataSync()[0]! };
  });
}

for (const backend of TEST_BACKENDS) {
  describe(`hashing loss (${backend})`, () => {
    it('matches the value computed by hand', async () => {
      await useBackend(backend);
      // B = 2, m = 2B = 4. d12 = 0.25 + 4 = 4.25 (same: ½·4.25), d13 = 4 + 1 = 5 (different, beyond m: 0),
      // d23 = 2.25 + 1 = 3.25 (different: ½·0.75); pairs: 2·(2.125 + 0 + 0.375) / 6 = 5/6.
      // quantise: rows 0, 0.5, 1 → mean 0.5 · α 0.01; balance: bit means (1/6, 0) → (1/36) · β 0.01.
      const codes = [[1, 1], [0.5, -1], [-1, 0]];
      const before = tf.memory().numTensors;
      const { loss, active } = lossOf(codes, [0, 0, 1]);
      assertClose([loss], [5 / 6 + 0.005 + 0.01 / 36], { rtol: 1e-5 });
      assertClose([active], [4 / 6]);
      assert.equal(tf.memory().numTensors, before);
      // the weights act on their own terms
      assertClose([lossOf(codes, [0, 0, 1], { alpha: 1, beta: 0 }).loss], [5 / 6 + 0.5], { rtol: 1e-5 });
      assertClose([lossOf(codes, [0, 0, 1], { alpha: 0, beta: 1 }).loss], [5 / 6 + 1 / 36], { rtol: 1e-5 });
      // a margin of 6 makes d13 = 5 active: + 2·½·1 / 6
      assertClose([lossOf(codes, [0, 0, 1], { margin: 6, alpha: 0, beta: 0 }).loss], [(2 * 2.125 + 2 * 0.5 + 2 * 1.375) / 6], { rtol: 1e-5 });
    });

    it('has the gradient of central finite differences (away from the kinks of |b| and the margin)', async () => {
      await useBackend(backend);
      const codes = [[0.3, -0.6, 0.8, -0.2], [0.5, 0.4, -0.7, 0.35], [-0.45, 0.25, 0.6, -0.85], [0.65, -0.3, -0.4, 0.55]];
      const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
      // margin 3: some dissimilar pairs inside it, none at it
      const f = (x: tf.Tensor2D) => hashingLoss(x, labels, { margin: 3, alpha: 0.5, beta: 0.7 }).loss;
      const analytic = tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => f(t as tf.Tensor2D))(tf.tensor2d(codes)).dataSync()));
      const flat = codes.flat();
      const h = 1e-2;
      const numeric = flat.map((_, i) => {
        const at = (dx: number) => tf.tidy(() => {
          const v = flat.slice();
          v[i]! += dx;
          return f(tf.tensor2d(v, [4, 4])).dataSync()[0]!;
        });
        return (at(h) - at(-h)) / (2 * h);
      });
      labels.dispose();
      assert.ok(analytic.some((g) => Math.abs(g) > 0.05), 'the gradient is not trivially zero');
      assertClose(analytic, numeric, { atol: 2e-3, rtol: 1e-2, label: 'd loss / d codes' });
    });

    it('edges: one identity only pulls, no positive only pushes, one row has no pair', async () => {
      await useBackend(backend);
      const codes = [[1, -1], [1, 1], [-1, 1]];
      const off = { alpha: 0, beta: 0 };
      // one identity: d = 4, 8, 4 → ½ · mean(4, 8, 4) = 8/3
      assertClose([lossOf(codes, [3, 3, 3], off).loss], [8 / 3], { rtol: 1e-5 });
      // no positive, m = 4: only the pair at d = 4 is at the margin (0) and d = 8 beyond: 0 — then m = 10: ½·mean(6, 2, 6)
      assertClose([lossOf(codes, [0, 1, 2], off).loss], [0], { atol: 1e-6 });
      assert.equal(lossOf(codes, [0, 1, 2], off).active, 0);
      assertClose([lossOf(codes, [0, 1, 2], { ...off, margin: 10 }).loss], [7 / 3], { rtol: 1e-5 });
      // one row: no pair; quantisation and balance remain (|0.5|−1 → 0.5 per bit; mean = the row)
      assertClose([lossOf([[0.5, -0.5]], [0], { alpha: 1, beta: 1 }).loss], [1 + 0.5], { rtol: 1e-5 });
      assert.throws(() => hashingLoss(tf.zeros([2, 2]), tf.tensor1d([0], 'int32')), (e) => isPulError(e) && /hashingLoss: embeddings of shape \[2, 2\] need one label per row/.test(e.message));
      assert.throws(() => hashingLoss(tf.zeros([2, 2]), tf.tensor1d([0, 1], 'int32'), { alpha: -1 }), (e) => isPulError(e) && e.where?.option === 'alpha' && /alpha=-1/.test(e.message));
    });
  });
}
