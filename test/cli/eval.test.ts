import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { featureMatrix, writeFeatureFolder, type IndexRow } from '../../src/index.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';

/** Two identities seen by two cameras; 2-D features where identity 1 points along x, identity 2 along y. */
async function writeCase(dir: string): Promise<{ query: string; gallery: string }> {
  const query = path.join(dir, 'query');
  const gallery = path.join(dir, 'gallery');
  const q: IndexRow[] = [
    { path: 'q1.jpg', pid: 1, camid: 0 },
    { path: 'q2.jpg', pid: 2, camid: 0 },
    { path: 'q3.jpg', pid: 3, camid: 0 }, // no gallery image of pid 3: skipped
  ];
  const g: IndexRow[] = [
    { path: 'g1.jpg', pid: 1, camid: 1 },
    { path: 'g2.jpg', pid: 2, camid: 1 },
    { path: 'g3.jpg', pid: 1, camid: 0 }, // same camera as q1: removed
    { path: 'g4.jpg', pid: 0, camid: 1 }, // distractor
  ];
  await writeFeatureFolder(query, { features: featureMatrix(3, 2, Float32Array.from([1, 0.1, 0.1, 1, 1, 1])), index: q });
  // for q2 the distractor (0.2, 1) is nearer than its true match (0.6, 1)
  await writeFeatureFolder(gallery, { features: featureMatrix(4, 2, Float32Array.from([1, 0, 0.6, 1, 1, 0.1, 0.2, 1])), index: g });
  return { query, gallery };
}

test('pul eval --json gives the metrics of a hand-computed case', () =>
  withTempDir(async (dir) => {
    const { query, gallery } = await writeCase(dir);
    const r = await runCli(['eval', '--query', query, '--gallery', gallery, '--json', '--ranks', '1,2']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { mAP: number; cmc: number[]; validQueries: number; skippedQueries: number; mINP: number };
    // q1: g1 first → AP 1. q2: distractor g4 first, g2 second → AP 1/2. mAP 0.75; rank-1 0.5, rank-2 1
    assert.deepEqual([out.validQueries, out.skippedQueries], [2, 1]);
    assert.equal(out.mAP, 0.75);
    assert.deepEqual(out.cmc, [0.5, 1]);
    assert.equal(out.mINP, 0.75);
  }));

test('pul eval prints a readable table, with the skipped queries explained', () =>
  withTempDir(async (dir) => {
    const { query, gallery } = await writeCase(dir);
    const r = await runCli(['eval', '--query', query, '--gallery', gallery]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^mAP +75\.00 %$/m);
    assert.match(r.stdout, /^rank-1 +50\.00 %$/m);
    assert.match(r.stdout, /skipped: 1 \(no true match from another camera; e\.g\. query rows 2\)/);
  }));

test('pul eval: mismatched dimensions, a missing folder and a bad option are clear errors', () =>
  withTempDir(async (dir) => {
    const { query } = await writeCase(dir);
    const other = path.join(dir, 'g3d');
    await writeFeatureFolder(other, { features: featureMatrix(1, 3, Float32Array.from([1, 2, 3])), index: [{ path: 'x.jpg', pid: 1, camid: 1 }] });
    const dims = await runCli(['eval', '--query', query, '--gallery', other]);
    assert.equal(dims.code, 3);
    assert.match(dims.stderr, /features\.mismatch.*2-dimensional features, .*g3d 3-dimensional/);
    const missing = await runCli(['eval', '--query', query, '--gallery', path.join(dir, 'nope')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /feature folder .*nope does not exist/);
    const bad = await runCli(['eval', '--query', query, '--gallery', other, '--metric', 'hamming']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--metric 'hamming': not one of cosine, euclidean/);
  }));

test('pul eval --rerank runs k-reciprocal re-ranking and says so', () =>
  withTempDir(async (dir) => {
    const { query, gallery } = await writeCase(dir);
    const r = await runCli(['eval', '--query', query, '--gallery', gallery, '--rerank', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { rerank: boolean; mAP: number; validQueries: number };
    assert.equal(out.rerank, true);
    assert.equal(out.validQueries, 2);
    assert.ok(out.mAP > 0 && out.mAP <= 1);
  }));
