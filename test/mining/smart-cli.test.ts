/**
 * `--sampler smart` end to end: `pul train` trains 2 epochs on smart-mined batches (the metrics log has
 * the per-batch active shares, the log the refreshes), the controller's state goes with the checkpoint
 * so a resumed third epoch equals an uninterrupted one; `pul run` retrains with training.sampler smart.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { fixtureConfig, writePulFixture } from '../pipeline/pul-fixture.js';

interface EpochLine {
  epoch: number;
  steps: number;
  loss: number;
  activeShare: number | null;
  activeShares: number[];
  tensors: number;
}

const epochsOf = async (out: string): Promise<EpochLine[]> => (await readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as EpochLine);

describe('--sampler smart', () => {
  it('pul train: 2 epochs of smart-mined batches with active shares; a resumed epoch equals an uninterrupted one', async () => {
    await withTempDir(async (root) => {
      const data = path.join(root, 'data');
      await mkdir(data);
      await writePulFixture(data);
      const common = ['--backend', 'wasm', 'train', '--data', data, '--format', 'idx', '--classes', '0,1,2', '--model', 'fmnist', '--input', '12x12x1', '--embedding-dim', '16', '--lr', '0.05', '--batch', '16', '--loss', 'triplet-hard', '--sampler', 'smart', '--json'];
      const a = path.join(root, 'a');
      const two = await runCli([...common, '--out', a, '--epochs', '2']);
      assert.equal(two.code, 0, two.stderr);
      // 120 images of 3 classes: 7 batches of 16 = 4 groups (anchor, positive, negative, negative's positive)
      assert.match(two.stderr, /2 epochs of 7 batches of 16, loss triplet-hard, sampler smart/);
      assert.match(two.stderr, /smart mining \(epoch 1, step 0\): exact k=\d+, margin 0\.\d+, next refresh in \d+ steps; active [\d.]+ % of 120 mined triplets/);
      const lines = await epochsOf(a);
      assert.equal(lines.length, 2);
      for (const l of lines) {
        assert.equal(l.steps, 7);
        assert.equal(l.activeShares.length, 7);
        assert.ok(l.activeShares.every((s) => s >= 0 && s <= 1), JSON.stringify(l.activeShares));
        assert.ok(l.activeShare !== null && Math.abs(l.activeShare - l.activeShares.reduce((s, v) => s + v, 0) / 7) < 1e-9);
        assert.ok(Number.isFinite(l.loss));
      }
      assert.equal(lines[1]!.tensors, lines[0]!.tensors, 'the embedding passes leak nothing');
      const meta = JSON.parse(await readFile(path.join(a, 'epoch-002', 'meta.json'), 'utf8')) as { training: { sampler: string } };
      assert.equal(meta.training.sampler, 'smart');

      // a third epoch after a resume (the controller's state from the checkpoint) = three epochs in one go
      const resumed = await runCli([...common, '--out', a, '--epochs', '3', '--resume']);
      assert.equal(resumed.code, 0, resumed.stderr);
      const b = path.join(root, 'b');
      const straight = await runCli([...common, '--out', b, '--epochs', '3']);
      assert.equal(straight.code, 0, straight.stderr);
      const [ra, rb] = [(await epochsOf(a))[2]!, (await epochsOf(b))[2]!];
      assert.equal(ra.loss, rb.loss);
      assert.deepEqual(ra.activeShares, rb.activeShares);
      // the same weights and optimiser state, byte for byte (the SHA-256 of the files, in meta.json)
      const hashes = async (dir: string): Promise<unknown> => (JSON.parse(await readFile(path.join(dir, 'epoch-003', 'meta.json'), 'utf8')) as { sha256: unknown }).sha256;
      const ha = await hashes(a);
      assert.ok(ha !== undefined && ha !== null);
      assert.deepEqual(ha, await hashes(b));
    });
  });

  it('pul run: retrains with training.sampler smart', async () => {
    await withTempDir(async (root) => {
      await writePulFixture(root);
      const config = fixtureConfig(root, path.join(root, 'runs'));
      const file = path.join(root, 'smart.json');
      await writeFile(file, JSON.stringify({ ...config, training: { ...config.training, loss: 'ce+triplet-hard', sampler: 'smart' }, stop: { maxRounds: 1, minChange: 0 } }));
      const run = await runCli(['--backend', 'wasm', 'run', '--config', file, '--json']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /smart mining \(epoch 1, step 0\)/);
      const runDir = path.join(root, 'runs', 'tiny');
      const meta = JSON.parse(await readFile(path.join(runDir, 'round-01', 'checkpoint', 'meta.json'), 'utf8')) as { training: { loss: string; sampler: string } };
      assert.deepEqual([meta.training.loss, meta.training.sampler], ['ce+triplet-hard', 'smart']);
      const inspected = await runCli(['inspect', runDir]);
      assert.match(inspected.stdout, /retraining loss: ce\+triplet-hard, sampler smart/);
      // a batch size that is no multiple of 4 is a config error before any work
      const bad = path.join(root, 'bad.json');
      await writeFile(bad, JSON.stringify({ ...config, name: 'bad', training: { ...config.training, batchSize: 18, sampler: 'smart' } }));
      const r = await runCli(['--backend', 'wasm', 'run', '--config', bad]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /training\.batchSize.*multiple of 4/);
    });
  });
});
