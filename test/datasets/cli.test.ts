import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { hashTree } from '../helpers/tree-hash.js';
import { writeIdxPair, writeImages } from './fixtures.js';

describe('pul datasets', () => {
  it('info: counts per split, junk, distractors, warnings; --json', () => {
    return withTempDir(async (root) => {
      await writeImages(path.join(root, 'bounding_box_train'), ['0001_c1s1_000001_01.jpg', '0001_c2s1_000002_01.jpg']);
      await writeImages(path.join(root, 'query'), ['0002_c1s1_000003_01.jpg']);
      await writeImages(path.join(root, 'bounding_box_test'), ['0002_c1s1_000004_01.jpg', '0000_c2s1_000005_01.jpg', '-1_c1s1_000006_01.jpg']);
      const r = await runCli(['datasets', 'info', root]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /junk dropped \(pid -1\): 1/);
      assert.match(r.stdout, /gallery\s+2\s+2\s+1,2\s+1\s+0/);
      assert.match(r.stdout, /warning: 1 query image\(s\) of 1 identity \(2\) have no gallery image of the same identity from another camera/);
      const j = await runCli(['datasets', 'info', root, '--json']);
      const parsed = JSON.parse(j.stdout) as { splits: { train: { images: number; identities: number } } };
      assert.deepEqual([parsed.splits.train.images, parsed.splits.train.identities], [2, 1]);
    });
  });

  it('info --check: lists corrupt images and exits 3; --skip-bad reports them and exits 0', () => {
    return withTempDir(async (root) => {
      await writeImages(path.join(root, 'bounding_box_train'), ['0001_c1s1_000001_01.jpg']);
      await writeFile(path.join(root, 'bounding_box_train', '0001_c2s1_000002_01.jpg'), 'truncated');
      const r = await runCli(['datasets', 'info', root, '--check']);
      assert.equal(r.code, 3);
      assert.match(r.stdout, /1 corrupt or unreadable/);
      assert.match(r.stderr, /\[image\.corrupt\].*1 of 2 images cannot be decoded \(first: .*0001_c2s1_000002_01\.jpg\)/);
      const s = await runCli(['datasets', 'info', root, '--check', '--skip-bad']);
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stderr, /skipping 1 corrupt image\(s\): .*0001_c2s1_000002_01\.jpg/);
    });
  });

  it('bad inputs exit with the data code and name the file (and line)', () => {
    return withTempDir(async (root) => {
      const missing = await runCli(['datasets', 'info', path.join(root, 'nope')]);
      assert.equal(missing.code, 3);
      assert.match(missing.stderr, /\[dataset\.notFound\].*nope does not exist/);
      await writeFile(path.join(root, 'm.csv'), 'path,pid,camid\na.jpg,1,0\nb.jpg,bob,0\n');
      const csv = await runCli(['datasets', 'info', path.join(root, 'm.csv')]);
      assert.equal(csv.code, 3);
      assert.match(csv.stderr, /\[csv\.malformedLine\] \(.*m\.csv, line 3\): pid "bob" is not an integer/);
      await mkdir(path.join(root, 'idx'));
      await writeFile(path.join(root, 'idx', 'train-images-idx3-ubyte'), 'PK\u0003\u0004zip');
      await writeFile(path.join(root, 'idx', 'train-labels-idx1-ubyte'), 'x');
      const idx = await runCli(['datasets', 'info', path.join(root, 'idx')]);
      assert.equal(idx.code, 3);
      assert.match(idx.stderr, /\[idx\.malformed\].*train-(images|labels).*magic/);
      const usage = await runCli(['datasets', 'info', root, '--format', 'coco']);
      assert.equal(usage.code, 2);
    });
  });

  it('info warns about files that are not images, refuses manifest paths outside the folder unless --allow-outside; nothing written', () => {
    return withTempDir(async (root) => {
      await mkdir(path.join(root, 'fake', '1'), { recursive: true });
      await mkdir(path.join(root, 'fake', '2'));
      await writeFile(path.join(root, 'fake', '1', 'a.jpg'), 'not an image');
      await writeFile(path.join(root, 'fake', '2', 'b.png'), 'not an image either');
      const before = await hashTree(root);
      const fake = await runCli(['datasets', 'info', path.join(root, 'fake')]);
      assert.equal(fake.code, 0, fake.stderr);
      assert.match(fake.stdout, /warning: none of the 2 images looked at is a readable image \(e\.g\. .*fake\/1\/a\.jpg\); --check decodes every image/);
      assert.deepEqual(await hashTree(root), before);

      await writeImages(path.join(root, 'inside'), ['a.jpg']);
      await writeImages(path.join(root, 'other'), ['b.jpg']);
      await writeFile(path.join(root, 'inside', 'm.csv'), 'path,pid,camid\na.jpg,1,0\n../other/b.jpg,2,1\n');
      const mid = await hashTree(root);
      const outside = await runCli(['datasets', 'info', path.join(root, 'inside', 'm.csv')]);
      assert.equal(outside.code, 3);
      assert.match(outside.stderr, /^pul: error \[dataset\.outsideRoot\] \(.*inside\/m\.csv, line 3\): path \.\.\/other\/b\.jpg leaves the folder .*inside \(it resolves to .*other\/b\.jpg\); pass --allow-outside/m);
      const allowed = await runCli(['datasets', 'info', path.join(root, 'inside', 'm.csv'), '--allow-outside', '--check']);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(allowed.stdout, /images: 2\n/);
      assert.deepEqual(await hashTree(root), mid);
      const dup = path.join(root, 'inside', 'dup.csv');
      await writeFile(dup, 'path,pid,camid,pid\na.jpg,1,0,2\n');
      const afterDup = await hashTree(root);
      const dupRun = await runCli(['datasets', 'info', dup]);
      assert.equal(dupRun.code, 3);
      assert.match(dupRun.stderr, /\[csv\.malformedLine\] \(.*dup\.csv, line 1\): .*names column "pid" twice/);
      assert.deepEqual(await hashTree(root), afterDup);
    });
  });

  it('info on IDX with --classes applies the fmnist split rule', () => {
    return withTempDir(async (root) => {
      await writeIdxPair(root, 'train', [0, 5, 9]);
      await writeIdxPair(root, 't10k', Array.from({ length: 30 }, (_, i) => i % 10));
      const r = await runCli(['datasets', 'info', root, '--classes', '5-9', '--json', '--check']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { splits: Record<string, { images: number }>; check: { checked: number } };
      assert.deepEqual([j.splits.train?.images, j.splits.query?.images, j.splits.gallery?.images], [2, 2, 13]);
      assert.equal(j.check.checked, 17);
    });
  });

  const FMNIST = '/usr/share/datasets/fashion-mnist';
  it('info reads Debian\'s Fashion-MNIST with the fmnist-disjoint target classes', { skip: !existsSync(FMNIST) && `${FMNIST} is not installed (apt-get install dataset-fashion-mnist)` }, async () => {
    const r = await runCli(['datasets', 'info', FMNIST, '--classes', '5-9', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { format: string; splits: Record<string, { images: number; identities: number; cameras: number[] }>; sizes: { width: number }[] };
    assert.equal(j.format, 'idx');
    assert.deepEqual([j.splits.train?.images, j.splits.query?.images, j.splits.gallery?.images], [30000, 500, 4500]);
    assert.deepEqual([j.splits.query?.cameras, j.splits.gallery?.cameras], [[0], [1]]);
    assert.equal(j.sizes[0]?.width, 28);
  });

  it('synth writes a loadable set; synth rejects --cams 1', () => {
    return withTempDir(async (root) => {
      const out = path.join(root, 'demo');
      const r = await runCli(['datasets', 'synth', '--out', out, '--ids', '2', '--cams', '2', '--per-cam', '1', '--height', '32', '--width', '16', '--seed', '4']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /source: .*demo\/source \(train \d+, query \d+, gallery \d+\)/);
      const info = await runCli(['datasets', 'info', path.join(out, 'target'), '--check']);
      assert.equal(info.code, 0, info.stderr);
      const bad = await runCli(['datasets', 'synth', '--out', out, '--cams', '1']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /cams=1: re-ID needs at least 2 cameras/);
    });
  });
});
