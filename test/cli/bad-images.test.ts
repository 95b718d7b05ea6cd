import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { writeSolidImage } from '../datasets/fixtures.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { hashTree } from '../helpers/tree-hash.js';

/** A folder per identity: 2 identities × 6 images over 2 cameras (dark and bright squares). */
async function writeSet(dir: string): Promise<void> {
  for (const pid of [1, 2]) {
    for (let k = 0; k < 6; k++) {
      const level = pid === 1 ? 30 + k : 200 + k;
      await writeSolidImage(path.join(dir, String(pid), `${pid}_c${1 + (k % 2)}_${k}.png`), [level, level, level], 12, 12);
    }
  }
}

const corrupt = (dir: string) => writeFile(path.join(dir, '2', '2_c1_9.png'), 'these bytes are no PNG');

describe('corrupt images: --check stops before any work, --skip-bad leaves them out and lists them, a mid-run one names the file and how to continue', () => {
  it('pul train', async () => {
    await withTempDir(async (root) => {
      const data = path.join(root, 'data');
      await writeSet(data);
      await corrupt(data);
      const train = (...args: string[]) => runCli(['--backend', 'wasm', 'train', '--data', data, '--model', 'fmnist', '--batch', '4', '--epochs', '1', ...args]);

      const before = await hashTree(root);
      const checked = await train('--out', path.join(root, 'checked'), '--check');
      assert.equal(checked.code, 3, checked.stderr);
      assert.match(checked.stderr, /^pul: error \[image\.corrupt\] \(.*2_c1_9\.png\): 1 of 13 images cannot be decoded \(first: .*data\/2\/2_c1_9\.png\); leave them out with --skip-bad/m);
      assert.deepEqual(await hashTree(root), before, '--check wrote nothing');

      const out = path.join(root, 'skipped');
      const skipped = await train('--out', out, '--skip-bad', '--json');
      assert.equal(skipped.code, 0, skipped.stderr);
      assert.match(skipped.stderr, /skipping 1 image\(s\) that cannot be decoded \(first: .*2_c1_9\.png\), listed in .*skipped\/skipped-images\.csv/);
      assert.match(skipped.stderr, /train: 12 images, 2 classes/);
      assert.equal((JSON.parse(skipped.stdout) as { skippedImages: number }).skippedImages, 1);
      assert.equal(await readFile(path.join(out, 'skipped-images.csv'), 'utf8'), `path,pid,camid,split\n${path.join(data, '2', '2_c1_9.png')},2,1,train\n`);
      const inspected = await runCli(['inspect', path.join(out, 'epoch-001')]);
      assert.match(inspected.stdout, /"skippedImages":1/);

      // no flag: the first batch holding the file stops training, naming it; a later epoch says how to continue
      const plain = await train('--out', path.join(root, 'plain'));
      assert.equal(plain.code, 3);
      assert.match(plain.stderr, /\[image\.corrupt\] \(.*2_c1_9\.png\): .*2_c1_9\.png is not a readable image .*; fix or remove the file, or leave such images out with --skip-bad/);
      assert.doesNotMatch(plain.stderr, /continue with|unexpected error/);
      const clean = path.join(root, 'clean');
      await writeSet(clean);
      const resumable = path.join(root, 'resumable');
      assert.equal((await runCli(['--backend', 'wasm', 'train', '--data', clean, '--model', 'fmnist', '--batch', '4', '--epochs', '1', '--out', resumable])).code, 0);
      await corrupt(clean);
      const second = await runCli(['--backend', 'wasm', 'train', '--data', clean, '--model', 'fmnist', '--batch', '4', '--epochs', '2', '--out', resumable, '--resume', '--force']); // --force: the data set changed
      assert.equal(second.code, 3);
      assert.match(second.stderr, /finished epochs are kept \(.*resumable\/epoch-001\) — continue with: pul --backend wasm train --data .* --epochs 2 --out .*resumable --resume --force\n/);
    });
  });

  it('pul run', async () => {
    await withTempDir(async (root) => {
      const data = path.join(root, 'target');
      await writeSet(data);
      await corrupt(data);
      const runs = path.join(root, 'runs');
      const config = path.join(root, 'tiny.json');
      await writeFile(config, JSON.stringify({
        name: 'tiny', out: runs, seed: 1,
        data: { target: { path: data, format: 'folder' } },
        model: { name: 'fmnist', input: { height: 12, width: 12, channels: 1 }, embeddingDim: 8 },
        clustering: { k: 2, restarts: 1 },
        training: { epochsPerRound: 1, batchSize: 4, augment: 'none' },
        stop: { maxRounds: 1, minChange: 0 },
      }));
      const run = (...args: string[]) => runCli(['--backend', 'wasm', 'run', ...args]);

      const before = await hashTree(root);
      const checked = await run('--config', config, '--check');
      assert.equal(checked.code, 3, checked.stderr);
      assert.match(checked.stderr, /\[image\.corrupt\] \(.*2_c1_9\.png\): 1 of 13 images cannot be decoded \(first: .*2_c1_9\.png\); leave them out with --skip-bad \(data\.skipBad\)/);
      assert.deepEqual(await hashTree(root), before, '--check wrote nothing');

      const plain = await run('--config', config);
      assert.equal(plain.code, 3);
      const runDir = path.join(runs, 'tiny');
      assert.match(plain.stderr, new RegExp(`\\[image\\.corrupt\\] \\(${runDir}, --resume\\): .*2_c1_9\\.png is not a readable image .*; fix or remove the file, or leave such images out with --skip-bad .*; the finished stages are kept — continue with: pul run --resume ${runDir}\\n`));

      const same = await run('--resume', runDir, '--skip-bad');
      assert.equal(same.code, 4, 'skipping images changes the configuration');
      assert.match(same.stderr, /configuration differs .*\(data\.skipBad\)/);
      const resumed = await run('--resume', runDir, '--skip-bad', '--force');
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /skipping 1 image\(s\) that cannot be decoded/);
      assert.equal(await readFile(path.join(runDir, 'skipped-images.csv'), 'utf8'), `path,pid,camid,split\n${path.join(data, '2', '2_c1_9.png')},2,1,train\n`);
      const inspected = await runCli(['inspect', runDir]);
      assert.equal(inspected.code, 0, inspected.stderr);
      assert.match(inspected.stdout, /skipped images: 1 that cannot be decoded \(listed in .*tiny\/skipped-images\.csv\)/);
      const features = await readFile(path.join(runDir, 'round-01', 'features', 'index.csv'), 'utf8');
      assert.equal(features.trim().split('\n').length, 1 + 12);
    });
  });
});
