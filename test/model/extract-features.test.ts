import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildModel, disposeModel, extractFeatures, loadDataset, MODEL_PRESETS, Rng, tf } from '../../src/index.js';
import { encodeIdx } from '../../src/datasets/idx-file.js';
import { assertClose } from '../helpers/assert-close.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';
import { withTempDir } from '../helpers/temp-dir.js';

for (const backend of TEST_BACKENDS) {
  describe(`extractFeatures (${backend})`, () => {
    it('one embedding row per sample, in sample order, batched, no tensor left behind', async () => {
      await useBackend(backend);
      await withTempDir(async (dir) => {
        const n = 7;
        const px = new Uint8Array(n * 784).map((_, i) => (i * 37) % 256);
        await writeFile(path.join(dir, 'train-images-idx3-ubyte'), encodeIdx([n, 28, 28], px));
        await writeFile(path.join(dir, 'train-labels-idx1-ubyte'), encodeIdx([n], new Uint8Array(n).map((_, i) => i % 3)));
        const dataset = await loadDataset(dir);
        const model = await buildModel(MODEL_PRESETS.fmnist, new Rng(1));
        const before = tf.memory().numTensors;
        const f = await extractFeatures(model, dataset.samples, { batchSize: 3 });
        assert.equal(tf.memory().numTensors, before);
        assert.equal(f.rows, n);
        assert.equal(f.dim, 128);
        // Reference: the whole set in one forward pass, pixels / 255 (unit normalisation for grey).
        const x = tf.tensor4d(Float32Array.from(px, (v) => v / 255), [n, 28, 28, 1]);
        const ref = model.embedder.predict(x) as tf.Tensor;
        assertClose(f.data, ref.dataSync(), { atol: 1e-4, rtol: 1e-4 });
        tf.dispose([x, ref]);
        disposeModel(model);
      });
    });
  });
}
