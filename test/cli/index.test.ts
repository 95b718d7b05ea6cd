import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { GalleryIndex, Rng, featureMatrix, openDatabase, readFeatureFolder, writeFeatureFolder, type IndexRow } from '../../src/index.js';
import { runCli } from '../helpers/run-cli.js';
import { hashTree } from '../helpers/tree-hash.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { writeToyRun } from '../helpers/toy-run.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const json = <T>(text: string): T => JSON.parse(text) as T;

test('pul extract --shard 1/2 and 2/2 merge in pul index; re-running adds nothing; pul search and pul eval --db read the index', () =>
  withTempDir(async (dir) => {
    const { data, run } = await writeToyRun(dir);
    const ex = (args: string[]) => runCli(['extract', '--checkpoint', run, '--data', data, '--format', 'folder', '--backend', 'wasm', ...args]);
    const shards = [path.join(dir, 's1'), path.join(dir, 's2')];
    const results = await Promise.all([ex(['--split', 'gallery', '--shard', '1/2', '--out', shards[0]!]), ex(['--split', 'gallery', '--shard', '2/2', '--out', shards[1]!]), ex(['--split', 'query', '--out', path.join(dir, 'q')])]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.match(results[0].stdout, /wrote 3 × 128 features/);
    assert.equal((await ex(['--split', 'gallery', '--shard', '3/2', '--out', path.join(dir, 'bad')])).code, 2);

    const db = path.join(dir, 'gallery.db');
    const before = await hashTree(path.join(dir, 's1'));
    const first = await runCli(['index', '--db', db, '--features', ...shards, '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual((({ added, skipped, total }) => ({ added, skipped, total }))(json<Record<string, number>>(first.stdout)), { added: 6, skipped: 0, total: 6 });
    const again = await runCli(['index', '--db', db, '--features', ...shards]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /added 0 rows .* skipped 6 already in; 6 rows indexed/);
    assert.equal(await hashTree(path.join(dir, 's1')), before, 'pul index changed its input');

    const found = await runCli(['search', '--db', db, '--query-features', path.join(dir, 'q'), '--top', '4', '--exclude-same-camera', '--json']);
    assert.equal(found.code, 0, found.stderr);
    const results2 = json<{ results: { query: string; camera: number; matches: { path: string; camera: number; distance: number }[] }[] }>(found.stdout).results;
    assert.equal(results2.length, 6);
    for (const r of results2) {
      assert.equal(r.matches.length, 4);
      assert.ok(r.matches.every((m) => m.camera !== r.camera && m.path.includes(`${path.sep}gallery${path.sep}`)));
    }
    // pul eval --db against pul eval on the same gallery rows in the index's order (the extracted shards
    // embed grey squares almost alike, so the ranking is measured on added rows of clustered features)
    const rng = new Rng(9);
    const centres = Array.from({ length: 10 }, () => Array.from({ length: 128 }, () => rng.next() - 0.5));
    const noisy = (p: number) => centres[p]!.map((v) => v + 4 * (rng.next() - 0.5));
    const extraRows: IndexRow[] = Array.from({ length: 40 }, (_, i) => ({ path: `extra/${i}.jpg`, pid: 100 + (i % 10), camid: 1 + (i % 4) }));
    const extra = path.join(dir, 'extra');
    await writeFeatureFolder(extra, { features: featureMatrix(40, 128, Float32Array.from(extraRows.flatMap((r) => noisy(r.pid! - 100)))), index: extraRows });
    const queryRows: IndexRow[] = Array.from({ length: 10 }, (_, p) => ({ path: `probe/${p}.jpg`, pid: 100 + p, camid: 5 }));
    const probes = path.join(dir, 'probes');
    await writeFeatureFolder(probes, { features: featureMatrix(10, 128, Float32Array.from(queryRows.flatMap((r) => noisy(r.pid! - 100)))), index: queryRows });
    assert.equal((await runCli(['index', '--db', db, '--features', extra])).code, 0);
    const parts = await Promise.all([...shards, extra].map((s) => readFeatureFolder(s)));
    const merged = path.join(dir, 'merged');
    await writeFeatureFolder(merged, { features: featureMatrix(46, 128, Float32Array.from(parts.flatMap((f) => [...f.features.data]))), index: parts.flatMap((f) => f.index) });
    const viaIndex = await runCli(['eval', '--db', db, '--query', probes, '--json']);
    assert.equal(viaIndex.code, 0, viaIndex.stderr);
    const direct = await runCli(['eval', '--query', probes, '--gallery', merged, '--json']);
    const [a, b] = [json<{ mAP: number; validQueries: number }>(viaIndex.stdout), json<{ mAP: number }>(direct.stdout)];
    assert.equal(a.validQueries, 10);
    assert.ok(Math.abs(a.mAP - b.mAP) < 0.01 && b.mAP > 0.2 && b.mAP < 1, `${a.mAP} vs ${b.mAP}`);

    const wrongDim = path.join(dir, 'wide');
    await writeFeatureFolder(wrongDim, { features: featureMatrix(1, 4, Float32Array.of(1, 0, 0, 0)), index: [{ path: 'x.jpg', pid: 1, camid: 1 }] });
    const mismatch = await runCli(['index', '--db', db, '--features', wrongDim]);
    assert.equal(mismatch.code, 4);
    assert.match(mismatch.stderr, /index\.mismatch.*4 dimensions, the index .* holds 128/);
    const missing = await runCli(['search', '--db', path.join(dir, 'none.db'), '--query-features', path.join(dir, 'q')]);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /does not exist: build an index with pul index --db/);
  }));

test('kill -9 during pul index loses nothing committed: the re-run adds exactly the rest, without duplicates', () =>
  withTempDir(async (dir) => {
    const rows = 12_000;
    const dim = 16;
    const rng = new Rng(5);
    const index: IndexRow[] = Array.from({ length: rows }, (_, i) => ({ path: `img/${String(i).padStart(6, '0')}.jpg`, pid: i % 500, camid: i % 6 }));
    await writeFeatureFolder(path.join(dir, 'f'), { features: featureMatrix(rows, dim, Float32Array.from({ length: rows * dim }, () => rng.next() - 0.5)), index });
    const db = path.join(dir, 'k.db');
    const child = spawn(process.execPath, [MAIN, 'index', '--db', db, '--features', path.join(dir, 'f'), '--batch', '500']);
    let stderr = '';
    const killed = await new Promise<boolean>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // the first progress line: at least one batch is committed, most are not
        if (/index \d+\/12000/.test(stderr) && child.exitCode === null && !child.killed) resolve(child.kill('SIGKILL'));
      });
      child.on('close', () => resolve(false));
    });
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on('close', resolve)));
    assert.ok(killed, `pul index ended before it could be killed: ${stderr}`);
    assert.equal(child.signalCode, 'SIGKILL');

    const rerun = await runCli(['index', '--db', db, '--features', path.join(dir, 'f'), '--json']);
    assert.equal(rerun.code, 0, rerun.stderr);
    const report = json<{ added: number; skipped: number; total: number }>(rerun.stdout);
    assert.equal(report.total, rows);
    assert.equal(report.added + report.skipped, rows);
    assert.ok(report.skipped > 0 && report.skipped % 500 === 0, `committed before the kill: ${report.skipped} rows (whole batches)`);
    assert.ok(report.added > 0, 'the kill came after the last batch');
    const opened = await openDatabase(db);
    try {
      const [counts] = await opened.query<{ n: number; paths: number }>('SELECT count(*)::float8 AS n, count(DISTINCT path)::float8 AS paths FROM pul_gallery');
      assert.deepEqual(counts, { n: rows, paths: rows });
      assert.ok(await (await GalleryIndex.open(opened)).hasAnnIndex());
    } finally {
      await opened.close();
    }
  }));
