import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildModel, disposeModel, extractFeatures, loadDataset, MODEL_PRESETS, Rng, tf } from '../../src/index.js';
import { encodeIdx } from '../../src/datasets/idx-file.js';
import { batchNormLayers, refreshBatchNorm } from '../../src/features/refresh-batch-norm.js';
import type { Sample } from '../../src/datasets/sample.js';
import { assertClose } from '../helpers/assert-close.js';
import { withTempDir } from '../helpers/temp-dir.js';

const N = 10;

/** N random 28×28 grey images as an IDX set, their unit-normalised pixels, and a ghost-BN fmnist model. */
async function setup(dir: string): Promise<{ samples: readonly Sample[]; x: Float32Array }> {
  const rng = new Rng(7);
  const px = Uint8Array.from({ length: N * 784 }, () => Math.floor(rng.next() * 256));
  await writeFile(path.join(dir, 'train-images-idx3-ubyte'), encodeIdx([N, 28, 28], px));
  await writeFile(path.join(dir, 'train-labels-idx1-ubyte'), encodeIdx([N], new Uint8Array(N).map((_, i) => i % 3)));
  return { samples: (await loadDataset(dir)).samples, x: Float32Array.from(px, (v) => v / 255) };
}

describe('refreshBatchNorm', () => {
  it("a BN layer's moving mean/variance become its inputs' mean/variance over the set (batches of 4, 4, 2; ghost BN of 2 ignored)", async () => {
    await withTempDir(async (dir) => {
      const { samples, x } = await setup(dir);
      const model = await buildModel({ ...MODEL_PRESETS.fmnist, ghostBatchSize: 2 }, new Rng(1));
      const layers = batchNormLayers(model.embedder);
      assert.ok(layers.length >= 2);
      const first = layers[0]!;
      const before = tf.memory().numTensors;
      assert.equal(await refreshBatchNorm(model, samples, { batchSize: 4 }), layers.length);
      assert.equal(tf.memory().numTensors, before);
      assert.deepEqual(
        layers.map((l) => (l as unknown as { momentum: number }).momentum),
        layers.map(() => 0.9),
      );
      // the first BN layer's input (conv only before it) over all N images, computed independently
      const probe = tf.model({ inputs: model.embedder.inputs, outputs: first.input });
      const input = probe.predict(tf.tensor4d(x, [N, 28, 28, 1])) as tf.Tensor4D;
      const { mean, variance } = tf.moments(input, [0, 1, 2]);
      const weight = (name: string): tf.Tensor => first.weights.find((w) => w.name.endsWith(name))!.read();
      const [movingMean, movingVariance] = [weight('moving_mean'), weight('moving_variance')];
      assertClose(movingMean.dataSync(), mean.dataSync(), { atol: 1e-5, rtol: 0 });
      // batches of 4, 4 and 2 images: the image-weighted mean of their biased variances
      const chunks = [[0, 4], [4, 4], [8, 2]] as const;
      const expected = tf.tidy(() => tf.addN(chunks.map(([s, n]) => tf.mul(tf.moments(tf.slice(input, [s, 0, 0, 0], [n, -1, -1, -1]), [0, 1, 2]).variance, n / N))));
      assertClose(movingVariance.dataSync(), expected.dataSync(), { atol: 1e-5, rtol: 1e-5 });
      // the refresh moved them: not the initial zeros/ones
      assert.ok(Math.max(...Array.from(movingMean.dataSync(), Math.abs)) > 1e-3);
      tf.dispose([input, mean, variance, expected]);
      disposeModel(model);
    });
  });

  it('after a refresh with the whole set in one batch, extracted features equal the training-mode features of that batch', async () => {
    await withTempDir(async (dir) => {
      const { samples, x } = await setup(dir);
      const model = await buildModel(MODEL_PRESETS.fmnist, new Rng(2));
      const images = tf.tensor4d(x, [N, 28, 28, 1]);
      const stale = await extractFeatures(model, samples, { batchSize: 3 });
      await refreshBatchNorm(model, samples, { batchSize: 64 });
      const refreshed = await extractFeatures(model, samples, { batchSize: 3 });
      const training = model.embedder.apply(images, { training: true }) as tf.Tensor;
      const want = training.dataSync();
      assertClose(refreshed.data, want, { atol: 1e-4, rtol: 1e-4 });
      // and the stale (initial) statistics gave other features
      assert.ok(Math.max(...Array.from(stale.data, (v, i) => Math.abs(v - want[i]!))) > 1e-2);
      tf.dispose([images, training]);
      disposeModel(model);
    });
  });

  it('deterministic: the same set twice gives the same statistics bit for bit', async () => {
    await withTempDir(async (dir) => {
      const { samples } = await setup(dir);
      const stats: Float32Array[][] = [];
      for (let run = 0; run < 2; run++) {
        const model = await buildModel(MODEL_PRESETS.fmnist, new Rng(3));
        await refreshBatchNorm(model, samples, { batchSize: 4 });
        stats.push(batchNormLayers(model.embedder).flatMap((l) => l.getWeights().map((w) => w.dataSync() as Float32Array)));
        disposeModel(model);
      }
      assert.deepEqual(stats[0], stats[1]);
    });
  });
});
