import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { buildModel, countTrainableParams, describeCheckpoint, disposeModel, MODEL_PRESETS, Rng, saveCheckpoint, selectBackend } from '../../src/index.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { hashTree } from '../helpers/tree-hash.js';
import { writeSolidImage } from '../datasets/fixtures.js';

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

test('weights overwritten after saving (same size, NaN): inspect and extract stop with checkpoint.corrupt naming the file, nothing written', async () => {
  await selectBackend('cpu');
  await withTempDir(async (root) => {
    const dir = path.join(root, 'ck');
    const model = await buildModel({ ...MODEL_PRESETS.fmnist, classes: 3 }, new Rng(1));
    await saveCheckpoint(dir, { model, normalization: 'unit', epoch: 1 });
    disposeModel(model);
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as { sha256: Record<string, string> };
    assert.deepEqual(Object.keys(meta.sha256), ['weights.bin']);
    assert.equal(meta.sha256['weights.bin'], createHash('sha256').update(await readFile(path.join(dir, 'weights.bin'))).digest('hex'));
    assert.match((await runCli(['inspect', dir])).stdout, /integrity: ok \(.*SHA-256 of weights\.bin verified; all weights finite\)/);
    const data = path.join(root, 'data');
    await writeSolidImage(path.join(data, '1', 'a.png'), [10, 20, 30]);
    await writeSolidImage(path.join(data, '2', 'b.png'), [200, 20, 30]);

    const bytes = (await stat(path.join(dir, 'weights.bin'))).size;
    await writeFile(path.join(dir, 'weights.bin'), new Uint8Array(new Float32Array(bytes / 4).fill(Number.NaN).buffer));
    const before = await hashTree(root);
    const inspect = await runCli(['inspect', dir]);
    assert.equal(inspect.code, 4, inspect.stderr);
    assert.match(inspect.stdout, /integrity: DAMAGED\n {4}- .*weights\.bin: SHA-256 [0-9a-f]{12}… differs from [0-9a-f]{12}… recorded in meta\.json at save time/);
    assert.match(inspect.stderr, /checkpoint\.corrupt/);
    const extract = await runCli(['extract', '--checkpoint', dir, '--data', data, '--out', path.join(root, 'features')]);
    assert.equal(extract.code, 4, extract.stderr);
    assert.match(extract.stderr, /^pul: error \[checkpoint\.corrupt\] \(.*ck\/weights\.bin\): .*weights\.bin: SHA-256 .* differs/m);
    assert.deepEqual(await hashTree(root), before);

    // a checkpoint saved before hashes were recorded: loads (inspect says so); NaN weights are still refused, naming the layer
    delete (meta as { sha256?: unknown }).sha256;
    await writeFile(path.join(dir, 'meta.json'), JSON.stringify(meta));
    const old = await runCli(['inspect', dir]);
    assert.equal(old.code, 4);
    assert.match(old.stdout, /weights\.bin: weight kernel of layer \w+ holds NaN \(at element 0\); a usable checkpoint has only finite weights/);
    const oldExtract = await runCli(['extract', '--checkpoint', dir, '--data', data, '--out', path.join(root, 'features')]);
    assert.equal(oldExtract.code, 4);
    assert.match(oldExtract.stderr, /weight kernel of layer \w+ holds NaN/);
    const fresh = await buildModel({ ...MODEL_PRESETS.fmnist, classes: 3 }, new Rng(1));
    await saveCheckpoint(path.join(root, 'whole'), { model: fresh, normalization: 'unit', epoch: 1 });
    disposeModel(fresh);
    const wholeMeta = JSON.parse(await readFile(path.join(root, 'whole', 'meta.json'), 'utf8')) as { sha256?: unknown };
    delete wholeMeta.sha256;
    await writeFile(path.join(root, 'whole', 'meta.json'), JSON.stringify(wholeMeta));
    const ok = await runCli(['inspect', path.join(root, 'whole')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /integrity: ok \(.*no hash recorded \(saved by an older pul\): sizes checked only/);
  });
});
