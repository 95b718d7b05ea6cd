/**
 * `--loss` end to end: `pul train` with ce+triplet-hard (P×K batches) and lifted (no classifier, so no
 * accuracy) on a tiny IDX set, the loss recorded in the checkpoint, resume refusing another loss; the
 * bad inputs named before any training (nothing written); `pul run` with training.loss.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Rng } from '../../src/index.js';
import { encodeIdx } from '../../src/datasets/idx-file.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { assertClose } from '../helpers/assert-close.js';
import { hashTree } from '../helpers/tree-hash.js';
import { fixtureConfig, writePulFixture } from '../pipeline/pul-fixture.js';

interface EpochLine {
  epoch: number;
  loss: number;
  accuracy: number | null;
  activeShare: number | null;
  activeShares: number[];
  tensors: number;
}

const epochsOf = async (out: string): Promise<EpochLine[]> => (await readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as EpochLine);

/** 12×12 IDX images, `perClass[c]` of class c (a bright 3×3 blob in one of 4 places per class, plus noise). */
async function writeCounts(dir: string, perClass: readonly number[]): Promise<void> {
  const rng = new Rng(4);
  const labels = perClass.flatMap((n, c) => Array.from({ length: n }, () => c));
  const px = new Uint8Array(labels.length * 144);
  labels.forEach((c, i) => {
    for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) px[i * 144 + y * 12 + x] = (Math.floor(y / 6) * 2 + Math.floor(x / 6) === c % 4 ? 190 : 20) + rng.int(50);
  });
  await writeFile(path.join(dir, 'train-images-idx3-ubyte'), encodeIdx([labels.length, 12, 12], px));
  await writeFile(path.join(dir, 'train-labels-idx1-ubyte'), encodeIdx([labels.length], Uint8Array.from(labels)));
}

describe('--loss (pul train)', () => {
  it('ce+triplet-hard on P×K batches and lifted without a classifier train, record their loss, and resume refuses another', async () => {
    await withTempDir(async (root) => {
      const data = path.join(root, 'data');
      await mkdir(data);
      await writePulFixture(data);
      const common = ['--backend', 'wasm', 'train', '--data', data, '--format', 'idx', '--model', 'fmnist', '--input', '12x12x1', '--embedding-dim', '16', '--lr', '0.05', '--epochs', '2', '--json'];
      const triplet = path.join(root, 'triplet');
      const a = await runCli([...common, '--out', triplet, '--loss', 'ce+triplet-hard', '--pk', '2,4']);
      assert.equal(a.code, 0, a.stderr);
      assert.match(a.stderr, /2 epochs of 20 batches of 8, loss ce\+triplet-hard, sampler pk/);
      const lines = await epochsOf(triplet);
      assert.equal(lines.length, 2);
      for (const l of lines) {
        assert.ok(Number.isFinite(l.loss) && l.loss > 0, `loss ${l.loss}`);
        assert.ok(l.accuracy !== null && l.accuracy >= 0 && l.accuracy <= 1, `accuracy ${l.accuracy}`);
        // batch-hard mines: the share of anchors with a non-zero term, per batch and its mean
        assert.equal(l.activeShares.length, 20);
        assert.ok(l.activeShares.every((a) => a >= 0 && a <= 1));
        assertClose([l.activeShare!], [l.activeShares.reduce((x, y) => x + y, 0) / 20], { atol: 1e-9 });
      }
      // the same tensors after each epoch: nothing leaks under the metric loss
      assert.equal(lines[1]!.tensors, lines[0]!.tensors);
      const meta = JSON.parse(await readFile(path.join(triplet, 'epoch-002', 'meta.json'), 'utf8')) as { training: { loss: string; sampler: string; pk: unknown } };
      assert.deepEqual([meta.training.loss, meta.training.sampler, meta.training.pk], ['ce+triplet-hard', 'pk', { p: 2, k: 4 }]);

      const lifted = path.join(root, 'lifted');
      const b = await runCli([...common, '--out', lifted, '--loss', 'lifted', '--pk', '4,4']);
      assert.equal(b.code, 0, b.stderr);
      const liftedLines = await epochsOf(lifted);
      assert.ok(liftedLines.every((l) => l.accuracy === null && Number.isFinite(l.loss)), JSON.stringify(liftedLines));
      assert.ok(liftedLines[1]!.loss < liftedLines[0]!.loss, `lifted loss ${liftedLines[0]!.loss} → ${liftedLines[1]!.loss}`);
      const inspected = await runCli(['inspect', path.join(lifted, 'epoch-002')]);
      assert.match(inspected.stdout, /"loss":"lifted","sampler":"pk","pk":\{"p":4,"k":4\}/);

      // resuming with another loss is refused and changes nothing; --force continues
      const before = await hashTree(triplet);
      const other = await runCli([...common, '--out', triplet, '--loss', 'ce', '--epochs', '3', '--resume']);
      assert.equal(other.code, 4, other.stderr);
      assert.match(other.stderr, /differs from the one .* was started with \(loss, pk, sampler\)/);
      assert.equal(await hashTree(triplet), before);
      const forced = await runCli([...common, '--out', triplet, '--loss', 'ce', '--epochs', '3', '--resume', '--force']);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.stderr, /forced: continuing .* with changed settings \(loss, pk, sampler\)/);
      assert.equal((await epochsOf(triplet)).length, 3);
    });
  });

  it('bad losses, samplers and P×K are named before any training, and write nothing', async () => {
    await withTempDir(async (root) => {
      const data = path.join(root, 'data');
      await mkdir(data);
      // identities 0–2 with 6 images, identity 3 with 1
      await writeCounts(data, [6, 6, 6, 1]);
      const out = path.join(root, 'out');
      const base = ['--backend', 'wasm', 'train', '--data', data, '--format', 'idx', '--model', 'fmnist', '--input', '12x12x1', '--out', out, '--epochs', '1', '--batch', '4'];
      const cases: [string[], number, RegExp][] = [
        [['--loss', 'ce+tripplet'], 2, /--loss.*unknown loss "tripplet"; known losses: ce, cluster, center, contrastive, triplet-hard, .*, global/],
        [['--loss', '0*ce'], 2, /--loss.*weight "0" of ce must be a positive number/],
        [['--loss', 'ce+0.5*cluster'], 2, /--loss.*only pul run's retraining has them/],
        [['--pk', '16'], 2, /--pk '16': not P,K/],
        [['--pk', '16,1'], 2, /--pk '16,1': not P,K/],
        [['--sampler', 'smart', '--batch', '6'], 2, /--batch.*smart mining needs a batch size that is a multiple of 4/],
        [['--sampler', 'loss-guided'], 2, /--sampler.*loss-guided learns from each image's own loss term, which ce does not give; add a loss that does \(triplet-hard, triplet-soft, triplet-all, triplet-weighted, triplet-random\)/],
        // a loss that needs P×K batches on identities of one image: how many, and the option
        [['--loss', 'triplet-hard', '--pk', '2,2'], 3, /--loss.*1 of the 4 identities of .* have a single training image \(pid 3\); the loss triplet-hard with sampler pk needs P×K batches/],
        [['--loss', 'ce', '--sampler', 'pk', '--pk', '2,2'], 3, /--sampler.*1 of the 4 identities/],
      ];
      const help = await runCli(['train', '--help']);
      assert.match(help.stdout, /Losses \(--loss[\s\S]*\n {2}triplet-hard {5}triplet loss, batch-hard mining .*\[P×K\]\n/);
      for (const [flags, code, message] of cases) {
        const r = await runCli([...base, ...flags]);
        assert.equal(r.code, code, `${flags.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message, flags.join(' '));
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace');
      }
      // P×K larger than the identities (none of one image here)
      await writeCounts(data, [6, 6, 6]);
      const big = await runCli([...base, '--loss', 'npair', '--pk', '4,2']);
      assert.equal(big.code, 3, big.stderr);
      assert.match(big.stderr, /--pk.*P=4 identities with 2 images or more; the training set has 3/);
      await assert.rejects(readFile(path.join(out, 'metrics.jsonl')), 'a refused training wrote its output');
    });
  });
});

describe('stateful objectives and samplers resume exactly', () => {
  it('loss-guided sampling with triplet-hard, and ce+center: 1 epoch + --resume gives the weights of 2 epochs in one go', async () => {
    await withTempDir(async (root) => {
      const data = path.join(root, 'data');
      await mkdir(data);
      await writePulFixture(data);
      const common = ['--backend', 'wasm', 'train', '--data', data, '--format', 'idx', '--model', 'fmnist', '--input', '12x12x1', '--embedding-dim', '16', '--lr', '0.05', '--json'];
      for (const [name, flags] of [
        ['guided', ['--loss', 'triplet-hard', '--sampler', 'loss-guided', '--pk', '2,4']],
        ['center', ['--loss', 'ce+0.05*center', '--batch', '16']],
      ] as const) {
        const whole = path.join(root, `${name}-whole`);
        const split = path.join(root, `${name}-split`);
        const a = await runCli([...common, ...flags, '--out', whole, '--epochs', '2']);
        assert.equal(a.code, 0, a.stderr);
        const b = await runCli([...common, ...flags, '--out', split, '--epochs', '1']);
        assert.equal(b.code, 0, b.stderr);
        const c = await runCli([...common, ...flags, '--out', split, '--epochs', '2', '--resume']);
        assert.equal(c.code, 0, c.stderr);
        const weights = (dir: string) => readFile(path.join(dir, 'epoch-002', 'weights.bin'));
        assert.ok((await weights(whole)).equals(await weights(split)), `${name}: the resumed run's weights differ`);
        const meta = JSON.parse(await readFile(path.join(split, 'epoch-001', 'meta.json'), 'utf8')) as { optimizer: { weights: { name: string }[] } };
        const saved = meta.optimizer.weights.map((w) => w.name);
        assert.ok(saved.includes(name === 'guided' ? 'sampler/state' : 'objective/centres'), `${name}: ${saved.join(', ')}`);
      }
    });
  });
});

describe('training.loss (pul run)', () => {
  it('retrains with ce+triplet-hard: the loss in run.json, the round checkpoint and pul inspect; bad specs are config errors', async () => {
    await withTempDir(async (root) => {
      await writePulFixture(root);
      const config = fixtureConfig(root, path.join(root, 'runs'));
      const file = path.join(root, 'triplet.json');
      await writeFile(file, JSON.stringify({ ...config, training: { ...config.training, loss: 'ce+triplet-hard', pk: { p: 2, k: 4 } }, stop: { maxRounds: 1, minChange: 0 } }));
      const run = await runCli(['--backend', 'wasm', 'run', '--config', file, '--json']);
      assert.equal(run.code, 0, run.stderr);
      const runDir = path.join(root, 'runs', 'tiny');
      const state = JSON.parse(await readFile(path.join(runDir, 'run.json'), 'utf8')) as { config: { training: { loss: string } }; completed: { stage: string; summary: Record<string, unknown> }[] };
      assert.equal(state.config.training.loss, 'ce+triplet-hard');
      const train = state.completed.find((r) => r.stage === 'train')!.summary;
      assert.equal(train['lossSpec'], 'ce+triplet-hard');
      assert.ok(Number.isFinite(train['loss']) && (train['loss'] as number) > 0, `loss ${String(train['loss'])}`);
      const meta = JSON.parse(await readFile(path.join(runDir, 'round-01', 'checkpoint', 'meta.json'), 'utf8')) as { training: { loss: string; sampler: string } };
      assert.deepEqual([meta.training.loss, meta.training.sampler], ['ce+triplet-hard', 'pk']);
      const inspected = await runCli(['inspect', runDir]);
      assert.match(inspected.stdout, /retraining loss: ce\+triplet-hard, sampler pk 2×4/);

      for (const [training, message] of [
        [{ loss: 'ce+foo' }, /training\.loss[\s\S]*unknown loss "foo"/],
        [{ loss: 'ce+triplet-hard', clusterLossWeight: 0.5 }, /training\.clusterLossWeight 0\.5 disagree/],
        [{ loss: 'triplet-hard', pk: { p: 4, k: 2 } }, /training\.pk P=4 identities per batch, but clustering\.k=2/],
      ] as const) {
        const bad = path.join(root, 'bad.json');
        await writeFile(bad, JSON.stringify({ ...config, name: 'bad', training: { ...config.training, ...training } }));
        const r = await runCli(['--backend', 'wasm', 'run', '--config', bad]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, message);
      }
    });
  });
});
