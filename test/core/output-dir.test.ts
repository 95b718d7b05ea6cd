import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { LOCK_FILE, OUTPUT_MARKER, PulError, claimOutputDir, commitOutputDir, legacyFiles, lockDir, prepareOutput, readOutputMarker, type OutputRequest } from '../../src/index.js';
import { hashTree } from '../helpers/tree-hash.js';
import { withTempDir } from '../helpers/temp-dir.js';

const features: OutputRequest = { kind: 'features', command: 'pul extract', option: '--out', mode: 'replace', legacy: legacyFiles('features', ['features.npy', 'index.csv']) };
const isPul = (code: string, message: RegExp) => (e: unknown) => e instanceof PulError && e.code === code && e.exitCode === 4 && message.test(e.message);

test('prepareOutput: a new or empty folder is free; a file, a foreign folder, another kind or an owned one without --force are refused; nothing is touched', () =>
  withTempDir(async (dir) => {
    assert.equal((await prepareOutput(path.join(dir, 'new', 'deeper'), features)).state, 'new');
    await mkdir(path.join(dir, 'empty'));
    assert.equal((await prepareOutput(path.join(dir, 'empty'), features)).state, 'empty');
    await writeFile(path.join(dir, 'file'), 'x');
    await mkdir(path.join(dir, 'foreign'));
    await writeFile(path.join(dir, 'foreign', 'notes.txt'), 'mine');
    const before = await hashTree(dir);
    await assert.rejects(prepareOutput(path.join(dir, 'file'), features), isPul('output.exists', /file is a file, not a folder/));
    await assert.rejects(prepareOutput(path.join(dir, 'foreign'), { ...features, force: true }), isPul('output.exists', /already holds files that pul extract did not write \(notes\.txt\)/));
    await assert.rejects(prepareOutput(path.join(dir, 'file', 'sub'), features), isPul('output.notWritable', /file is a file, not a folder/));
    // an empty current folder would be swapped away from under the process
    const cwd = process.cwd();
    process.chdir(path.join(dir, 'empty'));
    try {
      await assert.rejects(prepareOutput('.', features), isPul('output.isInput', /--out .*empty is or holds the current folder/));
      await assert.rejects(prepareOutput('..', { ...features, force: true }), isPul('output.isInput', /is or holds the current folder/));
    } finally {
      process.chdir(cwd);
    }
    assert.equal(await hashTree(dir), before);

    const out = await prepareOutput(path.join(dir, 'feats'), features);
    await commitOutputDir(out, (tmp) => writeFile(path.join(tmp, 'features.npy'), 'v1'));
    assert.deepEqual((await readdir(path.join(dir, 'feats'))).sort(), [OUTPUT_MARKER, 'features.npy']);
    assert.equal((await readOutputMarker(path.join(dir, 'feats')))?.kind, 'features');
    await assert.rejects(prepareOutput(path.join(dir, 'feats'), features), isPul('output.exists', /holds the features output of pul extract; add --force to replace it/));
    await assert.rejects(prepareOutput(path.join(dir, 'feats'), { ...features, kind: 'clusters', command: 'pul cluster', force: true }), isPul('output.exists', /holds the features output of pul extract, not clusters/));
    const again = await prepareOutput(path.join(dir, 'feats'), { ...features, force: true });
    assert.equal(again.state, 'owned');
    await commitOutputDir(again, (tmp) => writeFile(path.join(tmp, 'features.npy'), 'v2'));
    assert.equal(await readFile(path.join(dir, 'feats', 'features.npy'), 'utf8'), 'v2');
    // a failed replacement keeps the previous output
    await assert.rejects(commitOutputDir(again, () => Promise.reject(new Error('disk on fire'))), /disk on fire/);
    assert.equal(await readFile(path.join(dir, 'feats', 'features.npy'), 'utf8'), 'v2');
    assert.deepEqual((await readdir(dir)).sort(), ['empty', 'feats', 'file', 'foreign']);
  }));

test('prepareOutput: an earlier pul\'s output (no marker) is recognised by its files, replaced only with --force; a growing command adopts it', () =>
  withTempDir(async (dir) => {
    const old = path.join(dir, 'old');
    await mkdir(old);
    await writeFile(path.join(old, 'features.npy'), 'x');
    await writeFile(path.join(old, 'index.csv'), 'y');
    await assert.rejects(prepareOutput(old, features), isPul('output.exists', /output of an earlier pul; add --force/));
    assert.equal((await prepareOutput(old, { ...features, force: true })).state, 'legacy');
    await writeFile(path.join(old, 'notes.txt'), 'mine');
    await assert.rejects(prepareOutput(old, { ...features, force: true }), isPul('output.exists', /did not write \(features\.npy, index\.csv, notes\.txt\)/));

    const grow: OutputRequest = { kind: 'clusters', command: 'pul select', option: '--out', mode: 'grow', legacy: legacyFiles('clusters', ['assignments.csv', 'centroids.npy']) };
    const clusters = path.join(dir, 'clusters');
    await mkdir(clusters);
    await writeFile(path.join(clusters, 'assignments.csv'), 'a');
    await writeFile(path.join(clusters, 'centroids.npy'), 'c');
    const adopted = await prepareOutput(clusters, grow);
    assert.equal(adopted.state, 'legacy');
    await claimOutputDir(adopted);
    assert.equal((await readOutputMarker(clusters))?.kind, 'clusters');
    assert.equal((await prepareOutput(clusters, grow)).state, 'owned');
  }));

test('prepareOutput: an output that is, holds or lies inside an input is refused, through symlinks too', () =>
  withTempDir(async (dir) => {
    const data = path.join(dir, 'data');
    await mkdir(path.join(data, 'sub'), { recursive: true });
    await symlink(data, path.join(dir, 'link'));
    const inputs = [{ path: data, option: '--data' }];
    await assert.rejects(prepareOutput(data, { ...features, inputs, force: true }), isPul('output.isInput', /--out .*data is --data/));
    await assert.rejects(prepareOutput(path.join(dir, 'link', 'new'), { ...features, inputs }), isPul('output.isInput', /lies inside --data/));
    await assert.rejects(prepareOutput(dir, { ...features, inputs, force: true }), isPul('output.isInput', /holds --data/));
    assert.equal((await prepareOutput(path.join(dir, 'apart'), { ...features, inputs })).state, 'new');
    // a growing command that writes one file checks that file: selection.csv may go beside the clusters it reads, not into the features
    const clusters = path.join(dir, 'clusters');
    await claimOutputDir(await prepareOutput(clusters, { ...features, kind: 'clusters', command: 'pul cluster' }));
    await writeFile(path.join(clusters, 'assignments.csv'), 'a');
    const select = (out: string): OutputRequest => ({
      kind: 'selection', command: 'pul select', option: '--out', mode: 'grow', alsoInto: ['clusters'], writes: [path.join(out, 'selection.csv')],
      inputs: [{ path: data, option: '--features' }, { path: path.join(clusters, 'assignments.csv'), option: '--clusters' }],
    });
    assert.equal((await prepareOutput(clusters, select(clusters))).state, 'owned');
    await assert.rejects(prepareOutput(data, select(data)), isPul('output.isInput', /lies inside --features/));
  }));

test('prepareOutput: a read-only folder fails before any work', { skip: process.getuid?.() === 0 && 'root writes into read-only folders' }, () =>
  withTempDir(async (dir) => {
    const { chmod } = await import('node:fs/promises');
    const ro = path.join(dir, 'ro');
    await mkdir(ro);
    await chmod(ro, 0o555);
    try {
      await assert.rejects(prepareOutput(path.join(ro, 'out'), features), isPul('output.notWritable', /does not accept new files \(EACCES\)/));
    } finally {
      await chmod(ro, 0o755);
    }
  }));

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

test('lockDir: one holder at a time; a live holder is named, a dead one\'s lock is taken over, release removes it', () =>
  withTempDir(async (dir) => {
    const lock = await lockDir(dir, 'pul run', '--resume');
    const info = JSON.parse(await readFile(path.join(dir, LOCK_FILE), 'utf8')) as { pid: number; command: string };
    assert.equal(info.pid, process.pid);
    await assert.rejects(lockDir(dir, 'pul run', '--resume'), (e: unknown) => e instanceof PulError && e.code === 'state.locked' && e.exitCode === 4 && new RegExp(`in use by pul run \\(PID ${process.pid} on `).test(e.message));
    await lock.release();
    assert.deepEqual(await readdir(dir), []);

    const stale = await deadPid();
    await writeFile(path.join(dir, LOCK_FILE), JSON.stringify({ pid: stale, host: (await import('node:os')).hostname(), started: 'then', command: 'pul train' }));
    const taken = await lockDir(dir, 'pul train', '--out');
    assert.equal((JSON.parse(await readFile(path.join(dir, LOCK_FILE), 'utf8')) as { pid: number }).pid, process.pid);
    await taken.release();
    assert.deepEqual(await readdir(dir), []);
  }));
