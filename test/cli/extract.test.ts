import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { readFeatureFolder } from '../../src/index.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { writeToyRun } from '../helpers/toy-run.js';

test('pul extract writes a feature folder, and pul eval --checkpoint equals evaluating the extracted folders', () =>
  withTempDir(async (dir) => {
    const { data, run } = await writeToyRun(dir);

    const q = path.join(dir, 'q');
    const g = path.join(dir, 'g');
    const ex = await runCli(['extract', '--checkpoint', run, '--data', data, '--format', 'folder', '--split', 'query', '--out', q]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stdout, /wrote 6 × 128 features/);
    assert.equal((await runCli(['extract', '--checkpoint', path.join(run, 'epoch-001'), '--data', data, '--format', 'folder', '--split', 'gallery', '--out', g])).code, 0);
    const json = await runCli(['extract', '--checkpoint', run, '--data', data, '--format', 'folder', '--split', 'query', '--out', path.join(dir, 'qj'), '--json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as Record<string, unknown>;
    // the default batch for an input of up to 64 × 64 values (extractBatchSize)
    assert.deepEqual({ ...report, seconds: 0 }, {
      out: path.join(dir, 'qj'), rows: 6, dim: 128, binary: false, data, split: 'query', checkpoint: path.join(run, 'epoch-001'), batch: 512, seconds: 0, backend: report['backend'],
    });
    assert.ok(typeof report['seconds'] === 'number' && report['seconds'] > 0);
    assert.match(String(report['backend']), /^(wasm|cpu|tfjs-node|tfjs-node-gpu)$/);
    const folder = await readFeatureFolder(q);
    assert.equal(folder.features.rows, 6);
    assert.ok(folder.index.every((r) => r.split === 'query' && r.camid === 1));

    const fromFolders = JSON.parse((await runCli(['eval', '--query', q, '--gallery', g, '--json'])).stdout) as { mAP: number; cmc: number[] };
    const direct = await runCli(['eval', '--checkpoint', run, '--data', data, '--format', 'folder', '--json']);
    assert.equal(direct.code, 0, direct.stderr);
    const fromCheckpoint = JSON.parse(direct.stdout) as { mAP: number; cmc: number[]; validQueries: number };
    assert.equal(fromCheckpoint.validQueries, 6);
    assert.equal(fromCheckpoint.mAP, fromFolders.mAP);
    assert.deepEqual(fromCheckpoint.cmc, fromFolders.cmc);
  }));

test('pul extract / eval --checkpoint: a folder that is no checkpoint, and mixed options, are clear errors', () =>
  withTempDir(async (dir) => {
    const ck = path.join(dir, 'ck');
    await mkdir(ck);
    const r = await runCli(['extract', '--checkpoint', ck, '--data', path.join(dir, 'data'), '--out', path.join(dir, 'o')]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /ck is neither a checkpoint \(meta\.json\) nor a run folder with latest\.json/);
    const mixed = await runCli(['eval', '--checkpoint', dir]);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /give either --query and --gallery \(feature folders\) or --checkpoint and --data/);
  }));
