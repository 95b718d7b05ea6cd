import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Objective, clusterMemoryLoss, featureMatrix, isPulError, parseLossSpec, tf, updateClusterMemory } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { analyticGrad, numericGrad } from '../helpers/finite-differences.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';

for (const backend of TEST_BACKENDS) {
  describe(`cluster-memory loss (${backend})`, () => {
    it('InfoNCE over the memory by hand; no tensor left', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const x = tf.tensor2d([[3, 0], [0, 2]]);
      const y = tf.tensor1d([0, 0], 'int32');
      const memory = tf.tensor2d([[1, 0], [0, 1]]);
      // q = (1, 0), (0, 1); logits /τ=0.5: (2, 0) and (0, 2); −log softmax at cluster 0: log(1 + e^−2), log(1 + e^2)
      const expected = (Math.log(1 + Math.exp(-2)) + Math.log(1 + Math.exp(2))) / 2;
      const loss = clusterMemoryLoss(x, y, memory, { temperature: 0.5 });
      assertClose(loss.dataSync(), [expected], { atol: 1e-5 });
      // default τ = 0.05: the first row's term is log(1 + e^−20) ≈ 2e−9, the second's ≈ 20
      const byDefault = clusterMemoryLoss(x, y, memory);
      assertClose(byDefault.dataSync(), [(Math.log1p(Math.exp(-20)) + 20 + Math.log1p(Math.exp(-20))) / 2], { atol: 1e-4 });
      tf.dispose([x, y, memory, loss, byDefault]);
      assert.equal(tf.memory().numTensors, before);
    });

    it('gradient matches central finite differences', async () => {
      await useBackend(backend);
      const y = tf.tensor1d([0, 2, 1], 'int32');
      const memory = tf.tidy(() => {
        const m = tf.tensor2d([[0.5, 0, 0, 1], [1, 1, 0, 0], [0, -1, 2, 0]]);
        return tf.div<tf.Tensor2D>(m, tf.norm(m, 2, 1, true));
      });
      const x = [[0.3, -1.2, 0.8, 0.1], [1.5, 0.2, -0.4, 0.9], [-0.7, 0.6, 1.1, -0.3]];
      const f = (t: tf.Tensor2D): tf.Scalar => clusterMemoryLoss(t, y, memory, { temperature: 0.5 });
      assertClose(analyticGrad(f, x), numericGrad(f, x), { atol: 2e-3, rtol: 1e-2, label: 'cluster-memory' });
      tf.dispose([y, memory]);
    });

    it('momentum update by hand: hard takes the least similar member, mean the members’ mean; absent clusters keep their row', async () => {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const x = tf.tensor2d([[0, 2], [1, 1], [5, 0]]);
      const y = tf.tensor1d([0, 0, 1], 'int32');
      const memory = tf.tensor2d([[1, 0], [0, 1], [0.6, 0.8]]);
      // cluster 0: members (0, 1) and (√½, √½) after normalising; sims with (1, 0): 0 and 0.707 → hardest (0, 1)
      // 0.1·(1, 0) + 0.9·(0, 1) = (0.1, 0.9) → /√0.82; cluster 1: 0.1·(0, 1) + 0.9·(1, 0) = (0.9, 0.1) → /√0.82
      const n = Math.sqrt(0.82);
      const hard = updateClusterMemory(x, y, memory, { momentum: 0.1 });
      assertClose(hard.dataSync(), [0.1 / n, 0.9 / n, 0.9 / n, 0.1 / n, 0.6, 0.8], { atol: 1e-5 });
      // mean: x̄ = (√½/2, (1 + √½)/2); m = 0.5 → (0.5 + √½/4, (1 + √½)/4)
      const h = Math.SQRT1_2;
      const [a, b] = [0.5 + h / 4, (1 + h) / 4];
      const mean = updateClusterMemory(x, y, memory, { momentum: 0.5, hard: false });
      assertClose(mean.dataSync().slice(0, 2), [a / Math.hypot(a, b), b / Math.hypot(a, b)], { atol: 1e-5 });
      // momentum 1 keeps the memory, 0 replaces it with the (normalised) instance
      const kept = updateClusterMemory(x, y, memory, { momentum: 1 });
      assertClose(kept.dataSync(), memory.dataSync(), { atol: 1e-6 });
      const replaced = updateClusterMemory(x, y, memory, { momentum: 0 });
      assertClose(replaced.dataSync(), [0, 1, 1, 0, 0.6, 0.8], { atol: 1e-6 });
      tf.dispose([x, y, memory, hard, mean, kept, replaced]);
      assert.equal(tf.memory().numTensors, before);
    });
  });
}

describe('cluster-memory options and the objective', () => {
  it('τ ≤ 0, momentum outside [0, 1], labels outside the memory: named PulErrors', async () => {
    await useBackend('cpu');
    const x = tf.tensor2d([[1, 0]]);
    const y = tf.tensor1d([0], 'int32');
    const memory = tf.tensor2d([[1, 0]]);
    for (const temperature of [0, -0.05, Number.NaN]) {
      assert.throws(() => clusterMemoryLoss(x, y, memory, { temperature }), (e) => isPulError(e) && e.code === 'option.outOfRange' && e.where?.option === 'temperature');
    }
    for (const momentum of [-0.1, 1.5, Number.NaN]) {
      assert.throws(() => updateClusterMemory(x, y, memory, { momentum }), (e) => isPulError(e) && e.code === 'option.outOfRange' && e.where?.option === 'momentum');
    }
    const outside = tf.tensor1d([1], 'int32');
    assert.throws(() => clusterMemoryLoss(x, outside, memory), (e) => isPulError(e) && e.where?.option === 'labels' && /label 1 of row 0/.test(e.message));
    assert.throws(() => new Objective(parseLossSpec('cluster-memory')), (e) => isPulError(e) && e.code === 'option.invalid' && /cluster-contrast/.test(e.message));
    const centroids = featureMatrix(1, 2);
    centroids.data.set([1, 0]);
    assert.throws(() => new Objective(parseLossSpec('cluster-memory'), { memory: { centroids, temperature: 0 } }), (e) => isPulError(e) && e.where?.option === 'clusterContrast.temperature');
    tf.dispose([x, y, memory, outside]);
  });

  it('the objective moves its memory after each step and carries it through state()/restore()', async () => {
    await useBackend('cpu');
    const before = tf.memory().numTensors;
    const centroids = featureMatrix(2, 2);
    centroids.data.set([2, 0, 0, 3]); // normalised by the objective: (1, 0), (0, 1)
    const objective = new Objective(parseLossSpec('cluster-memory'), { memory: { centroids, temperature: 0.5, momentum: 0.1 } });
    assert.equal(objective.stateful, true);
    assert.equal(objective.usesLogits, false);
    const emb = tf.tensor2d([[0, 1]]);
    const labels = tf.tensor1d([0], 'int32');
    const logits = tf.zeros<tf.Rank.R2>([1, 2]);
    const first = objective.compute({ embeddings: emb, logits, labels });
    assertClose(first.loss.dataSync(), [Math.log(1 + Math.exp(2))], { atol: 1e-5 });
    objective.afterStep(emb, labels);
    const saved = objective.state();
    assert.equal(saved[0]?.name, 'objective/memory');
    const n = Math.sqrt(0.82);
    assertClose(saved[0].tensor.dataSync(), [0.1 / n, 0.9 / n, 0, 1], { atol: 1e-5 });
    const fresh = new Objective(parseLossSpec('cluster-memory'), { memory: { centroids, temperature: 0.5 } });
    fresh.restore(saved);
    const restored = fresh.state();
    assertClose(restored[0]!.tensor.dataSync(), saved[0].tensor.dataSync());
    tf.dispose([emb, logits, labels, first.loss, ...saved.map((s) => s.tensor), ...restored.map((s) => s.tensor)]);
    objective.dispose();
    fresh.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
