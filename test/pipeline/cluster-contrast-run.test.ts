/**
 * `pul run --method cluster-contrast` end to end on the tiny IDX set of the PUL tests: the run folder
 * (per-epoch rounds with −1 noise rows, selection, checkpoint, metrics), no tensor leak across epochs,
 * inspect and eval on its checkpoints, a SIGKILL in epoch 1 then --resume giving the bytes of an
 * uninterrupted run, and bad input as named errors.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadOptimizerState, parseConfig, readCheckpoint, runPul, selectBackend, silentProgress, tf, type PipelineConfigInput, type PulRunSummary } from '../../src/index.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { fixtureConfig, writePulFixture } from './pul-fixture.js';

type RunJson = PulRunSummary & { runDir: string };

/** The PUL fixture run as Cluster-Contrast: 2 epochs, small P×K and neighbourhoods for 80 target images. */
function contrastConfig(root: string): PipelineConfigInput {
  const { clustering: _k, stop: _stop, ...base } = fixtureConfig(root, path.join(root, 'runs'));
  return {
    ...base,
    method: 'cluster-contrast',
    clusterContrast: { epochs: 2, eps: 0.5, minPts: 4, k1: 10, k2: 3 },
    training: { augment: 'none', optimizer: { type: 'adam', lr: 0.001, weightDecay: 0.0005 }, pk: { p: 2, k: 8 } },
  };
}

const figuresOf = (s: RunJson) => ({ baseline: s.baseline, rounds: s.rounds.map(({ seconds: _seconds, ...rest }) => rest), final: s.final });
const sha = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

describe('pul run --method cluster-contrast', () => {
  it('per-epoch rounds with every output, real figures, no tensor leak; eval and inspect on its checkpoints', async () => {
    await selectBackend('wasm');
    await withTempDir(async (root) => {
      await writePulFixture(root);
      const config = parseConfig(contrastConfig(root), 'test');
      const before = tf.memory().numTensors;
      const { runDir, state, summary } = await runPul({ config, progress: silentProgress });
      assert.equal(tf.memory().numTensors, before, 'tensors left behind across the epochs');
      assert.equal(state.finished?.reason, '2 rounds done');
      assert.equal(summary.method, 'cluster-contrast');
      assert.equal(summary.loss, 'cluster-memory');
      assert.equal(summary.rounds.length, 2);
      for (const r of summary.rounds) {
        assert.ok(r.clusters !== undefined && r.clusters >= 2, `clusters ${r.clusters}`);
        assert.ok(r.selected !== undefined && r.selected > 0 && r.selected <= 80 && r.of === 80);
        assert.ok(r.mAP !== undefined && r.mAP > 0.5, `epoch ${r.round} mAP ${r.mAP}`);
      }
      for (const round of ['round-01', 'round-02']) {
        assert.deepEqual((await readdir(path.join(runDir, round))).sort(), ['checkpoint', 'clusters', 'features', 'metrics.json', 'selection.csv', 'train-epochs.jsonl']);
        // one line per training epoch of this round (pul report's loss curve)
        const epochLog = (await readFile(path.join(runDir, round, 'train-epochs.jsonl'), 'utf8')).trim().split('\n');
        assert.ok(epochLog.length >= 1 && epochLog.every((line) => Number.isFinite((JSON.parse(line) as { loss: number }).loss)), `${round}: ${epochLog.length} epoch lines`);
        const rows = (await readFile(path.join(runDir, round, 'clusters', 'assignments.csv'), 'utf8')).trim().split('\n').slice(1);
        const noise = rows.filter((l) => l.split(',')[1] === '-1').length;
        const record = state.completed.find((c) => c.round === Number(round.slice(-2)) && c.stage === 'cluster')!;
        assert.equal(noise, record.summary['noise'], 'noise rows of assignments.csv');
        const selected = (await readFile(path.join(runDir, round, 'selection.csv'), 'utf8')).trim().split('\n').length - 1;
        assert.equal(selected, 80 - noise, 'the selection is every non-noise row');
        // an epoch draws as many P×K batches (2×8) as hold its clustered images once
        const train = state.completed.find((c) => c.round === Number(round.slice(-2)) && c.stage === 'train')!;
        assert.equal(train.summary['steps'], Math.ceil(selected / 16), `${round}: steps of ${selected} clustered images`);
      }
      const meta = JSON.parse(await readFile(path.join(runDir, 'round-02', 'checkpoint', 'meta.json'), 'utf8')) as { state: { method: string; clusters: number }; training: { temperature: number; momentum: number; hard: boolean } };
      assert.equal(meta.state.method, 'cluster-contrast');
      assert.deepEqual([meta.training.temperature, meta.training.momentum, meta.training.hard], [0.05, 0.1, true]);
      const evaluated = await runCli(['eval', '--checkpoint', path.join(runDir, 'round-02', 'checkpoint'), '--data', root, '--format', 'idx', '--classes', '2-3', '--json']);
      assert.equal(evaluated.code, 0, evaluated.stderr);
      assert.ok(Math.abs((JSON.parse(evaluated.stdout) as { mAP: number }).mAP - summary.final!.mAP) < 1e-6, 'pul eval measures the figure the run reported');
      const inspected = await runCli(['inspect', runDir]);
      assert.equal(inspected.code, 0, inspected.stderr);
      assert.match(inspected.stdout, /cluster-contrast: 2 epochs, DBSCAN eps 0\.5, minPts 4, k1 10, k2 3; memory τ 0\.05, momentum 0\.1 \(hard\)/);
      assert.match(inspected.stdout, /Cluster-Contrast (gained|lost) /);
      const checkpoint = await runCli(['inspect', path.join(runDir, 'round-01', 'checkpoint')]);
      assert.equal(checkpoint.code, 0, checkpoint.stderr);
    });
  });

  it('SIGKILL after epoch 1 trained, then --resume: the figures and weights of an uninterrupted run; bad input named', async () => {
    await withTempDir(async (root) => {
      await writePulFixture(root);
      const config = path.join(root, 'cc.json');
      // with the batch-norm refresh before each extraction: it too must resume to the same bytes
      const refreshed = contrastConfig(root);
      // and a fixed number of steps per epoch (Dai et al.'s itersPerEpoch), one Adam across the epochs (keepOptimizer)
      await writeFile(config, JSON.stringify({ ...refreshed, clusterContrast: { ...refreshed.clusterContrast, refreshBatchNorm: true, itersPerEpoch: 3, keepOptimizer: true } }));
      const run = (name: string, env: Record<string, string> = {}, ...args: string[]) => runCli(['--backend', 'wasm', 'run', '--config', config, '--name', name, '--json', ...args], env);
      const reference = await run('reference');
      assert.equal(reference.code, 0, reference.stderr);
      assert.match(reference.stderr, /batch-norm statistics of [1-9]\d* layer\(s\) re-estimated on 80 target images/);
      const killed = await run('killed', { PUL_FAULT: 'train:round-1:epoch-1' });
      assert.equal(killed.code, null, `the process should have died (${killed.stderr.slice(-300)})`);
      const runDir = path.join(root, 'runs', 'killed');
      const trained = (JSON.parse(await readFile(path.join(root, 'runs', 'reference', 'run.json'), 'utf8')) as { completed: { stage: string; summary: { steps?: number } }[] }).completed.filter((r) => r.stage === 'train');
      assert.deepEqual(trained.map((r) => r.summary.steps), [3, 3]);
      // Adam's step count goes on from epoch to epoch: 3 after epoch 1, 6 after epoch 2
      for (const [round, steps] of [['round-01', 3], ['round-02', 6]] as const) {
        const saved = await loadOptimizerState(await readCheckpoint(path.join(root, 'runs', 'reference', round, 'checkpoint')));
        assert.ok(saved !== null, `${round}: no optimiser state in the checkpoint`);
        const iter = saved.find((n) => n.name === 'iter');
        assert.equal(iter?.tensor.dataSync()[0], steps, `${round}: Adam iterations`);
        tf.dispose(saved.map((n) => n.tensor));
      }
      const resumed = await runCli(['--backend', 'wasm', 'run', '--resume', runDir, '--json']);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /resuming/);
      assert.deepEqual(figuresOf(JSON.parse(resumed.stdout) as RunJson), figuresOf(JSON.parse(reference.stdout) as RunJson));
      for (const file of ['round-02/checkpoint/weights.bin', 'round-02/clusters/assignments.csv', 'round-02/selection.csv']) {
        assert.equal(await sha(path.join(runDir, file)), await sha(path.join(root, 'runs', 'reference', file)), `${file} differs from the uninterrupted run's`);
      }
      // bad input: each a named error, exit 2, no run folder made
      const bad = async (args: string[], contents: PipelineConfigInput | null, message: RegExp) => {
        if (contents !== null) await writeFile(config, JSON.stringify(contents));
        const r = await run('bad', {}, ...args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, /unexpected error/);
      };
      const cc = contrastConfig(root);
      await bad(['--method', 'dbscan'], null, /--method 'dbscan': not one of pul, cluster-contrast/);
      await bad([], { ...cc, clusterContrast: { temperature: 0 } }, /clusterContrast\.temperature/);
      await bad([], { ...cc, clusterContrast: { momentum: 1.5 } }, /clusterContrast\.momentum/);
      await bad([], { ...cc, clusterContrast: { k1: 5, k2: 6 } }, /clusterContrast\.k2/);
      await bad([], { ...cc, clusterContrast: { itersPerEpoch: 0 } }, /clusterContrast\.itersPerEpoch/);
      await bad([], { ...cc, clusterContrast: { refreshBatchNorm: 'yes' } } as unknown as PipelineConfigInput, /clusterContrast\.refreshBatchNorm/);
      await bad([], { ...cc, method: 'pul' }, /clustering\.k/);
      await bad([], { ...cc, method: 'kmeans' } as unknown as PipelineConfigInput, /method/);
      assert.deepEqual((await readdir(path.join(root, 'runs'))).filter((f) => !f.startsWith('.')).sort(), ['killed', 'reference']);
      // DBSCAN finding fewer than 2 clusters (no point with 45 neighbours within a tiny eps) is a named stop, exit 3; the finished stages stay
      await writeFile(config, JSON.stringify({ ...cc, clusterContrast: { ...cc.clusterContrast, eps: 0.01, minPts: 45 } }));
      const few = await run('few');
      assert.equal(few.code, 3, few.stderr);
      assert.match(few.stderr, /clustering\.tooFew.*DBSCAN found 0 clusters.*raise eps/);
      const state = JSON.parse(await readFile(path.join(root, 'runs', 'few', 'run.json'), 'utf8')) as { completed: { stage: string }[] };
      assert.deepEqual(state.completed.map((r) => r.stage), ['source', 'baseline', 'extract']);
    });
  });
});
