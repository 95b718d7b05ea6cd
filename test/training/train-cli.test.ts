import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileIOHandler, Rng, selectBackend, tf } from '../../src/index.js';
import { encodeIdx } from '../../src/datasets/idx-file.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';

/** An IDX set of `n` 28×28 images: label 0 bright on the left half, label 1 on the right. */
async function writeIdxSet(dir: string, set: string, n: number, rng: Rng): Promise<void> {
  const px = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) px[i * 784 + y * 28 + x] = ((x < 14) === (i % 2 === 0) ? 200 : 30) + rng.int(40);
  }
  await writeFile(path.join(dir, `${set}-images-idx3-ubyte`), encodeIdx([n, 28, 28], px));
  await writeFile(path.join(dir, `${set}-labels-idx1-ubyte`), encodeIdx([n], labels));
}

describe('pul train (CLI)', () => {
  it('trains, checkpoints per epoch (loadable by plain tfjs), resumes, and rejects bad options', async () => {
    await withTempDir(async (root) => {
      const rng = new Rng(1);
      const data = path.join(root, 'data'); // apart from the outputs: pul train never writes into its --data
      await mkdir(data);
      await writeIdxSet(data, 'train', 48, rng);
      await writeIdxSet(data, 't10k', 20, rng);
      const out = path.join(root, 'run');
      const common = ['--backend', 'wasm', 'train', '--data', data, '--out', out, '--model', 'fmnist', '--batch', '8', '--lr', '0.05', '--json'];
      const first = await runCli([...common, '--epochs', '2']);
      assert.equal(first.code, 0, first.stderr);
      const summary = JSON.parse(first.stdout) as { epochs: { epoch: number }[]; testImages: number; testAccuracy: number; checkpoint: string };
      assert.deepEqual(summary.epochs.map((e) => e.epoch), [1, 2]);
      assert.equal(summary.testImages, 20);
      assert.ok(summary.testAccuracy >= 0.9, `test accuracy ${summary.testAccuracy}`);
      assert.equal(summary.checkpoint, path.join(out, 'epoch-002'));
      const meta = JSON.parse(await readFile(path.join(out, 'epoch-002', 'meta.json'), 'utf8')) as { model: { classes: number; input: unknown }; epoch: number };
      assert.equal(meta.model.classes, 2);
      assert.equal(meta.epoch, 2);
      await selectBackend('cpu');
      const plain = await tf.loadLayersModel(fileIOHandler(summary.checkpoint));
      assert.deepEqual(plain.outputs.map((o) => o.shape), [[null, 128], [null, 2]]);
      plain.dispose();

      const resumed = await runCli([...common, '--epochs', '3', '--resume']);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual((JSON.parse(resumed.stdout) as { epochs: { epoch: number }[] }).epochs.map((e) => e.epoch), [3]);
      assert.match(resumed.stderr, /continuing train after epoch 2 \(.*epoch-002\)/);
      const lines = (await readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n');
      assert.equal(lines.length, 3);

      // every epoch is kept; a second run into the same folder is refused and changes nothing
      assert.ok((await readFile(path.join(out, 'epoch-001', 'meta.json'), 'utf8')).length > 0);
      const again = await runCli([...common, '--epochs', '3']);
      assert.equal(again.code, 4);
      assert.match(again.stderr, /\(.*--resume\): .* holds a training run .*resume it, or choose another output folder/);
      assert.equal((await readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').length, 3);
      const normalized = await runCli([...common, '--out', path.join(root, 'normalized'), '--epochs', '1', '--normalize', '0.3/0.35']);
      assert.equal(normalized.code, 0, normalized.stderr);
      const normMeta = JSON.parse(await readFile(path.join(root, 'normalized', 'epoch-001', 'meta.json'), 'utf8')) as { normalization: unknown };
      assert.deepEqual(normMeta.normalization, { mean: [0.3], std: [0.35] });
      const badNorm = await runCli([...common, '--normalize', '0.5,0.5/0.2']);
      assert.equal(badNorm.code, 2);
      assert.match(badNorm.stderr, /--normalize/);
      const rgbNorm = await runCli([...common, '--out', path.join(root, 'other'), '--normalize', '0.5,0.5,0.5/0.2,0.2,0.2']);
      assert.equal(rgbNorm.code, 2);
      assert.match(rgbNorm.stderr, /--normalize gives 3 channel\(s\); model fmnist takes 1/);

      const bad = await runCli([...common, '--model', 'vgg']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /unknown model "vgg"/);
      const badBatch = await runCli([...common, '--batch', '1']);
      assert.equal(badBatch.code, 2);
    });
  });

  it('trains on a LayersModel from disk as the backbone (layers:PATH), frozen at a named layer', async () => {
    await withTempDir(async (root) => {
      const data = path.join(root, 'data');
      await mkdir(data);
      await writeIdxSet(data, 'train', 32, new Rng(2));
      await selectBackend('cpu');
      const inp = tf.input({ shape: [28, 28, 1] });
      const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, activation: 'relu', name: 'c1' }).apply(inp) as tf.SymbolicTensor;
      const feat = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, activation: 'relu', name: 'feat' }).apply(c1) as tf.SymbolicTensor;
      const top = tf.layers.dense({ units: 3, name: 'top' }).apply(tf.layers.flatten().apply(feat)) as tf.SymbolicTensor;
      const base = tf.model({ inputs: inp, outputs: top });
      // a converter's file name, not model.json: layers: takes the JSON file itself as well as its folder
      await base.save(fileIOHandler(path.join(root, 'base'), 'converted.json'));
      const baseFeat = Array.from(base.getLayer('feat').getWeights()[0]!.dataSync());
      base.dispose();

      const out = path.join(root, 'run');
      const model = `layers:${path.join(root, 'base', 'converted.json')}`;
      const common = ['--backend', 'wasm', 'train', '--data', data, '--out', out, '--model', model, '--batch', '8', '--epochs', '1', '--json'];
      const noLayer = await runCli([...common, '--input', '28x28x1']);
      assert.equal(noLayer.code, 2);
      assert.match(noLayer.stderr, /needs --feature-layer/);
      const noInput = await runCli([...common, '--feature-layer', 'feat']);
      assert.equal(noInput.code, 2);
      assert.match(noInput.stderr, /needs --input/);
      const badInput = await runCli([...common, '--feature-layer', 'feat', '--input', '28x28x2']);
      assert.equal(badInput.code, 2);
      assert.match(badInput.stderr, /--input/);
      const wrongLayer = await runCli([...common, '--feature-layer', 'nope', '--input', '28x28x1']);
      assert.equal(wrongLayer.code, 2);
      assert.match(wrongLayer.stderr, /no layer named "nope"/);

      const run = await runCli([...common, '--feature-layer', 'feat', '--input', '28x28x1', '--freeze', '--embedding-dim', '16']);
      assert.equal(run.code, 0, run.stderr);
      const { checkpoint } = JSON.parse(run.stdout) as { checkpoint: string };
      const meta = JSON.parse(await readFile(path.join(checkpoint, 'meta.json'), 'utf8')) as { model: { architecture: string; embeddingDim: number; classifierInit: string; pretrained: unknown } };
      assert.equal(meta.model.architecture, 'pretrained');
      assert.equal(meta.model.embeddingDim, 16);
      assert.equal(meta.model.classifierInit, 'normal-0.001');
      assert.deepEqual(meta.model.pretrained, { path: path.join(root, 'base', 'converted.json'), featureLayer: 'feat', freeze: true });
      await selectBackend('cpu');
      const trained = await tf.loadLayersModel(fileIOHandler(checkpoint));
      assert.deepEqual(Array.from(trained.getLayer('feat').getWeights()[0]!.dataSync()), baseFeat, 'the frozen backbone kept its weights');
      assert.notDeepEqual(Array.from(trained.getLayer('embedding').getWeights()[0]!.dataSync().slice(0, 16)), new Array(16).fill(0));
      trained.dispose();
    });
  });
});
