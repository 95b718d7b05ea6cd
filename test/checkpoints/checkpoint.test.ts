import assert from 'node:assert/strict';
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildModel, disposeModel, fileIOHandler, isPulError, loadCheckpoint, loadOptimizerState, readCheckpoint, resolveLatest, Rng, saveCheckpoint, tf, Trainer, writeLatest, type ReidModel } from '../../src/index.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { TOY_SPEC, toySource } from '../training/toy-data.js';

const OPT = { type: 'sgd', lr: 0.05, momentum: 0.9, weightDecay: 1e-4 } as const;

function weightsOf(m: ReidModel): Float32Array[] {
  return m.net.getWeights().map((w) => w.dataSync() as Float32Array);
}

for (const backend of TEST_BACKENDS) {
  describe(`checkpoints (${backend})`, () => {
    it('round trip through pul and through plain tf.loadLayersModel', async () => {
      await useBackend(backend);
      await withTempDir(async (root) => {
        const model = await buildModel(TOY_SPEC, new Rng(1));
        const dir = path.join(root, 'epoch-001');
        const ckpt = await saveCheckpoint(dir, { model, normalization: 'unit', epoch: 1, training: { lr: 0.05 }, state: { iteration: 3 } });
        assert.equal(ckpt.manifest.model.classes, 2);
        const x = tf.randomNormal([3, 8, 8, 1], 0, 1, 'float32', 7);
        const [e0] = model.net.predict(x) as tf.Tensor[];
        const { model: loaded, checkpoint } = await loadCheckpoint(dir, { architecture: 'fmnist', embeddingDim: 128 });
        assert.deepEqual(checkpoint.manifest.state, { iteration: 3 });
        assert.deepEqual((loaded.embedder.predict(x) as tf.Tensor).dataSync(), e0!.dataSync());
        const plain = await tf.loadLayersModel(fileIOHandler(dir));
        assert.deepEqual((plain.predict(x) as tf.Tensor[])[0]!.dataSync(), e0!.dataSync());
        await assert.rejects(loadCheckpoint(dir, { architecture: 'reid' }), (err) => isPulError(err) && err.code === 'checkpoint.mismatch' && /architecture fmnist \(expected reid\)/.test(err.message));
        disposeModel(model);
        disposeModel(loaded);
        plain.dispose();
      });
    });
  });
}

describe('checkpoints: corruption, atomicity, latest', () => {
  it('a truncated weights file or a bad manifest is checkpoint.corrupt naming the file', async () => {
    await useBackend('cpu');
    await withTempDir(async (root) => {
      const model = await buildModel(TOY_SPEC, new Rng(1));
      const dir = path.join(root, 'c');
      await saveCheckpoint(dir, { model, normalization: 'unit', epoch: 0 });
      await truncate(path.join(dir, 'weights.bin'), 100);
      await assert.rejects(loadCheckpoint(dir), (e) => isPulError(e) && e.code === 'checkpoint.corrupt' && e.where?.file === path.join(dir, 'weights.bin') && /100 bytes/.test(e.message));
      const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(path.join(dir, 'meta.json'), JSON.stringify({ ...meta, formatVersion: 99 }));
      await assert.rejects(readCheckpoint(dir), (e) => isPulError(e) && e.code === 'checkpoint.corrupt' && /meta\.json/.test(e.message) && /formatVersion/.test(e.message));
      await assert.rejects(readCheckpoint(path.join(root, 'none')), (e) => isPulError(e) && e.code === 'checkpoint.notFound');
      disposeModel(model);
    });
  });

  it('a failed save leaves the previous checkpoint intact', async () => {
    await useBackend('cpu');
    await withTempDir(async (root) => {
      const model = await buildModel(TOY_SPEC, new Rng(1));
      const dir = path.join(root, 'c');
      await saveCheckpoint(dir, { model, normalization: 'unit', epoch: 1 });
      const before = await readFile(path.join(dir, 'weights.bin'));
      const gone = tf.scalar(1);
      gone.dispose();
      await assert.rejects(saveCheckpoint(dir, { model, normalization: 'unit', epoch: 2, optimizer: [{ name: 'x', tensor: gone }] }));
      assert.deepEqual(await readFile(path.join(dir, 'weights.bin')), before);
      assert.equal((await readCheckpoint(dir)).manifest.epoch, 1);
      disposeModel(model);
    });
  });

  it('latest.json points at the newest checkpoint and rejects escapes', async () => {
    await withTempDir(async (root) => {
      assert.equal(await resolveLatest(root), null);
      await mkdir(path.join(root, 'iter-002'));
      await writeLatest(root, 'iter-002');
      assert.equal(await resolveLatest(root), path.join(root, 'iter-002'));
      await writeFile(path.join(root, 'latest.json'), JSON.stringify({ checkpoint: '../etc' }));
      await assert.rejects(resolveLatest(root), (e) => isPulError(e) && e.code === 'checkpoint.corrupt');
    });
  });

  it('resume from a checkpoint gives the same weights as an uninterrupted run (cpu)', async () => {
    await useBackend('cpu');
    await withTempDir(async (root) => {
      const source = toySource(16, 8);
      const a = await buildModel(TOY_SPEC, new Rng(11));
      const ta = new Trainer(a, { epochs: 3, optimizer: OPT });
      await ta.fit(source);
      const expected = weightsOf(a);
      ta.dispose();
      disposeModel(a);

      const b = await buildModel(TOY_SPEC, new Rng(11));
      const tb = new Trainer(b, { epochs: 3, optimizer: OPT });
      await tb.runEpoch(source);
      const state = await tb.state();
      await saveCheckpoint(path.join(root, 'e1'), { model: b, normalization: 'unit', epoch: tb.epoch, optimizer: state.optimizer });
      tf.dispose(state.optimizer.map((n) => n.tensor));
      tb.dispose();
      disposeModel(b);

      const { model: c, checkpoint } = await loadCheckpoint(path.join(root, 'e1'));
      const opt = await loadOptimizerState(checkpoint);
      assert.ok(opt !== null && opt.length > 1);
      const tc = new Trainer(c, { epochs: 3, optimizer: OPT });
      await tc.restore({ epoch: checkpoint.manifest.epoch, optimizer: opt });
      tf.dispose(opt.map((n) => n.tensor));
      await tc.fit(source);
      assert.equal(tc.epoch, 3);
      const got = weightsOf(c);
      assert.equal(got.length, expected.length);
      got.forEach((w, i) => assert.deepEqual(w, expected[i], `weight ${i}`));
      tc.dispose();
      disposeModel(c);

      // optimizer.bin is hashed too: the same bytes count with one changed is refused before use
      const file = path.join(root, 'e1', 'optimizer.bin');
      assert.deepEqual(Object.keys(checkpoint.manifest.sha256 ?? {}).sort(), ['optimizer.bin', 'weights.bin']);
      const bytes = await readFile(file);
      bytes[8] = bytes[8]! ^ 1;
      await writeFile(file, bytes);
      const before = tf.memory().numTensors;
      await assert.rejects(loadOptimizerState(checkpoint), (e: unknown) => isPulError(e) && e.code === 'checkpoint.corrupt' && e.where?.file === file && /optimizer\.bin: SHA-256 .* differs/.test(e.message));
      assert.equal(tf.memory().numTensors, before);
    });
  });
});
