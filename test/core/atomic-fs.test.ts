import assert from 'node:assert/strict';
import { promises } from 'node:fs';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { PulError } from '../../src/index.js';
import { writeDirAtomic, writeFileAtomic } from '../../src/core/atomic-fs.js';
import { withTempDir } from '../helpers/temp-dir.js';

test('writeFileAtomic replaces the file and leaves no temp file', () =>
  withTempDir(async (dir) => {
    const f = path.join(dir, 'a.json');
    await writeFileAtomic(f, 'one');
    await writeFileAtomic(f, 'two');
    assert.equal(await readFile(f, 'utf8'), 'two');
    assert.deepEqual(await readdir(dir), ['a.json']);
  }));

test('a failed write keeps the previous file intact', () =>
  withTempDir(async (dir) => {
    const f = path.join(dir, 'a.json');
    await writeFile(f, 'previous');
    await mkdir(path.join(dir, 'sub'));
    // Writing a file where a directory stands fails at rename; the directory and a.json survive.
    await assert.rejects(writeFileAtomic(path.join(dir, 'sub'), 'x'), (e: unknown) => e instanceof PulError && e.code === 'io.writeFailed');
    assert.equal(await readFile(f, 'utf8'), 'previous');
    assert.deepEqual((await readdir(dir)).sort(), ['a.json', 'sub']);
  }));

test('writeDirAtomic keeps the old directory when filling the new one fails', () =>
  withTempDir(async (dir) => {
    const target = path.join(dir, 'ck');
    await writeDirAtomic(target, async (tmp) => writeFile(path.join(tmp, 'w.bin'), 'v1'));
    await assert.rejects(
      writeDirAtomic(target, async (tmp) => {
        await writeFile(path.join(tmp, 'w.bin'), 'v2-partial');
        throw new Error('disk full');
      }),
      /disk full/,
    );
    assert.equal(await readFile(path.join(target, 'w.bin'), 'utf8'), 'v1');
    assert.deepEqual(await readdir(dir), ['ck']);
  }));

/** Runs `body` recording, in order, the path of every handle fsynced (through fs.promises, which atomic-fs calls). */
async function recordSyncs(body: () => Promise<void>): Promise<string[]> {
  const synced: string[] = [];
  const open = promises.open;
  promises.open = (async (file: string, ...rest: unknown[]) => {
    const handle = await (open as (...a: unknown[]) => Promise<promises.FileHandle>)(file, ...rest);
    const sync = handle.sync.bind(handle);
    handle.sync = async () => {
      synced.push(String(file));
      return sync();
    };
    return handle;
  }) as typeof promises.open;
  try {
    await body();
  } finally {
    promises.open = open;
  }
  return synced;
}

test('writeFileAtomic fsyncs the data, then the folder holding the renamed file', () =>
  withTempDir(async (dir) => {
    const f = path.join(dir, 'a.json');
    const synced = await recordSyncs(() => writeFileAtomic(f, 'one'));
    assert.equal(synced.length, 2, synced.join(', '));
    assert.match(path.basename(synced[0]!), /^\.a\.json\.tmp-/);
    assert.equal(synced[1], dir);
  }));

test('writeDirAtomic fsyncs every file and folder of the new tree, then the parent folder', () =>
  withTempDir(async (dir) => {
    const target = path.join(dir, 'ck');
    const synced = await recordSyncs(() =>
      writeDirAtomic(target, async (tmp) => {
        await writeFile(path.join(tmp, 'w.bin'), 'v1');
        await mkdir(path.join(tmp, 'sub'));
        await writeFile(path.join(tmp, 'sub', 'x.json'), '{}');
      }),
    );
    const tmp = path.dirname(synced.find((s) => s.endsWith('w.bin'))!);
    assert.match(path.basename(tmp), /^\.ck\.tmp-/);
    assert.deepEqual(new Set(synced), new Set([path.join(tmp, 'w.bin'), path.join(tmp, 'sub', 'x.json'), path.join(tmp, 'sub'), tmp, dir]));
    assert.equal(synced.at(-1), dir, 'the parent folder last, after the rename');
    assert.ok(synced.indexOf(path.join(tmp, 'sub', 'x.json')) < synced.indexOf(path.join(tmp, 'sub')), 'a file before its folder');
    assert.equal(await readFile(path.join(target, 'sub', 'x.json'), 'utf8'), '{}');
  }));
