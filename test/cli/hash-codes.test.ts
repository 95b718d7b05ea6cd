/**
 * Hash codes end to end: pul train --hash-bits (a tanh head, saved in meta.json, shown by pul inspect),
 * pul extract --binary (codes.bin = sign of the extracted features), pul eval --binary (Hamming mAP as the
 * library computes it), and each bad input as a named error before any work.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { CODES_FILE, MODEL_PRESETS, Rng, buildModel, disposeModel, evaluateCodes, packSigns, readCodeFolder, readCodes, readFeatureFolder, saveCheckpoint, selectBackend, writeLatest } from '../../src/index.js';
import { encodeIdx } from '../../src/datasets/idx-file.js';
import { runCli } from '../helpers/run-cli.js';
import { hashTree } from '../helpers/tree-hash.js';
import { writeReidImages } from '../helpers/reid-images.js';
import { withTempDir } from '../helpers/temp-dir.js';

/** An IDX training set: 4 labels, each bright in its own quadrant. */
async function writeIdxSet(dir: string, set: string, n: number, rng: Rng): Promise<void> {
  const px = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 4;
    labels[i] = label;
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) px[i * 784 + y * 28 + x] = ((y < 14 ? 0 : 2) + (x < 14 ? 0 : 1) === label ? 200 : 30) + rng.int(40);
  }
  await writeFile(path.join(dir, `${set}-images-idx3-ubyte`), encodeIdx([n, 28, 28], px));
  await writeFile(path.join(dir, `${set}-labels-idx1-ubyte`), encodeIdx([n], labels));
}


test('pul train --hash-bits 64 --loss hash → inspect → extract --binary → eval --binary', () =>
  withTempDir(async (root) => {
    const rng = new Rng(2);
    const idx = path.join(root, 'idx');
    await mkdir(idx);
    await writeIdxSet(idx, 'train', 32, rng);
    await writeIdxSet(idx, 't10k', 8, rng);
    const reid = path.join(root, 'reid');
    await writeReidImages(reid);
    const run = path.join(root, 'run');
    const train = ['--backend', 'wasm', 'train', '--data', idx, '--model', 'fmnist', '--epochs', '2', '--lr', '0.05', '--json'];
    // the DSH loss alone on P×K batches (4 identities × 4 images)
    const trained = await runCli([...train, '--out', run, '--hash-bits', '64', '--loss', 'hash', '--pk', '4,4']);
    assert.equal(trained.code, 0, trained.stderr);
    assert.match(trained.stderr, /loss hash, sampler pk/);
    assert.doesNotMatch(trained.stderr, /warning/);
    // a ce term on a hash head: warned before any training (the codes collapse to one)
    const withCe = await runCli([...train, '--epochs', '1', '--out', path.join(root, 'ce-run'), '--hash-bits', '8', '--loss', 'ce+hash', '--pk', '4,4']);
    assert.equal(withCe.code, 0, withCe.stderr);
    assert.match(withCe.stderr, /warning: loss ce\+hash trains the hash head through the classifier.*triplet-hard\+hash/);
    const meta = JSON.parse(await readFile(path.join(run, 'epoch-002', 'meta.json'), 'utf8')) as { model: { hashBits: number; embeddingDim: number }; training: { loss: string; hashBits: number } };
    assert.deepEqual([meta.model.hashBits, meta.model.embeddingDim, meta.training.loss, meta.training.hashBits], [64, 64, 'hash', 64]);
    const epochs = (await readFile(path.join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { loss: number; accuracy: number | null; activeShare: number | null });
    assert.equal(epochs.length, 2);
    for (const e of epochs) {
      assert.ok(Number.isFinite(e.loss) && e.loss > 0 && e.accuracy === null, JSON.stringify(e));
      assert.ok(e.activeShare !== null && e.activeShare > 0 && e.activeShare <= 1, `active pairs ${e.activeShare}`);
    }
    assert.ok(epochs[1]!.loss < epochs[0]!.loss, `hash loss ${epochs[0]!.loss} → ${epochs[1]!.loss}`);
    const inspect = await runCli(['inspect', path.join(run, 'epoch-002')]);
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.match(inspect.stdout, /network: fmnist, input 28×28×1, hash head 64 bits \(tanh\), 4 classes/);

    const q = path.join(root, 'q');
    const g = path.join(root, 'g');
    for (const [split, out] of [['query', q], ['gallery', g]] as const) {
      const ex = await runCli(['--backend', 'wasm', 'extract', '--checkpoint', run, '--data', reid, '--format', 'folder', '--split', split, '--out', out, '--binary']);
      assert.equal(ex.code, 0, ex.stderr);
      assert.match(ex.stdout, /wrote 6 × 64 features and 64-bit codes/);
    }
    const floats = await readFeatureFolder(q);
    assert.ok(floats.features.data.every((v) => v > -1 && v < 1), 'tanh head: every value in (−1, 1)');
    const codes = await readCodes(path.join(q, CODES_FILE));
    assert.deepEqual([...codes.data], [...packSigns(floats.features).data]);
    assert.equal((await stat(path.join(q, CODES_FILE))).size, 20 + 6 * 8);

    const before = await hashTree(root);
    const evaluated = await runCli(['--backend', 'wasm', 'eval', '--query', q, '--gallery', g, '--binary', '--json', '--ranks', '1,2']);
    assert.equal(evaluated.code, 0, evaluated.stderr);
    assert.equal(await hashTree(root), before, 'pul eval writes nothing');
    const report = JSON.parse(evaluated.stdout) as { mAP: number; cmc: number[]; metric: string; bits: number; validQueries: number };
    assert.deepEqual([report.metric, report.bits, report.validQueries], ['hamming', 64, 6]);
    const expected = evaluateCodes(await readCodeFolder(q), await readCodeFolder(g), { ranks: [1, 2], path: 'js' });
    assert.equal(report.mAP, expected.mAP);
    assert.deepEqual(report.cmc, expected.cmc);
    const text = await runCli(['--backend', 'wasm', 'eval', '--query', q, '--gallery', g, '--binary']);
    assert.match(text.stdout, /6 × 64 bits[\s\S]*metric: hamming \(popcount: (js|portable|popcnt|avx512)\)[\s\S]*mAP/);

    // bad widths: named errors before any training, no run folder left behind
    for (const [bits, why] of [['12', /--hash-bits: 12 bits is not a multiple of 8/], ['2048', /--hash-bits: 2048 bits is outside 8–1024/], ['0', /--hash-bits: 0 bits is outside 8–1024/]] as const) {
      const bad = await runCli([...train, '--out', path.join(root, `bad-${bits}`), '--hash-bits', bits]);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, why);
      await assert.rejects(stat(path.join(root, `bad-${bits}`)));
    }
    const both = await runCli([...train, '--out', path.join(root, 'both'), '--hash-bits', '64', '--embedding-dim', '32']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--hash-bits 64 and --embedding-dim 32/);
  }));

test('pul eval --binary without or with a damaged codes.bin, extract --binary of a 12-d embedding: named errors', () =>
  withTempDir(async (root) => {
    await selectBackend('wasm');
    const reid = path.join(root, 'reid');
    await writeReidImages(reid);
    const model = await buildModel({ ...MODEL_PRESETS.fmnist, embeddingDim: 12 }, new Rng(3));
    const run = path.join(root, 'run');
    await saveCheckpoint(path.join(run, 'epoch-001'), { model, normalization: 'unit', epoch: 1 });
    await writeLatest(run, 'epoch-001');
    disposeModel(model);
    const bad = await runCli(['--backend', 'wasm', 'extract', '--checkpoint', run, '--data', reid, '--format', 'folder', '--split', 'query', '--out', path.join(root, 'b'), '--binary']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--binary: .* 12-dimensional embedding, and as a code 12 bits is not a multiple of 8/);
    await assert.rejects(stat(path.join(root, 'b')));

    const q = path.join(root, 'q');
    assert.equal((await runCli(['--backend', 'wasm', 'extract', '--checkpoint', run, '--data', reid, '--format', 'folder', '--split', 'query', '--out', q])).code, 0);
    const missing = await runCli(['eval', '--query', q, '--gallery', q, '--binary']);
    assert.equal(missing.code, 3);
    assert.ok(missing.stderr.includes(path.join(q, CODES_FILE)), missing.stderr);
    assert.match(missing.stderr, /pul extract --binary/);
    // a 16-bit codes.bin with one byte missing
    const codes = path.join(q, CODES_FILE);
    await writeFile(codes, Buffer.concat([Buffer.from('PULCODES'), Buffer.from(Uint32Array.of(1, 6, 16).buffer), Buffer.alloc(12)]));
    assert.equal((await runCli(['eval', '--query', q, '--gallery', q, '--binary', '--no-camera-filter'])).code, 0);
    await truncate(codes, 31);
    const truncated = await runCli(['eval', '--query', q, '--gallery', q, '--binary']);
    assert.equal(truncated.code, 3);
    assert.ok(truncated.stderr.includes(`${codes}: truncated: 6 rows × 16 bits need 32 bytes, the file has 31`), truncated.stderr);
  }));
