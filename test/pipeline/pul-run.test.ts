/**
 * The PUL pipeline end to end on a tiny IDX set: outputs and figures of a run, no tensor leak across
 * rounds, crash (SIGKILL during training and during clustering) and Ctrl-C followed by --resume
 * reaching exactly the figures of an uninterrupted run, semi mode, and every bad input named.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildModel, disposeModel, fileIOHandler, MODEL_PRESETS, parseConfig, Rng, runPul, saveCheckpoint, selectBackend, silentProgress, tf, type PulRunSummary } from '../../src/index.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { fixtureConfig, writePulFixture } from './pul-fixture.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

type RunJson = PulRunSummary & { runDir: string };

const figuresOf = (s: RunJson) => ({ baseline: s.baseline, rounds: s.rounds.map(({ seconds: _seconds, ...rest }) => rest), final: s.final });

describe('pul run (library)', () => {
  it('source → baseline → 2 rounds: every output, real figures, latest.json, no tensor leak', async () => {
    await selectBackend('wasm');
    await withTempDir(async (root) => {
      await writePulFixture(root);
      const config = parseConfig(fixtureConfig(root, path.join(root, 'runs')), 'test');
      const before = tf.memory().numTensors;
      const { runDir, state, summary } = await runPul({ config, progress: silentProgress });
      assert.equal(tf.memory().numTensors, before, 'tensors left behind by the run');
      assert.equal(runDir, path.join(root, 'runs', 'tiny'));
      assert.equal(state.finished?.reason, '2 rounds done');
      assert.ok(summary.baseline !== null);
      assert.equal(summary.rounds.length, 2);
      for (const r of summary.rounds) {
        assert.equal(r.clusters, 2);
        assert.equal(r.of, 80);
        assert.ok(r.selected !== undefined && r.selected >= 40 && r.selected <= 80, `selected ${r.selected}`);
        assert.ok(r.precision !== undefined && r.precision > 0.9, `precision ${r.precision}`);
        assert.ok(r.mAP !== undefined && r.mAP > 0.9, `round ${r.round} mAP ${r.mAP}`);
      }
      assert.equal(summary.final?.round, 2);
      assert.equal(summary.gain, summary.final.mAP - summary.baseline.mAP);
      // the figures are those of the saved models, measured again by the separate `pul eval` path
      // (its own loading, extraction and ranking): a pipeline that evaluated the wrong model, or
      // reported made-up figures, fails here
      for (const [checkpoint, mAP] of [
        ['source/checkpoint', summary.baseline.mAP],
        ['round-02/checkpoint', summary.final.mAP],
      ] as const) {
        const r = await runCli(['eval', '--checkpoint', path.join(runDir, checkpoint), '--data', root, '--format', 'idx', '--classes', '2-3', '--json']);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(Math.abs((JSON.parse(r.stdout) as { mAP: number }).mAP - mAP) < 1e-6, `${checkpoint}: pul eval ${r.stdout.slice(0, 80)} vs the run's ${mAP}`);
      }
      for (const round of ['round-01', 'round-02']) {
        const files = await readdir(path.join(runDir, round));
        assert.deepEqual(files.sort(), ['checkpoint', 'clusters', 'features', 'metrics.json', 'selection.csv', 'train-epochs.jsonl']);
      }
      assert.equal((JSON.parse(await readFile(path.join(runDir, 'latest.json'), 'utf8')) as { checkpoint: string }).checkpoint, 'round-02/checkpoint');
      const meta = JSON.parse(await readFile(path.join(runDir, 'round-02', 'checkpoint', 'meta.json'), 'utf8')) as { state: { round: number; lambda: number; metrics: { mAP: number } }; model: { classes: number } };
      assert.equal(meta.state.round, 2);
      assert.equal(meta.state.lambda, 0.85);
      assert.equal(meta.state.metrics.mAP, summary.rounds[1]!.mAP);
      assert.equal(meta.model.classes, 2);
      const log = (await readFile(path.join(runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n');
      assert.equal(log.length, 12); // source, baseline, 2 × 5 stages
      const selection = (await readFile(path.join(runDir, 'round-01', 'selection.csv'), 'utf8')).trim().split('\n');
      assert.equal(selection[0], 'row,label,similarity,path');
      assert.equal(selection.length - 1, summary.rounds[0]!.selected);
      const plain = await tf.loadLayersModel(fileIOHandler(path.join(runDir, 'round-02', 'checkpoint')));
      assert.deepEqual(plain.outputs.map((o) => o.shape), [[null, 16], [null, 2]]);
      plain.dispose();
    });
  });

  it('semi mode: labelled identities keep their classes, k-means finds K − labelled clusters', async () => {
    await selectBackend('wasm');
    await withTempDir(async (root) => {
      await writePulFixture(root);
      const base = fixtureConfig(root, path.join(root, 'runs'));
      const config = parseConfig({ ...base, mode: 'semi', data: { ...base.data, labeled: { path: root, format: 'idx', classes: [1] } }, clustering: { k: 3, restarts: 1 }, stop: { maxRounds: 1 } }, 'test');
      const { runDir, summary } = await runPul({ config, progress: silentProgress });
      assert.equal(summary.rounds[0]!.clusters, 2);
      const meta = JSON.parse(await readFile(path.join(runDir, 'round-01', 'checkpoint', 'meta.json'), 'utf8')) as { state: { k: number; labeled: number }; model: { classes: number } };
      assert.equal(meta.model.classes, 3);
      assert.equal(meta.state.labeled, 40);
    });
  });
});

describe('pul run (CLI): crash, interrupt, resume, bad input', () => {
  it('SIGKILL during training and during clustering, a full disk while saving a round, then --resume: the same figures as an uninterrupted run', async () => {
    await withTempDir(async (root) => {
      await writePulFixture(root);
      const config = path.join(root, 'tiny.json');
      await writeFile(config, JSON.stringify(fixtureConfig(root, path.join(root, 'runs'))));
      const run = (name: string, env: Record<string, string> = {}) => runCli(['--backend', 'wasm', 'run', '--config', config, '--name', name, '--json'], env);
      const reference = await run('reference');
      assert.equal(reference.code, 0, reference.stderr);
      const expected = figuresOf(JSON.parse(reference.stdout) as RunJson);
      for (const [name, fault, leftover] of [['killed-in-training', 'train:round-1:epoch-1', 'round-01/training/epoch-001'], ['killed-in-clustering', 'cluster:round-2', 'round-01/checkpoint']] as const) {
        const killed = await run(name, { PUL_FAULT: fault });
        assert.equal(killed.code, null, `${fault}: the process should have died (${killed.stderr.slice(-300)})`);
        const runDir = path.join(root, 'runs', name);
        await readFile(path.join(runDir, leftover, 'meta.json')); // the work done before the kill is on disk
        const resumed = await runCli(['--backend', 'wasm', 'run', '--resume', runDir, '--json']);
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.match(resumed.stderr, /resuming/);
        assert.deepEqual(figuresOf(JSON.parse(resumed.stdout) as RunJson), expected, `${fault}: resumed figures differ`);
      }
      // disk full while round 2's checkpoint is saved: a clear error, round 1's checkpoint intact, no temp left, --resume finishes
      const full = await run('disk-full', { PUL_FAULT: 'enospc:round-02/checkpoint' });
      const runDir = path.join(root, 'runs', 'disk-full');
      assert.equal(full.code, 4, full.stderr);
      assert.match(full.stderr, /\[io\.writeFailed\].*round-02.checkpoint.*no space left on device.*pul run --resume /);
      const previous = await tf.loadLayersModel(fileIOHandler(path.join(runDir, 'round-01', 'checkpoint')));
      previous.dispose();
      assert.deepEqual((await readdir(path.join(runDir, 'round-02'))).filter((f) => f.includes('tmp')), []);
      const state = JSON.parse(await readFile(path.join(runDir, 'run.json'), 'utf8')) as { completed: { round: number; stage: string }[] };
      const done = state.completed.map((c) => `${c.round}:${c.stage}`);
      assert.ok(done.includes('2:select') && !done.includes('2:train'), done.join(' '));
      const resumed = await runCli(['--backend', 'wasm', 'run', '--resume', runDir, '--json']);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual(figuresOf(JSON.parse(resumed.stdout) as RunJson), expected, 'disk full: resumed figures differ');
    });
  });

  it('Ctrl-C stops at a batch boundary (exit 130, how to resume), --resume finishes; a changed config is refused', async () => {
    await withTempDir(async (root) => {
      await writePulFixture(root);
      const config = path.join(root, 'tiny.json');
      await writeFile(config, JSON.stringify({ ...fixtureConfig(root, path.join(root, 'runs')), stop: { maxRounds: 1, minChange: 0 } }));
      const child = spawn(process.execPath, [MAIN, '--backend', 'wasm', 'run', '--config', config]);
      let stderr = '';
      let sent = false;
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (!sent && /source epoch 1\/2/.test(stderr)) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 130, stderr);
      const runDir = path.join(root, 'runs', 'tiny');
      assert.match(stderr, new RegExp(`interrupted.*pul run --resume ${runDir.replace(/[/\\]/g, '.')}`));
      const changed = await runCli(['--backend', 'wasm', 'run', '--resume', runDir, '--k', '3']);
      assert.equal(changed.code, 4);
      assert.match(changed.stderr, /configuration differs .*clustering\.k.*--force/);
      const resumed = await runCli(['--backend', 'wasm', 'run', '--resume', runDir]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /continuing source after epoch 1/);
      assert.match(resumed.stdout, /PUL (gained|lost) [\d.]+ mAP points over the source model/);
      const inspected = await runCli(['inspect', runDir]);
      assert.equal(inspected.code, 0, inspected.stderr);
      assert.match(inspected.stdout, /finished: 1 rounds done/);
      assert.match(inspected.stdout, /\| 1 +\| 0\.85 \| 2 +\| \d+ \/ 80 +\|/);
    });
  });

  it('bad inputs: each a clear message naming the option or file, a non-zero exit, existing runs untouched', async () => {
    await withTempDir(async (root) => {
      await writePulFixture(root);
      const config = path.join(root, 'tiny.json');
      const cfg = fixtureConfig(root, path.join(root, 'runs'));
      await writeFile(config, JSON.stringify(cfg));
      const pul = (...args: string[]) => runCli(['--backend', 'wasm', 'run', '--config', config, ...args]);
      const cases: [string[], number, RegExp][] = [
        [['--k', '500'], 2, /\(--k\): K=500 exceeds the 80 rows of the target's training images/],
        [['--target', path.join(root, 'nowhere')], 3, /data\.target .*nowhere/],
        [['--lambda', '1.5'], 2, /\(--lambda\): invalid option:\n {2}--lambda 1\.5: /],
        [['--semi'], 2, /tiny\.json, data\.labeled\): mode 'semi' needs data\.labeled/],
        [['--model', 'vgg'], 2, /unknown model "vgg"/],
      ];
      for (const [args, code, message] of cases) {
        const r = await pul(...args);
        assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.doesNotMatch(r.stderr, /unexpected error/);
      }
      // a source checkpoint of another input size
      await selectBackend('cpu');
      const other = await buildModel({ ...MODEL_PRESETS.fmnist, classes: 2 }, new Rng(1));
      await saveCheckpoint(path.join(root, 'other'), { model: other, normalization: 'unit', epoch: 1 });
      disposeModel(other);
      const mismatch = await pul('--source-checkpoint', path.join(root, 'other'));
      assert.equal(mismatch.code, 4);
      assert.match(mismatch.stderr, /holds a fmnist net for 28×28×1 images, but the run is configured for fmnist at 12×12×1/);
      // nothing reliable at λ = 1 with a minimum of 10 selected
      await writeFile(config, JSON.stringify({ ...cfg, selection: { lambda: { schedule: 'constant', value: 1 }, scope: 'own', anchor: 'centroid', minSelected: 10 } }));
      const empty = await pul('--name', 'empty');
      assert.equal(empty.code, 3, empty.stderr);
      assert.match(empty.stderr, /selection\.tooSmall.*only \d+ of 80 samples are reliable at λ=1/);
      // a failed run keeps what it finished: the source model and baseline are there to resume from
      const state = JSON.parse(await readFile(path.join(root, 'runs', 'empty', 'run.json'), 'utf8')) as { completed: { stage: string }[] };
      assert.deepEqual(state.completed.map((r) => r.stage), ['source', 'baseline', 'extract', 'cluster']);
    });
  });
});
