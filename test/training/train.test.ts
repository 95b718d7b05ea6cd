import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildModel, disposeModel, featureMatrix, isPulError, learningRateAt, Objective, parseLossSpec, Rng, tf, Trainer, type ModelSpec } from '../../src/index.js';
import { applyGradientsWithDecay, createOptimizer, disposeOptimizer, setLearningRate } from '../../src/training/optimizer.js';
import { assertClose } from '../helpers/assert-close.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { TOY_SPEC, toySource } from './toy-data.js';

const SGD = { type: 'sgd', lr: 0.05, momentum: 0.9 } as const;

describe('learning-rate schedules', () => {
  it('warm-up, step and cosine by hand', () => {
    assertClose([learningRateAt({ ...SGD, lr: 0.1, schedule: { type: 'step', everyEpochs: 10, gamma: 0.1 } }, 12, 40)], [0.01], { rtol: 1e-12 });
    assertClose([learningRateAt({ ...SGD, lr: 0.1, warmupEpochs: 2 }, 1, 10)], [0.1 * (0.1 + 0.45)], { rtol: 1e-12 });
    const cos = { ...SGD, lr: 0.1, warmupEpochs: 2, schedule: { type: 'cosine' } } as const;
    assertClose([learningRateAt(cos, 2, 10), learningRateAt(cos, 6, 10), learningRateAt(cos, 10, 10)], [0.1, 0.05, 0], { atol: 1e-12 });
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`setLearningRate (${backend})`, () => {
    it('changes the step of SGD-momentum and of Adam, without leaking tensors', async () => {
      await useBackend(backend);
      for (const type of ['sgd', 'adam'] as const) {
        const v = tf.variable(tf.scalar(1), true, `lr-test-${type}-${backend}`);
        const optimizer = createOptimizer({ type, lr: 0.1, momentum: 0 });
        const g = tf.scalar(1);
        applyGradientsWithDecay(optimizer, { [v.name]: g }, 0);
        const before = tf.memory().numTensors;
        setLearningRate(optimizer, 0.01);
        applyGradientsWithDecay(optimizer, { [v.name]: g }, 0);
        assert.equal(tf.memory().numTensors, before, `${type}: tensors`);
        // Both steps move v by about lr (Adam's first steps are ±lr whatever the gradient's scale).
        assertClose([v.dataSync()[0]!], [1 - 0.1 - 0.01], { atol: 1e-6 });
        g.dispose();
        disposeOptimizer(optimizer);
        v.dispose();
      }
    });
  });

  describe(`Trainer (${backend})`, () => {
    it('learns the toy task, with the cluster term, and logs one JSON line per epoch', async () => {
      await useBackend(backend);
      await withTempDir(async (dir) => {
        const model = await buildModel(TOY_SPEC, new Rng(1));
        const centroids = featureMatrix(2, 128, new Float32Array(256).map((_, i) => (i === 0 || i === 129 ? 1 : 0)));
        const log = path.join(dir, 'metrics.jsonl');
        const objective = new Objective(parseLossSpec('ce+0.5*cluster'), { centroids, embeddingDim: 128 });
        const trainer = new Trainer(model, { epochs: 6, optimizer: { ...SGD, weightDecay: 5e-4 }, objective, metricsLog: log });
        const events: number[] = [];
        const records = await trainer.fit(toySource(), { progress: { update: (e) => events.push(e.done), log() {} } });
        assert.equal(records.length, 6);
        assert.ok(records[5]!.loss < records[0]!.loss, `loss ${records[0]!.loss} → ${records[5]!.loss}`);
        assert.ok(records[5]!.accuracy! >= 0.9, `accuracy ${records[5]!.accuracy}`);
        assert.equal(records[5]!.activeShare, null); // cross-entropy and the cluster term mine nothing
        assert.equal(events.length, 24);
        const lines = (await readFile(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { epoch: number; loss: number });
        assert.deepEqual(lines.map((l) => l.epoch), [1, 2, 3, 4, 5, 6]);
        trainer.dispose();
        objective.dispose();
        disposeModel(model);
      });
    });

    it('leaks no tensors: numTensors unchanged over two epochs after a burn-in', async () => {
      await useBackend(backend);
      const model = await buildModel(TOY_SPEC, new Rng(2));
      const trainer = new Trainer(model, { epochs: 3, optimizer: { type: 'adam', lr: 1e-3, weightDecay: 1e-4 } });
      const source = toySource();
      await trainer.runEpoch(source);
      const before = tf.memory().numTensors;
      await trainer.runEpoch(source);
      await trainer.runEpoch(source);
      assert.equal(tf.memory().numTensors, before);
      trainer.dispose();
      disposeModel(model);
    });

    it('metric losses and the centre state leak no tensors either (ce+center+triplet-hard, lifted)', async () => {
      await useBackend(backend);
      for (const spec of ['ce+0.01*center+triplet-hard', 'lifted']) {
        const model = await buildModel(TOY_SPEC, new Rng(2));
        const objective = new Objective(parseLossSpec(spec), { classes: 2, embeddingDim: TOY_SPEC.embeddingDim });
        const trainer = new Trainer(model, { epochs: 3, optimizer: { type: 'adam', lr: 1e-3, weightDecay: 1e-4 }, objective });
        const source = toySource();
        const first = await trainer.runEpoch(source);
        const before = tf.memory().numTensors;
        await trainer.runEpoch(source);
        const last = await trainer.runEpoch(source);
        assert.equal(tf.memory().numTensors, before, spec);
        assert.ok(Number.isFinite(first.loss) && Number.isFinite(last.loss), `${spec}: ${first.loss} → ${last.loss}`);
        assert.equal(last.accuracy === null, spec === 'lifted', `${spec}: accuracy ${last.accuracy}`);
        const state = await trainer.state();
        assert.deepEqual(state.objective?.map((n) => n.name), spec === 'lifted' ? [] : ['objective/centres']);
        tf.dispose([...state.optimizer.map((n) => n.tensor), ...(state.objective ?? []).map((n) => n.tensor)]);
        trainer.dispose();
        objective.dispose();
        disposeModel(model);
      }
    });

    it('a non-finite loss stops with training.diverged naming epoch and step', async () => {
      await useBackend(backend);
      const model = await buildModel(TOY_SPEC, new Rng(3));
      // lr 1e30 blows the weights up after the first step
      const trainer = new Trainer(model, { epochs: 2, optimizer: { ...SGD, lr: 1e30 } });
      await assert.rejects(trainer.fit(toySource()), (e) => isPulError(e) && e.code === 'training.diverged' && /loss became (NaN|-?Infinity) at epoch 1, step [2-4] \(lr 1\.00e\+30\)/.test(e.message));
      trainer.dispose();
      disposeModel(model);
    });
  });
}

describe('seeded dropout', () => {
  const weightsAfter = async (spec: ModelSpec, seed: number): Promise<Float32Array> => {
    const model = await buildModel(spec, new Rng(9));
    const trainer = new Trainer(model, { epochs: 2, optimizer: SGD, seed });
    await trainer.fit(toySource());
    const w = Float32Array.from(model.net.getLayer('embedding').getWeights()[0]!.dataSync());
    trainer.dispose();
    disposeModel(model);
    return w;
  };

  for (const backend of TEST_BACKENDS) {
    it(`dropout 0.5 repeats with the same seed and differs with another (${backend})`, async () => {
      await useBackend(backend);
      const spec = { ...TOY_SPEC, dropout: 0.5 };
      const a = await weightsAfter(spec, 1);
      const b = await weightsAfter(spec, 1);
      const c = await weightsAfter(spec, 2);
      const none = await weightsAfter(TOY_SPEC, 1);
      assert.deepEqual(a, b);
      const diff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
      assert.ok(diff(a, c) > 1e-4, `seeds 1 and 2 gave the same weights (max diff ${diff(a, c)})`);
      assert.ok(diff(a, none) > 1e-4, 'dropout 0.5 changed nothing');
    });
  }
});

describe('Trainer lifetime', () => {
  it('a disposed trainer leaves no tensor behind (SGD momentum and Adam)', async () => {
    await useBackend('cpu');
    const model = await buildModel(TOY_SPEC, new Rng(5));
    for (const optimizer of [SGD, { type: 'adam', lr: 1e-3 } as const]) {
      const before = tf.memory().numTensors;
      const trainer = new Trainer(model, { epochs: 1, optimizer });
      await trainer.fit(toySource());
      trainer.dispose();
      assert.equal(tf.memory().numTensors, before, `${optimizer.type}: tensors left behind`);
    }
    disposeModel(model);
  });
});

describe('Trainer options and abort', () => {
  it('a NaN image stops training at its step (cpu)', async () => {
    await useBackend('cpu');
    const model = await buildModel(TOY_SPEC, new Rng(3));
    const trainer = new Trainer(model, { epochs: 2, optimizer: SGD });
    await assert.rejects(trainer.fit(toySource(32, 8, { epoch: 1, step: 2 })), (e) => isPulError(e) && e.code === 'training.diverged' && /epoch 2, step 3/.test(e.message));
    trainer.dispose();
    disposeModel(model);
  });

  it('stops at a batch boundary when the signal aborts', async () => {
    await useBackend('cpu');
    const model = await buildModel(TOY_SPEC, new Rng(4));
    const trainer = new Trainer(model, { epochs: 2, optimizer: SGD });
    const ac = new AbortController();
    await assert.rejects(
      trainer.fit(toySource(), { signal: ac.signal, progress: { update: (e) => e.done === 2 && ac.abort(), log() {} } }),
      (e) => isPulError(e) && e.code === 'interrupted' && /epoch 1, step 3/.test(e.message),
    );
    trainer.dispose();
    assert.throws(() => new Trainer(model, { epochs: 0, optimizer: SGD }), /epochs=0/);
    assert.throws(() => new Objective(parseLossSpec('ce+cluster')), /cluster needs the round's k-means centroids/);
    assert.throws(() => new Trainer(model, { epochs: 1, optimizer: { ...SGD, lr: -1 } }), /learning rate -1/);
    disposeModel(model);
  });
});
