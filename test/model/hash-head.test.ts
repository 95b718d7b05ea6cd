/** The hash head: B tanh units as the embedding, validated before anything is built, kept by checkpoints and configs. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { MODEL_PRESETS, PulError, Rng, buildModel, disposeModel, loadCheckpoint, loadConfig, modelSpecFor, saveCheckpoint, selectBackend, tf } from '../../src/index.js';
import { withTempDir } from '../helpers/temp-dir.js';

const named = (option: string, pattern: RegExp) => (e: unknown) => e instanceof PulError && e.where?.option === option && pattern.test(e.message);

test('modelSpecFor: hashBits replaces embeddingDim; B must be a multiple of 8 in [8, 1024]', () => {
  const spec = modelSpecFor({ name: 'fmnist', hashBits: 48 }, 5);
  assert.deepEqual([spec.hashBits, spec.embeddingDim, spec.classes], [48, 48, 5]);
  assert.equal(modelSpecFor({ name: 'fmnist' }, 5).hashBits, undefined);
  assert.equal(modelSpecFor({ name: 'fmnist', hashBits: 1024 }, 5).embeddingDim, 1024);
  assert.throws(() => modelSpecFor({ name: 'fmnist', hashBits: 60 }, 5), named('model.hashBits', /60 bits is not a multiple of 8/));
  assert.throws(() => modelSpecFor({ name: 'fmnist', hashBits: 1032 }, 5), named('model.hashBits', /1032 bits is outside 8–1024/));
  assert.throws(() => modelSpecFor({ name: 'fmnist', hashBits: 0 }, 5), named('model.hashBits', /outside/));
});

test('a hash head is a tanh layer of B units; buildModel refuses a spec whose embedding is not the code; checkpoints keep B', async () => {
  await selectBackend('wasm');
  await assert.rejects(buildModel({ ...MODEL_PRESETS.fmnist, hashBits: 64 }, new Rng(1)), named('model.hashBits', /embeddingDim \(128\) must equal it/));
  await assert.rejects(buildModel({ ...MODEL_PRESETS.fmnist, embeddingDim: 20, hashBits: 20 }, new Rng(1)), named('model.hashBits', /not a multiple of 8/));
  const model = await buildModel({ ...MODEL_PRESETS.fmnist, embeddingDim: 32, hashBits: 32 }, new Rng(1));
  const plain = await buildModel({ ...MODEL_PRESETS.fmnist, embeddingDim: 32 }, new Rng(1));
  try {
    const x = tf.randomUniform([3, 28, 28, 1], 0, 20, 'float32', 4);
    const [hashed, raw] = [model, plain].map((m) => m.embedder.predict(x) as tf.Tensor2D);
    // same seed, same weights: the head is tanh of the plain dense layer's output
    const want = tf.tanh(raw!);
    const [h, w] = [hashed!.dataSync(), want.dataSync()];
    assert.equal(h.length, 96);
    h.forEach((v, i) => assert.ok(Math.abs(v - w[i]!) < 1e-5, `value ${i}: ${v} vs tanh ${w[i]}`));
    assert.ok(Array.from(raw!.dataSync()).some((v) => Math.abs(v) > 1), 'the plain layer leaves (−1, 1), so tanh is visible');
    tf.dispose([x, hashed!, raw!, want]);
    await withTempDir(async (dir) => {
      const ck = path.join(dir, 'ck');
      await saveCheckpoint(ck, { model, normalization: 'unit', epoch: 1 });
      const loaded = await loadCheckpoint(ck);
      assert.equal(loaded.model.spec.hashBits, 32);
      assert.equal(loaded.checkpoint.manifest.model.hashBits, 32);
      disposeModel(loaded.model);
    });
  } finally {
    disposeModel(model);
    disposeModel(plain);
  }
});

test('config model.hashBits: a bad B is a config error naming the key', async () => {
  await assert.rejects(loadConfig(undefined, { data: { target: { path: 'x' } }, clustering: { k: 3 }, model: { name: 'fmnist', hashBits: 12 } }), (e) => e instanceof PulError && e.code === 'config.invalid' && /model\.hashBits/.test(e.message) && /multiple of 8/.test(e.message));
});
