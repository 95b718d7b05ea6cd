/**
 * The ownership rule through the real CLI: a command writes only into what it creates or owns, never
 * into an input, replaces only with --force, fails before any work on an unwritable --out, and a run
 * or training folder is worked on by one process at a time. Every refusal is checked by its message,
 * its exit code and a hash of the whole scratch tree before and after.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOCK_FILE, MODEL_PRESETS, Rng, buildModel, disposeModel, featureMatrix, parseConfig, saveCheckpoint, selectBackend, writeClusterFiles, writeFeatureFolder, writeLatest } from '../../src/index.js';
import { newRunState, saveRunState } from '../../src/pipeline/state.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { hashTree } from '../helpers/tree-hash.js';
import { fixtureConfig, writePulFixture } from '../pipeline/pul-fixture.js';
import { mkdtemp, rm } from 'node:fs/promises';

let root = '';
const at = (...p: string[]) => path.join(root, ...p);
const pul = (args: readonly string[], cwd?: string): Promise<CliResult> => runCli(['--backend', 'wasm', ...args], {}, cwd);
const TINY_TRAIN = ['--model', 'fmnist', '--input', '12x12x1', '--embedding-dim', '16', '--format', 'idx'];

/** Runs the command and checks it fails with `code` and `message`, with the scratch tree unchanged. */
async function refused(args: readonly string[], code: number, message: RegExp, cwd?: string): Promise<CliResult> {
  const before = await hashTree(root);
  const r = await pul(args, cwd);
  assert.equal(r.code, code, `pul ${args.join(' ')}: ${r.stderr}`);
  assert.match(r.stderr, message, `pul ${args.join(' ')}`);
  assert.doesNotMatch(r.stderr, /unexpected error/);
  assert.equal(await hashTree(root), before, `pul ${args.join(' ')} changed the scratch tree`);
  return r;
}

type Refusal = readonly [args: readonly string[], code: number, message: RegExp];

/** Several refusals at once (each spawns a CLI): all must fail as said, the scratch tree unchanged. */
async function allRefused(cases: readonly Refusal[]): Promise<void> {
  const before = await hashTree(root);
  const results = await Promise.all(cases.map(([args]) => pul(args)));
  results.forEach((r, i) => {
    const [args, code, message] = cases[i]!;
    assert.equal(r.code, code, `pul ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, `pul ${args.join(' ')}`);
    assert.doesNotMatch(r.stderr, /unexpected error/);
  });
  assert.equal(await hashTree(root), before, 'the scratch tree changed');
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

describe('output ownership (CLI)', () => {
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'pul-own-'));
    await mkdir(at('data'));
    await writePulFixture(at('data'));
    await selectBackend('wasm');
    const model = await buildModel({ ...MODEL_PRESETS.fmnist, input: { height: 12, width: 12, channels: 1 }, embeddingDim: 16, classes: 2 }, new Rng(1));
    await saveCheckpoint(at('run', 'epoch-001'), { model, normalization: 'unit', epoch: 1 });
    await writeLatest(at('run'), 'epoch-001');
    disposeModel(model);
    const rng = new Rng(2);
    const rows = 40;
    await writeFeatureFolder(at('feats'), { features: featureMatrix(rows, 4, Float32Array.from({ length: rows * 4 }, () => rng.normal())), index: Array.from({ length: rows }, (_, i) => ({ path: `${i}.png`, pid: i % 4, camid: i % 2 })) });
    await writeClusterFiles(at('clusters'), { k: 2, assignment: Int32Array.from({ length: rows }, (_, i) => i % 2), centroids: featureMatrix(2, 4, new Float32Array(8)) });
    await mkdir(at('taken'));
    await writeFile(at('taken', 'notes.txt'), 'not pul\'s');
    await writeFile(at('plain-file'), 'a file');
    await writeFile(at('tiny.json'), JSON.stringify(fixtureConfig(at('data'), at('runs'))));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('walks every command with an existing non-empty --out it does not own: a named error, nothing changed', async () => {
    const taken = /output\.exists.*taken.* already holds files that pul \w+( \w+)? did not write \(notes\.txt\); choose a new or empty folder/;
    await allRefused([
      [['extract', '--checkpoint', at('run'), '--data', at('data'), '--format', 'idx', '--out', at('taken')], 4, taken],
      [['cluster', '--features', at('feats'), '--k', '2', '--out', at('taken')], 4, taken],
      [['select', '--features', at('feats'), '--clusters', at('clusters'), '--lambda', '0.5', '--out', at('taken')], 4, taken],
      [['select', '--features', at('feats'), '--clusters', at('taken'), '--lambda', '0.5'], 4, taken], // default out: the --clusters folder
      [['train', '--data', at('data'), ...TINY_TRAIN, '--epochs', '1', '--out', at('taken')], 4, taken],
      [['datasets', 'synth', '--out', at('taken'), '--ids', '2', '--cams', '2', '--per-cam', '1', '--height', '16', '--width', '8'], 4, taken],
      [['datasets', 'synth', '--out', at('taken'), '--force'], 4, taken],
      [['run', '--config', at('tiny.json'), '--out', at('taken')], 4, /output\.exists.*out \(--out\).* already holds files that pul run did not write \(notes\.txt\)/],
      [['run', '--resume', at('taken')], 4, /taken holds no run\.json: not a pul run folder \(--resume\)/],
    ]);
    // the commands that write nothing leave the tree as it was when they succeed
    const readers = [['eval', '--checkpoint', at('run'), '--data', at('data'), '--format', 'idx'], ['inspect', at('run', 'epoch-001')], ['datasets', 'info', at('data'), '--format', 'idx'], ['info']];
    const before = await hashTree(root);
    for (const [i, r] of (await Promise.all(readers.map((args) => pul(args)))).entries()) assert.equal(r.code, 0, `pul ${readers[i]!.join(' ')}: ${r.stderr}`);
    assert.equal(await hashTree(root), before, 'a reading command changed the scratch tree');
  });

  it('extract never writes over its inputs, the current folder or a file (issue 14.1); it replaces its own output only with --force', async () => {
    const extract = ['extract', '--checkpoint', at('run'), '--data', at('data'), '--format', 'idx', '--split', 'query'];
    await allRefused([
      [[...extract, '--out', at('data'), '--force'], 4, /output\.isInput.*--out .*data is --data .*data, which pul extract reads/],
      [[...extract, '--out', at('run')], 4, /output\.isInput.*--out .*run is --checkpoint/],
      [[...extract, '--out', at('run', 'epoch-001', 'features')], 4, /lies inside --checkpoint/],
      [[...extract, '--out', at('plain-file'), '--force'], 4, /output\.exists.*plain-file is a file, not a folder; pul extract does not replace it/],
      [[...extract, '--out', at('feats')], 4, /holds the features output of an earlier pul; add --force to replace it/],
    ]);
    await refused([...extract, '--out', '.', '--force'], 4, /output\.isInput.*--out .* holds --data/, root);
    const ok = await pul([...extract, '--out', at('q')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((await readdir(at('q'))).sort(), ['.pul-output.json', 'features.npy', 'index.csv']);
    assert.equal((JSON.parse(await readFile(at('q', '.pul-output.json'), 'utf8')) as { command: string }).command, 'pul extract');
    await refused([...extract, '--out', at('q')], 4, /holds the features output of pul extract; add --force to replace it/);
    await refused(['cluster', '--features', at('feats'), '--k', '2', '--out', at('q'), '--force'], 4, /holds the features output of pul extract, not clusters/);
    const index = await readFile(at('q', 'index.csv'), 'utf8');
    const again = await pul([...extract, '--split', 'gallery', '--out', at('q'), '--force']);
    assert.equal(again.code, 0, again.stderr);
    assert.notEqual(await readFile(at('q', 'index.csv'), 'utf8'), index, '--force replaced the query features by the gallery ones');
    assert.ok(!(await readdir(root)).some((e) => e.startsWith('.q.tmp')), 'no temp folder left');
  });

  it('an --out below a file fails before any work, with a named error (issue 14.3)', async () => {
    const below = at('plain-file', 'out');
    const notWritable = /output\.notWritable.*plain-file is a file, not a folder/;
    await allRefused([
      [['cluster', '--features', at('feats'), '--k', '2', '--out', below], 4, notWritable],
      [['extract', '--checkpoint', at('run'), '--data', at('data'), '--format', 'idx', '--out', below], 4, notWritable],
    ]);
    const train = await refused(['train', '--data', at('data'), ...TINY_TRAIN, '--epochs', '1', '--out', below], 4, notWritable);
    assert.doesNotMatch(train.stderr, /epoch/, 'no epoch was trained');
    const run = await refused(['run', '--config', at('tiny.json'), '--out', below], 4, /cannot create .*out \(--out\)\): .*plain-file is a file, not a folder/);
    assert.doesNotMatch(run.stderr, /setup/);
  });

  it('pul run checks K, the model and --name before it writes anything (issues 14.5, 14.6, 14.10)', async () => {
    // the demo from another folder: K is checked against the demo set's size before it is generated
    const elsewhere = at('elsewhere');
    await mkdir(elsewhere);
    const k = await refused(['run', '--k', '1000000'], 2, /\(--k\): K=1000000 exceeds the \d+ rows of the target's training images \(datasets\/demo\/target\)/, elsewhere);
    assert.match(k.stderr, /exceeds the 426 rows/); // syntheticReidCounts of the demo's parameters
    assert.deepEqual(await readdir(elsewhere), []);
    await refused(['run', '--config', at('tiny.json'), '--out', at('runs', 'inner'), '--name', '..'], 2, /config\.invalid[^]*--name "\.\.": [^]*one folder name: not \. or \.\./);
    await refused(['run', '--config', at('tiny.json'), '--name', '.'], 2, /one folder name/);
    await refused(['run', '--config', at('tiny.json'), '--model', 'foo'], 2, /unknown model "foo"/);
    // a failure in the first stage leaves no run folder behind: the next run is tiny, not tiny-2
    await writeFile(at('broken.json'), JSON.stringify({ ...fixtureConfig(at('data'), at('runs')), model: { name: `layers:${at('nowhere')}`, featureLayer: 'pool', input: { height: 12, width: 12, channels: 1 } } }));
    const broken = await pul(['run', '--config', at('broken.json')]);
    assert.notEqual(broken.code, 0);
    assert.doesNotMatch(broken.stderr, /unexpected error/);
    assert.deepEqual(await readdir(at('runs')), ['.pul-output.json'], 'the failed run left its folder behind');
  });

  it('one process per run folder: a live lock is a named error, a dead process\'s lock is taken over (issue 14.10)', async () => {
    const runDir = at('runs', 'locked');
    const config = parseConfig(fixtureConfig(at('data'), at('runs')), 'test');
    await saveRunState(runDir, { ...newRunState(config, { setup: ['source', 'baseline'], round: ['extract', 'cluster', 'select', 'train', 'evaluate'], maxRounds: 2 }), finished: { reason: '2 rounds done' } });
    const host = os.hostname();
    await writeFile(path.join(runDir, LOCK_FILE), JSON.stringify({ pid: process.pid, host, started: 'now', command: 'pul run' }));
    await refused(['run', '--resume', runDir], 4, new RegExp(`state\\.locked.*locked is in use by pul run \\(PID ${process.pid} on `));
    // the same for pul train's folder
    await writeFile(at('run', LOCK_FILE), JSON.stringify({ pid: process.pid, host, started: 'now', command: 'pul train' }));
    await refused(['train', '--data', at('data'), ...TINY_TRAIN, '--classes', '0,1', '--out', at('run'), '--resume'], 4, /state\.locked.*run is in use by pul train/);
    await rm(at('run', LOCK_FILE));

    await writeFile(path.join(runDir, LOCK_FILE), JSON.stringify({ pid: await deadPid(), host, started: 'then', command: 'pul run' }));
    const resumed = await pul(['run', '--resume', runDir]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /run folder: .*locked/);
    assert.deepEqual(await readdir(runDir), ['run.json'], 'the stale lock was taken over, then released');
  });

  it('pul train --resume refuses another data set or batch size by name; --force continues (issue 14.2)', async () => {
    const out = at('trained');
    const first = await pul(['train', '--data', at('data'), ...TINY_TRAIN, '--classes', '0,1', '--epochs', '1', '--batch', '16', '--out', out]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual((await readdir(out)).sort(), ['.pul-output.json', 'epoch-001', 'latest.json', 'metrics.jsonl']);
    await refused(['train', '--data', at('data'), ...TINY_TRAIN, '--classes', '0,1,2', '--epochs', '2', '--batch', '8', '--out', out, '--resume'], 4,
      /state\.configChanged.*the training configuration differs from the one .*trained was started with \(batch, classes, dataset\.identities, dataset\.images\); resume with the same training configuration, or add --force/);
    await refused(['train', '--data', at('data'), ...TINY_TRAIN, '--classes', '0,1', '--epochs', '2', '--out', out], 4, /\(.*--resume\): .* holds a training run .*resume it, or choose another output folder/);
    const forced = await pul(['train', '--data', at('data'), ...TINY_TRAIN, '--classes', '0,1', '--epochs', '2', '--batch', '8', '--out', out, '--resume', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /continuing .*trained with changed settings \(batch\)/);
    const meta = JSON.parse(await readFile(path.join(out, 'epoch-002', 'meta.json'), 'utf8')) as { training: { batch: number; classes: number[]; dataset: { identities: number } } };
    assert.deepEqual([meta.training.batch, meta.training.classes, meta.training.dataset.identities], [8, [0, 1], 2]);
    assert.ok(!(await readdir(out)).includes(LOCK_FILE), 'the lock is released');
  });
});
