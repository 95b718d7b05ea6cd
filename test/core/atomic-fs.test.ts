import assert from 'node:assert/strict';
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { PulError, writeDirAtomic, writeFileAtomic } from '../../src/index.js';
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
