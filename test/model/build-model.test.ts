import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildModel, countTrainableParams, disposeModel, fileIOHandler, MODEL_PRESETS, modelSpecFor, replaceClassifier, Rng, tf, isPulError } from '../../src/index.js';
import { modelPreset } from '../../src/model/build-model.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';

describe('model', () => {
  it('reference nets have train_ref.py parameter counts (110,954 / 518,927)', async () => {
    await useBackend('cpu');
    const f = await buildModel(MODEL_PRESETS.fmnist, new Rng(1));
    assert.equal(countTrainableParams(f.net), 110_954);
    const r = await buildModel(MODEL_PRESETS.reid, new Rng(1));
    assert.equal(countTrainableParams(r.net), 518_927);
    disposeModel(f);
    disposeModel(r);
  });

  for (const backend of TEST_BACKENDS) {
    it(`outputs [embedding, logits] and resnets run at 128×64 and 28×28 (${backend})`, async () => {
      await useBackend(backend);
      for (const spec of [
        { ...MODEL_PRESETS.resnet18, width: 0.125, classes: 7 },
        { ...MODEL_PRESETS.resnet34, width: 0.125, classes: 3, input: { height: 28, width: 28, channels: 1 as const } },
      ]) {
        const m = await buildModel(spec, new Rng(2));
        const [e, l] = m.net.predict(tf.zeros([2, spec.input.height, spec.input.width, spec.input.channels])) as tf.Tensor[];
        assert.deepEqual(e!.shape, [2, spec.embeddingDim]);
        assert.deepEqual(l!.shape, [2, spec.classes]);
        tf.dispose([e!, l!]);
        disposeModel(m);
      }
    });
  }

  it('the same seed builds the same weights; another seed different ones', async () => {
    await useBackend('cpu');
    const a = await buildModel(MODEL_PRESETS.fmnist, new Rng(5));
    const b = await buildModel(MODEL_PRESETS.fmnist, new Rng(5));
    const c = await buildModel(MODEL_PRESETS.fmnist, new Rng(6));
    const wa = a.net.getWeights()[0]!.dataSync();
    assert.deepEqual(wa, b.net.getWeights()[0]!.dataSync());
    assert.notDeepEqual(wa, c.net.getWeights()[0]!.dataSync());
    [a, b, c].forEach(disposeModel);
  });

  it('replaceClassifier keeps backbone and embedding weights, changes K, N(0,0.001) init', async () => {
    await useBackend('cpu');
    const m = await buildModel(MODEL_PRESETS.fmnist, new Rng(1));
    const x = tf.randomNormal([3, 28, 28, 1], 0, 1, 'float32', 3);
    const before = (m.embedder.predict(x) as tf.Tensor).dataSync();
    const bn = m.net.getLayer('bnneck').getWeights().map((w) => w.dataSync().slice());
    const m2 = replaceClassifier(m, 42, new Rng(9));
    assert.deepEqual((m2.embedder.predict(x) as tf.Tensor).dataSync(), before);
    assert.deepEqual(m2.net.getLayer('bnneck').getWeights().map((w) => w.dataSync()), bn, 'the BNNeck is kept');
    const [, logits] = m2.net.predict(x) as tf.Tensor[];
    assert.deepEqual(logits!.shape, [3, 42]);
    const m3 = replaceClassifier(m2, 4, new Rng(9), 'normal-0.001');
    const w = Array.from(m3.net.getLayer('classifier').getWeights()[0]!.dataSync());
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    assert.ok(std > 0.0007 && std < 0.0013, `std ${std}`);
    disposeModel(m3);
  });

  it('loads a LayersModel from disk as a frozen backbone at a named layer', async () => {
    await useBackend('cpu');
    await withTempDir(async (dir) => {
      const inp = tf.input({ shape: [16, 16, 3] });
      const h = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'c1' }).apply(inp) as tf.SymbolicTensor;
      const feat = tf.layers.conv2d({ filters: 6, kernelSize: 3, name: 'feat' }).apply(h) as tf.SymbolicTensor;
      const out = tf.layers.dense({ units: 2, name: 'top' }).apply(tf.layers.flatten().apply(feat)) as tf.SymbolicTensor;
      const base = tf.model({ inputs: inp, outputs: out });
      await base.save(fileIOHandler(dir));
      const m = await buildModel({ ...MODEL_PRESETS.reid, architecture: 'pretrained', input: { height: 16, width: 16, channels: 3 }, classes: 5, pretrained: { path: dir, featureLayer: 'feat', freeze: true } }, new Rng(1));
      assert.equal(countTrainableParams(m.net), 6 * 128 + 128 + 2 * 128 + 128 * 5 + 5);
      const loaded = m.net.getLayer('feat').getWeights()[0]!.dataSync();
      assert.deepEqual(loaded, base.getLayer('feat').getWeights()[0]!.dataSync());
      await assert.rejects(
        buildModel({ ...MODEL_PRESETS.reid, architecture: 'pretrained', pretrained: { path: dir, featureLayer: 'nope', freeze: false } }, new Rng(1)),
        (e) => isPulError(e) && e.code === 'option.invalid' && /nope/.test(e.message),
      );
    });
  });

  it('an unknown preset names the known ones', () => {
    assert.throws(() => modelPreset('vgg'), /unknown model "vgg".*fmnist, reid/);
  });

  it('a model choice: preset with overrides, layers: needs a feature layer and an input, named by config key', () => {
    const preset = modelSpecFor({ name: 'fmnist', embeddingDim: 32, dropout: undefined }, 7);
    assert.deepEqual(preset, { ...MODEL_PRESETS.fmnist, embeddingDim: 32, classes: 7 });
    const input = { height: 64, width: 32, channels: 3 } as const;
    assert.throws(() => modelSpecFor({ name: 'layers:m/model.json', input }, 3), (e) => isPulError(e) && e.where?.option === 'model.featureLayer');
    assert.throws(() => modelSpecFor({ name: 'layers:m', featureLayer: 'pool' }, 3), (e) => isPulError(e) && e.where?.option === 'model.input');
    assert.throws(() => modelSpecFor({ name: 'layers:', featureLayer: 'pool', input }, 3), /give the LayersModel folder/);
    const spec = modelSpecFor({ name: 'layers:m', featureLayer: 'pool', input, freeze: true }, 3);
    assert.deepEqual(spec, { architecture: 'pretrained', embeddingDim: 128, dropout: 0, classifierInit: 'normal-0.001', input, classes: 3, pretrained: { path: 'm', featureLayer: 'pool', freeze: true } });
  });
});
