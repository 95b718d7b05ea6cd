import assert from 'node:assert/strict';
import { rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { buildModel, countTrainableParams, describeCheckpoint, disposeModel, MODEL_PRESETS, Rng, saveCheckpoint, selectBackend } from '../../src/index.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';

test('pul inspect CHECKPOINT: network and parameter counts, pipeline state, files; damage named with a non-zero exit', async () => {
  await selectBackend('cpu');
  await withTempDir(async (root) => {
    const dir = path.join(root, 'ck');
    const model = await buildModel({ ...MODEL_PRESETS.fmnist, classes: 3 }, new Rng(1));
    // train_ref.py's fmnist net has 110 954 parameters with 10 classes; 7 fewer classes drop 7 × (128 + 1)
    assert.equal(countTrainableParams(model.net), 110954 - 7 * 129);
    await saveCheckpoint(dir, { model, normalization: 'unit', epoch: 4, state: { round: 2, lambda: 0.85, metrics: { mAP: 0.5 } } });
    disposeModel(model);
    const d = await describeCheckpoint(dir);
    assert.deepEqual(d.problems, []);
    assert.equal(d.network?.trainableParams, 110954 - 7 * 129);
    assert.ok(d.network !== null && d.network.totalParams > d.network.trainableParams); // BN running statistics
    assert.deepEqual(d.files.map((f) => f.name), ['meta.json', 'model.json', 'weights.bin']);
    assert.equal(d.files[2]!.bytes, 4 * d.network.totalParams);
    const text = await runCli(['inspect', dir]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /fmnist, input 28×28×1, embedding 128, 3 classes/);
    assert.match(text.stdout, /round: 2\n {4}lambda: 0\.8500\n {4}metrics: \{"mAP":0\.5\}/);
    assert.match(text.stdout, /integrity: ok/);

    await truncate(path.join(dir, 'weights.bin'), 1000);
    const damaged = await runCli(['inspect', dir, '--json']);
    assert.equal(damaged.code, 4);
    assert.match((JSON.parse(damaged.stdout) as { problems: string[] }).problems.join(), /weights\.bin: 1000 bytes, but model\.json describes \d+/);
    assert.match(damaged.stderr, /checkpoint\.corrupt.*is damaged/);
    await rm(path.join(dir, 'meta.json'));
    const noMeta = await runCli(['inspect', dir]);
    assert.equal(noMeta.code, 4);
    assert.match(noMeta.stdout, /is not a checkpoint \(no meta\.json\)/);
  });
});
