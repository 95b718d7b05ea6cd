/**
 * The loss spec grammar, its errors, and the Objective: weighted sums by hand, the centre loss's state
 * (updated after a step, saved and restored), and no tensor left behind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { featureMatrix, formatLossSpec, isPulError, LOSS_NAMES, Objective, parseLossSpec, resolveLossSpec, tf } from '../../src/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { useBackend } from '../helpers/for-each-backend.js';

describe('loss spec', () => {
  it('parses terms, weights and spaces; the canonical text leaves weights of 1 out', () => {
    assert.deepEqual(parseLossSpec('ce'), [{ name: 'ce', weight: 1 }]);
    assert.deepEqual(parseLossSpec('ce+0.5*cluster'), [{ name: 'ce', weight: 1 }, { name: 'cluster', weight: 0.5 }]);
    assert.deepEqual(parseLossSpec(' ce + 2 * triplet-hard '), [{ name: 'ce', weight: 1 }, { name: 'triplet-hard', weight: 2 }]);
    assert.deepEqual(parseLossSpec('1e-1*lifted+.5*npair'), [{ name: 'lifted', weight: 0.1 }, { name: 'npair', weight: 0.5 }]);
    assert.equal(formatLossSpec(parseLossSpec('1*ce+ 0.50*center')), 'ce+0.5*center');
    assert.deepEqual(LOSS_NAMES, ['ce', 'cluster', 'center', 'contrastive', 'triplet-hard', 'triplet-soft', 'triplet-all', 'triplet-weighted', 'triplet-random', 'lifted', 'npair', 'global', 'hash', 'cluster-memory']);
  });

  it('names the option and the rule for an unknown name, a bad weight, an empty term, a repeated name', () => {
    const fails = (spec: string, pattern: RegExp) =>
      assert.throws(() => parseLossSpec(spec, '--loss'), (e) => isPulError(e) && e.code === 'option.invalid' && e.exitCode === 2 && e.where?.option === '--loss' && pattern.test(e.message), spec);
    fails('ce+tripplet', /unknown loss "tripplet"; known losses: ce, cluster, center, contrastive, triplet-hard, triplet-soft, triplet-all, triplet-weighted, triplet-random, lifted, npair, global, hash, cluster-memory$/);
    fails('0*ce', /weight "0" of ce must be a positive number/);
    fails('-1*ce', /weight "-1" of ce must be a positive number/);
    fails('abc*ce', /weight "abc"/);
    fails('ce+', /empty term/);
    fails('ce+ce', /names ce twice/);
    fails('', /empty term/);
  });

  it('training.loss and the older clusterLossWeight β: β alone means ce+β*cluster; both must agree', () => {
    assert.equal(formatLossSpec(resolveLossSpec(undefined, 0)), 'ce');
    assert.equal(formatLossSpec(resolveLossSpec(undefined, 0.5)), 'ce+0.5*cluster');
    assert.equal(formatLossSpec(resolveLossSpec('ce+0.5*cluster', 0.5)), 'ce+0.5*cluster');
    assert.equal(formatLossSpec(resolveLossSpec('lifted', 0)), 'lifted');
    assert.throws(
      () => resolveLossSpec('ce+triplet-hard', 0.5),
      (e) => isPulError(e) && e.code === 'config.invalid' && e.where?.option === 'training.clusterLossWeight' && /disagree.*ce\+triplet-hard\+0\.5\*cluster/.test(e.message),
    );
  });
});

describe('Objective', () => {
  it('ce + 0.5·cluster by hand; ce alone; accuracy only with logits; nothing left behind', async () => {
    await useBackend('cpu');
    const before = tf.memory().numTensors;
    const centroids = featureMatrix(2, 2, new Float32Array([1, 0, 0, 1]));
    const objective = new Objective(parseLossSpec('ce+0.5*cluster'), { centroids, embeddingDim: 2 });
    const ce = new Objective(parseLossSpec('ce'));
    const x = { embeddings: tf.tensor2d([[3, 4], [0, -2]]), logits: tf.tensor2d([[2, 0], [0, 0]]), labels: tf.tensor1d([0, 1], 'int32') };
    // cross-entropy (log(1 + e^-2) + log 2)/2; cluster ((0.6−1)² + 0.8² + 0 + (−1−1)²)/2 = 2.4
    const v = objective.compute(x);
    assertClose(v.loss.dataSync(), [(0.126928 + 0.693147) / 2 + 0.5 * 2.4], { atol: 1e-5 });
    assert.equal(v.activeShare, undefined);
    const w = ce.compute(x);
    assertClose(w.loss.dataSync(), [(0.126928 + 0.693147) / 2], { atol: 1e-5 });
    assert.ok(objective.usesLogits && !new Objective(parseLossSpec('lifted')).usesLogits);
    assert.equal(new Objective(parseLossSpec('ce+npair')).batchStructure, 'pk');
    assert.equal(objective.batchStructure, 'epoch');
    tf.dispose([v.loss, w.loss, x.embeddings, x.logits, x.labels]);
    objective.dispose();
    ce.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('npair takes one pair per identity of a P×K batch: log(1 + e^-1) on two orthogonal pairs', async () => {
    await useBackend('cpu');
    const o = new Objective(parseLossSpec('npair'));
    const x = { embeddings: tf.tensor2d([[1, 0], [1, 0], [0, 1], [0, 1]]), logits: tf.zeros<tf.Rank.R2>([4, 2]), labels: tf.tensor1d([0, 0, 1, 1], 'int32') };
    const v = o.compute(x);
    // a·p = 1 for its own pair, 0 for the other: log(1 + e^-1) = 0.313262, plus 0.002/2 · mean(‖a‖² + ‖p‖²) = 0.002
    assertClose(v.loss.dataSync(), [0.313262 + 0.002], { atol: 1e-5 });
    tf.dispose([v.loss, x.embeddings, x.logits, x.labels]);
    o.dispose();
  });

  it('center: centres start at 0, move by α after a step, are saved and restored', async () => {
    await useBackend('cpu');
    const before = tf.memory().numTensors;
    const o = new Objective(parseLossSpec('ce+center'), { classes: 2, embeddingDim: 2, centreRate: 0.5 });
    assert.ok(o.stateful);
    const emb = tf.tensor2d([[2, 4], [1, 1]]);
    const y = tf.tensor1d([0, 0], 'int32');
    // class 0: c − α·Σ(c − x)/(1 + n) = 0 − 0.5·(−(3, 5))/3 = (0.5, 0.8333); class 1 absent: stays 0
    o.afterStep(emb, y);
    const [saved] = o.state();
    assert.equal(saved!.name, 'objective/centres');
    assertClose(saved!.tensor.dataSync(), [0.5, 5 / 6, 0, 0], { atol: 1e-6 });
    const fresh = new Objective(parseLossSpec('ce+center'), { classes: 2, embeddingDim: 2 });
    fresh.restore([saved!]);
    const [copied] = fresh.state();
    assertClose(copied!.tensor.dataSync(), [0.5, 5 / 6, 0, 0], { atol: 1e-6 });
    const other = new Objective(parseLossSpec('center'), { classes: 3, embeddingDim: 2 });
    assert.throws(() => other.restore([saved!]), (e) => isPulError(e) && e.code === 'checkpoint.mismatch' && /saved centres are 2×2, this training's 3×2/.test(e.message));
    other.dispose();
    assert.throws(() => new Objective(parseLossSpec('center')), /center needs the class count/);
    tf.dispose([saved!.tensor, copied!.tensor, emb, y]);
    o.dispose();
    fresh.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
