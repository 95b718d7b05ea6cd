import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { centerLoss, clusterLoss, crossEntropy, liftedStructuredLoss, nPairLoss, pulObjective, tf, tripletBatchHard, isPulError } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';

/** Central finite differences of a scalar function of one tensor, element by element. */
function numericGrad(f: (x: tf.Tensor2D) => tf.Scalar, x: number[][], h = 1e-2): number[] {
  const flat = x.flat();
  const rows = x.length;
  const cols = x[0]!.length;
  const out: number[] = [];
  for (let i = 0; i < flat.length; i++) {
    const at = (d: number): number =>
      tf.tidy(() => {
        const v = flat.slice();
        v[i]! += d;
        return f(tf.tensor2d(v, [rows, cols])).dataSync()[0]!;
      });
    out.push((at(h) - at(-h)) / (2 * h));
  }
  return out;
}

function analyticGrad(f: (x: tf.Tensor2D) => tf.Scalar, x: number[][]): number[] {
  return tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => f(t as tf.Tensor2D))(tf.tensor2d(x)).dataSync()));
}

/** The values of a tensor, which is then disposed (so the leak check sees only the loss' own tensors). */
function valueOf(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

for (const backend of TEST_BACKENDS) {
  describe(`losses (${backend})`, () => {
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
      const logits = tf.tensor2d([[2, 0], [0, 0]]);
      assertClose(valueOf(pulObjective(e, logits, y, c, { clusterWeight: 0.5 })), [(0.126928 + 0.693147) / 2 + 1.2], { atol: 1e-5 });
      assertClose(valueOf(pulObjective(e, logits, y, c, { clusterWeight: 0 })), [(0.126928 + 0.693147) / 2], { atol: 1e-5 });
      tf.dispose([e, y, c, logits]);
      assert.equal(tf.memory().numTensors, before);
    });

    it('triplet batch-hard by hand', async () => {
      await useBackend(backend);
      // 1-D points 0,1 | 3,5; margin 0.5: only anchor 3 violates (pos 2, neg 2) → 0.5/4
      const loss = tripletBatchHard(tf.tensor2d([[0], [1], [3], [5]]), tf.tensor1d([0, 0, 1, 1], 'int32'), { margin: 0.5 });
      assertClose(loss.dataSync(), [0.125], { atol: 1e-4 });
    });

    it('center, lifted structured and N-pair losses by hand; no tensor left', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const y = tf.tensor1d([0, 1], 'int32');
      // ½ · mean(‖(1,2) − (0,0)‖², ‖(3,3) − (3,4)‖²) = ½ · (5 + 1)/2
      const x = tf.tensor2d([[1, 2], [3, 3]]);
      const centres = tf.tensor2d([[0, 0], [3, 4]]);
      assertClose(valueOf(centerLoss(x, y, centres)), [1.5], { atol: 1e-5 });
      // points 0, 1 | 3, one positive pair (0,1): J = log(e^(1−3) + e^(1−2)) + 1 = 0.313262, loss J²/2
      const points = tf.tensor2d([[0], [1], [3]]);
      const labels = tf.tensor1d([0, 0, 1], 'int32');
      assertClose(valueOf(liftedStructuredLoss(points, labels, { margin: 1 })), [0.313262 ** 2 / 2], { atol: 1e-5 });
      // far negatives: J < 0 → 0; no positive pair at all → 0
      const far = tf.tensor2d([[0], [0.5], [40]]);
      assertClose(valueOf(liftedStructuredLoss(far, labels, { margin: 1 })), [0], { atol: 1e-6 });
      const distinct = tf.tensor1d([0, 1, 2], 'int32');
      assertClose(valueOf(liftedStructuredLoss(points, distinct)), [0], { atol: 1e-6 });
      // A = P = I: each row's logits (1, 0) → log(1 + e^-1) = 0.313262; the regulariser adds λ/2 · mean(1 + 1)
      const eye = tf.tensor2d([[1, 0], [0, 1]]);
      assertClose(valueOf(nPairLoss(eye, eye, { l2: 0 })), [0.313262], { atol: 1e-5 });
      assertClose(valueOf(nPairLoss(eye, eye, { l2: 0.1 })), [0.313262 + 0.1], { atol: 1e-5 });
      tf.dispose([y, x, centres, points, labels, far, distinct, eye]);
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
        triplet: (t) => tripletBatchHard(t, tf.tensor1d([0, 0, 1], 'int32'), { margin: 1 }),
        center: (t) => centerLoss(t, y, tf.tensor2d([[0.5, 0, 0, 1], [1, 1, 0, 0], [0, -1, 2, 0]])),
        lifted: (t) => liftedStructuredLoss(t, tf.tensor1d([0, 0, 1], 'int32'), { margin: 2 }),
        'n-pair': (t) => nPairLoss(tf.slice(t, [0, 0], [3, 2]), tf.slice(t, [0, 2], [3, 2]), { l2: 0.05 }),
      };
      for (const [name, f] of Object.entries(fns)) {
        assertClose(analyticGrad(f, x), numericGrad(f, x), { atol: 2e-3, rtol: 1e-2, label: name });
      }
      tf.dispose([y, c]);
    });
  });
}
