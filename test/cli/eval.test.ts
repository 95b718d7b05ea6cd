import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { MODEL_PRESETS, Rng, buildModel, packSigns, writeCodes, disposeModel, featureMatrix, heldOutSamples, loadDataset, modelAllVsAll, saveCheckpoint, selectBackend, writeFeatureFolder, writeLatest, type IndexRow } from '../../src/index.js';
import { encodeIdx } from '../../src/datasets/idx-file.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';

/** Two identities seen by two cameras; 2-D features where identity 1 points along x, identity 2 along y. */
async function writeCase(dir: string): Promise<{ query: string; gallery: string }> {
  const query = path.join(dir, 'query');
  const gallery = path.join(dir, 'gallery');
  const q: IndexRow[] = [
    { path: 'q1.jpg', pid: 1, camid: 0 },
    { path: 'q2.jpg', pid: 2, camid: 0 },
    { path: 'q3.jpg', pid: 3, camid: 0 }, // no gallery image of pid 3: skipped
  ];
  const g: IndexRow[] = [
    { path: 'g1.jpg', pid: 1, camid: 1 },
    { path: 'g2.jpg', pid: 2, camid: 1 },
    { path: 'g3.jpg', pid: 1, camid: 0 }, // same camera as q1: removed
    { path: 'g4.jpg', pid: 0, camid: 1 }, // distractor
  ];
  await writeFeatureFolder(query, { features: featureMatrix(3, 2, Float32Array.from([1, 0.1, 0.1, 1, 1, 1])), index: q });
  // for q2 the distractor (0.2, 1) is nearer than its true match (0.6, 1)
  await writeFeatureFolder(gallery, { features: featureMatrix(4, 2, Float32Array.from([1, 0, 0.6, 1, 1, 0.1, 0.2, 1])), index: g });
  return { query, gallery };
}

test('pul eval --json gives the metrics of a hand-computed case', () =>
  withTempDir(async (dir) => {
    const { query, gallery } = await writeCase(dir);
    const r = await runCli(['eval', '--query', query, '--gallery', gallery, '--json', '--ranks', '1,2']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { mAP: number; cmc: number[]; validQueries: number; skippedQueries: number; mINP: number };
    // q1: g1 first → AP 1. q2: distractor g4 first, g2 second → AP 1/2. mAP 0.75; rank-1 0.5, rank-2 1
    assert.deepEqual([out.validQueries, out.skippedQueries], [2, 1]);
    assert.equal(out.mAP, 0.75);
    assert.deepEqual(out.cmc, [0.5, 1]);
    assert.equal(out.mINP, 0.75);
  }));

test('pul eval prints a readable table, with the skipped queries explained', () =>
  withTempDir(async (dir) => {
    const { query, gallery } = await writeCase(dir);
    const r = await runCli(['eval', '--query', query, '--gallery', gallery]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^mAP +75\.00 %$/m);
    assert.match(r.stdout, /^rank-1 +50\.00 %$/m);
    assert.match(r.stdout, /skipped: 1 \(no true match from another camera; e\.g\. query rows 2\)/);
  }));

test('pul eval: mismatched dimensions, a missing folder and a bad option are clear errors', () =>
  withTempDir(async (dir) => {
    const { query } = await writeCase(dir);
    const other = path.join(dir, 'g3d');
    await writeFeatureFolder(other, { features: featureMatrix(1, 3, Float32Array.from([1, 2, 3])), index: [{ path: 'x.jpg', pid: 1, camid: 1 }] });
    const dims = await runCli(['eval', '--query', query, '--gallery', other]);
    assert.equal(dims.code, 3);
    assert.match(dims.stderr, /features\.mismatch.*2-dimensional features, .*g3d 3-dimensional/);
    const missing = await runCli(['eval', '--query', query, '--gallery', path.join(dir, 'nope')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /feature folder .*nope does not exist/);
    const bad = await runCli(['eval', '--query', query, '--gallery', other, '--metric', 'hamming']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--metric 'hamming': not one of cosine, euclidean/);
  }));

test('pul eval --rerank runs k-reciprocal re-ranking and says so', () =>
  withTempDir(async (dir) => {
    const { query, gallery } = await writeCase(dir);
    const r = await runCli(['eval', '--query', query, '--gallery', gallery, '--rerank', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { rerank: boolean; mAP: number; validQueries: number };
    assert.equal(out.rerank, true);
    assert.equal(out.validQueries, 2);
    assert.ok(out.mAP > 0 && out.mAP <= 1);
  }));

/** An IDX set: `n` train images and `n` t10k images of classes 5 and 6 (bright left half vs bright right half, with noise). */
async function writeHalvesIdx(dir: string, n: number): Promise<string> {
  const rng = new Rng(9);
  const data = path.join(dir, 'idx');
  await mkdir(data);
  for (const set of ['train', 't10k']) {
    const labels = Uint8Array.from({ length: n }, (_, i) => 5 + (i % 2));
    const px = Uint8Array.from({ length: n * 784 }, (_, k) => {
      const left = k % 28 < 14;
      return (labels[Math.floor(k / 784)] === 5) === left ? 150 + rng.int(100) : rng.int(60);
    });
    await writeFile(path.join(data, `${set}-images-idx3-ubyte`), encodeIdx([n, 28, 28], px));
    await writeFile(path.join(data, `${set}-labels-idx1-ubyte`), encodeIdx([n], labels));
  }
  return data;
}

test('pul eval --all-vs-all: Recall@K, mAP and NMI of a feature folder (hand-computed) and of raw pixels', () =>
  withTempDir(async (dir) => {
    // five points on a line (test/evaluation/all-vs-all.test.ts): Recall@1,2,4 = 0.4, 0.8, 1; mAP 37/60
    const folder = path.join(dir, 'line');
    await writeFeatureFolder(folder, { features: featureMatrix(5, 1, Float32Array.of(0, 1, 3, 10, 11)), index: [0, 1, 0, 1, 1].map((pid, i) => ({ path: `${i}.png`, pid, camid: 0 })) });
    const r = await runCli(['eval', '--all-vs-all', '--features', folder, '--metric', 'euclidean', '--ranks', '1,2,4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { protocol: string; recall: number[]; mAP: number; nmi: number; images: number; classes: number };
    assert.deepEqual([out.protocol, out.images, out.classes, out.recall], ['all-vs-all', 5, 2, [0.4, 0.8, 1]]);
    assert.ok(Math.abs(out.mAP - 37 / 60) < 1e-9);
    assert.ok(out.nmi >= 0 && out.nmi <= 1);
    const text = await runCli(['eval', '--all-vs-all', '--features', folder, '--metric', 'euclidean']);
    assert.match(text.stdout, /^Recall@1 +40\.00 %$/m);
    assert.match(text.stdout, /^Recall@8 +100\.00 %$/m); // K beyond the 4 others: every query has a hit
    assert.match(text.stdout, /^mAP +61\.67 %$/m);
    assert.match(text.stdout, /^NMI +\d\.\d{4} \(k-means, K=2, seed 0\)$/m);

    // raw pixels of the held-out (t10k) images: the two classes are separable by their bright half
    const data = await writeHalvesIdx(dir, 20);
    const px = await runCli(['eval', '--all-vs-all', '--pixels', '--data', data, '--format', 'idx', '--json']);
    assert.equal(px.code, 0, px.stderr);
    const p = JSON.parse(px.stdout) as { recall: number[]; mAP: number; nmi: number; images: number; dim: number };
    assert.deepEqual([p.images, p.dim, p.recall, p.mAP, p.nmi], [20, 784, [1, 1, 1, 1], 1, 1]);
  }));

test('pul eval --all-vs-all --checkpoint ranks the embeddings of the held-out images, as the library does', () =>
  withTempDir(async (dir) => {
    await selectBackend('wasm');
    const data = await writeHalvesIdx(dir, 24);
    const model = await buildModel(MODEL_PRESETS.fmnist, new Rng(3));
    const run = path.join(dir, 'run');
    await saveCheckpoint(path.join(run, 'epoch-001'), { model, normalization: 'unit', epoch: 1 });
    await writeLatest(run, 'epoch-001');
    const samples = heldOutSamples(await loadDataset(data, { format: 'idx', classes: [5, 6] }));
    const { metrics } = await modelAllVsAll(model, samples, { normalization: 'unit', seed: 3 });
    disposeModel(model);
    const r = await runCli(['--backend', 'wasm', 'eval', '--all-vs-all', '--checkpoint', run, '--data', data, '--classes', '5,6', '--seed', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { recall: number[]; mAP: number; nmi: number; images: number; dim: number };
    assert.deepEqual([out.images, out.dim], [24, 128]);
    assert.deepEqual(out.recall, metrics.recall);
    assert.ok(Math.abs(out.mAP - metrics.mAP) < 1e-9 && Math.abs(out.nmi - metrics.nmi!) < 1e-9, `${out.mAP} ${metrics.mAP} ${out.nmi} ${metrics.nmi}`);
  }));

test('pul eval --all-vs-all: a missing or doubled source and flags of the other mode are usage errors', () =>
  withTempDir(async (dir) => {
    const { query, gallery } = await writeCase(dir);
    const cases: [string[], RegExp][] = [
      [['--all-vs-all'], /needs exactly one of --features DIR, --checkpoint CK --data PATH, --pixels --data PATH/],
      [['--all-vs-all', '--features', query, '--pixels'], /needs exactly one of/],
      [['--all-vs-all', '--pixels'], /--pixels needs --data/],
      [['--all-vs-all', '--features', query, '--gallery', gallery], /not --query\/--gallery/],
      [['--all-vs-all', '--features', query, '--rerank'], /--rerank is not available with --all-vs-all/],
      [['--all-vs-all', '--features', query, '--input', '28x28x1'], /--input and --normalize go with --pixels/],
      [['--all-vs-all', '--pixels', '--data', query, '--binary'], /raw pixels have none/],
      [['--query', query, '--gallery', gallery, '--pixels'], /--pixels goes with --all-vs-all/],
      [['--query', query, '--gallery', gallery, '--features', query], /--features goes with --all-vs-all/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['eval', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  }));

test('pul eval --all-vs-all --binary ranks a folder\'s codes.bin by Hamming distance (hand-computed)', () =>
  withTempDir(async (dir) => {
    // the four 8-bit codes of test/evaluation/all-vs-all.test.ts: Recall@1,2,4 = 0, 3/4, 1; mAP 11/24
    const sign = (bits: number[]) => Array.from({ length: 8 }, (_, j) => (bits.includes(j) ? 1 : -1));
    const features = featureMatrix(4, 8, Float32Array.from([...sign([]), ...sign([0, 1]), ...sign([0]), ...sign([4, 5, 6, 7])]));
    const folder = path.join(dir, 'codes');
    const index: IndexRow[] = [0, 0, 1, 1].map((pid, i) => ({ path: `c${i}.png`, pid, camid: 0 }));
    await writeFeatureFolder(folder, { features, index });
    await writeCodes(path.join(folder, 'codes.bin'), packSigns(features));
    const r = await runCli(['eval', '--all-vs-all', '--binary', '--features', folder, '--ranks', '1,2,4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { metric: string; recall: number[]; mAP: number; dim: number };
    assert.deepEqual([out.metric, out.dim, out.recall], ['hamming', 8, [0, 0.75, 1]]);
    assert.ok(Math.abs(out.mAP - 11 / 24) < 1e-12);
  }));
