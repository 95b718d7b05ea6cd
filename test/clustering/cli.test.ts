import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Rng, featureMatrix, readClusterFiles, writeFeatureFolder } from '../../src/index.js';
import { parseCsv } from '../../src/core/csv.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';

/** 4 well-separated blobs of 30 rows in 6-D, pid = blob. */
async function writeBlobs(dir: string, dim = 6): Promise<void> {
  const rng = new Rng(5);
  const centres = Array.from({ length: 4 }, () => Array.from({ length: dim }, () => 8 * rng.normal()));
  const data = new Float32Array(120 * dim);
  for (let i = 0; i < 120; i++) for (let t = 0; t < dim; t++) data[i * dim + t] = centres[i % 4]![t]! + 0.5 * rng.normal();
  await writeFeatureFolder(dir, { features: featureMatrix(120, dim, data), index: Array.from({ length: 120 }, (_, i) => ({ path: `p${i},x.jpg`, pid: i % 4, camid: 0 })) });
}

test('pul cluster and pul select on a feature folder: files, metrics, --json, exit codes, outputs kept on failure', async () => {
  await withTempDir(async (dir) => {
    const feats = path.join(dir, 'f');
    const out = path.join(dir, 'c');
    await writeBlobs(feats);
    const ok = await runCli(['cluster', '--features', feats, '--k', '4', '--out', out, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(ok.stdout) as Record<string, number>;
    assert.ok(report.inertia! > 0 && report.iterations! >= 1);
    assert.equal(report.nmi, 1);
    assert.equal(report.accuracy, 1);
    const files = await readClusterFiles(out);
    assert.equal(files.assignment.length, 120);
    assert.equal(files.centroids.rows, 4);
    const csvBefore = await readFile(path.join(out, 'assignments.csv'), 'utf8');
    assert.match(csvBefore, /^row,cluster,path\n0,\d,"p0,x.jpg"\n/);

    const taken = await runCli(['cluster', '--features', feats, '--k', '4', '--out', out]);
    assert.equal(taken.code, 4);
    assert.match(taken.stderr, /output\.exists.*holds the clusters output of pul cluster; add --force to replace it/);
    const text = await runCli(['cluster', '--features', feats, '--k', '4', '--out', out, '--force']);
    assert.match(text.stdout, /inertia +\d/);
    assert.match(text.stdout, /NMI +1\.0000/);

    const tooMany = await runCli(['cluster', '--features', feats, '--k', '121', '--out', out, '--force']);
    assert.equal(tooMany.code, 2);
    assert.match(tooMany.stderr, /\(--k\): K=121 exceeds the 120 rows of features/);
    assert.equal(await readFile(path.join(out, 'assignments.csv'), 'utf8'), csvBefore);
    assert.equal((await runCli(['cluster', '--features', feats, '--k', '0', '--out', out, '--force'])).code, 2);

    const sel = await runCli(['select', '--features', feats, '--clusters', out, '--lambda', '0.9', '--anchor', 'nearest-sample', '--scope', 'any', '--json']);
    assert.equal(sel.code, 0, sel.stderr);
    const s = JSON.parse(sel.stdout) as Record<string, number>;
    assert.ok(s.selected! > 60 && s.selected! <= 120, `selected ${s.selected}`);
    assert.equal(s.precision, 1);
    const selection = await readFile(path.join(out, 'selection.csv'), 'utf8');
    assert.equal(selection.trim().split('\n').length, s.selected! + 1);

    const again = await runCli(['select', '--features', feats, '--clusters', out, '--lambda', '0.5']);
    assert.equal(again.code, 4);
    assert.match(again.stderr, /selection\.csv exists; add --force to replace it/);
    const badLambda = await runCli(['select', '--features', feats, '--clusters', out, '--lambda', '2', '--force']);
    assert.equal(badLambda.code, 2);
    assert.match(badLambda.stderr, /λ=2 is outside \[-1, 1\]/);
    const tooSmall = await runCli(['select', '--features', feats, '--clusters', out, '--lambda', '1', '--min-selected', '5', '--force']);
    assert.equal(tooSmall.code, 3);
    assert.match(tooSmall.stderr, /selection.tooSmall/);
    assert.equal(await readFile(path.join(out, 'selection.csv'), 'utf8'), selection);

    const other = path.join(dir, 'g');
    await writeBlobs(other, 5);
    const mismatch = await runCli(['select', '--features', other, '--clusters', out, '--lambda', '0.5', '--force']);
    assert.equal(mismatch.code, 3);
    assert.match(mismatch.stderr, /dimension 5 but the centroids have 6/);
  });
});

test('pul cluster and pul select give the same files on the native kernels alone and on the tfjs backend (PUL_NATIVE=0)', async () => {
  await withTempDir(async (dir) => {
    const feats = path.join(dir, 'f');
    await writeBlobs(feats, 9);
    const runs: { assignments: string; selection: string[][] }[] = [];
    for (const env of [{}, { PUL_NATIVE: '0' }]) {
      const out = path.join(dir, `c${runs.length}`);
      const run = await runCli(['cluster', '--features', feats, '--k', '6', '--out', out, '--json'], env);
      assert.equal(run.code, 0, run.stderr);
      const sel = await runCli(['select', '--features', feats, '--clusters', out, '--lambda', '0.8', '--anchor', 'nearest-sample', '--scope', 'any'], env);
      assert.equal(sel.code, 0, sel.stderr);
      const selection = await readFile(path.join(out, 'selection.csv'), 'utf8');
      runs.push({ assignments: await readFile(path.join(out, 'assignments.csv'), 'utf8'), selection: parseCsv(selection, 'selection.csv').map((r) => r.fields) });
    }
    const [native, tfjs] = runs as [(typeof runs)[0], (typeof runs)[0]];
    assert.equal(tfjs.assignments, native.assignments);
    assert.ok(native.selection.length > 60, `selected ${native.selection.length - 1}`);
    assert.equal(tfjs.selection.length, native.selection.length);
    const similarity = native.selection[0]!.indexOf('similarity');
    assert.ok(similarity > 0, native.selection[0]!.join(','));
    native.selection.forEach((fields, i) => {
      const other = tfjs.selection[i]!;
      // the same rows, labels and paths; the cosines agree to float32 rounding
      assert.deepEqual(other.filter((_, j) => j !== similarity), fields.filter((_, j) => j !== similarity));
      if (i > 0) assert.ok(Math.abs(Number(other[similarity]) - Number(fields[similarity])) <= 2e-6, `row ${i}: ${other[similarity]} vs ${fields[similarity]}`);
    });
  });
});

test('pul cluster --minibatch larger than the data is capped at the rows (no allocation of the requested size)', async () => {
  await withTempDir(async (dir) => {
    const feats = path.join(dir, 'f');
    await writeBlobs(feats);
    const started = performance.now();
    const huge = await runCli(['cluster', '--features', feats, '--k', '4', '--minibatch', '10000000', '--max-iter', '20', '--out', path.join(dir, 'c1'), '--json']);
    assert.equal(huge.code, 0, huge.stderr);
    assert.ok(performance.now() - started < 20_000);
    const report = JSON.parse(huge.stdout) as Record<string, number>;
    assert.equal(report.batch, 120);
    assert.equal(report.accuracy, 1);
    // the same clustering as asking for exactly the rows
    const exact = await runCli(['cluster', '--features', feats, '--k', '4', '--minibatch', '120', '--max-iter', '20', '--out', path.join(dir, 'c2'), '--json']);
    assert.equal((JSON.parse(exact.stdout) as Record<string, number>).inertia, report.inertia);
    const text = await runCli(['cluster', '--features', feats, '--k', '4', '--minibatch', '99999', '--max-iter', '20', '--out', path.join(dir, 'c3')]);
    assert.match(text.stdout, /mini-batch \(120 rows: --minibatch 99999 capped at the data\)/);
  });
});

test('pul cluster --method dbscan: clusters and −1 noise rows on disk, summary, pul select skips the noise, named errors', async () => {
  await withTempDir(async (dir) => {
    const feats = path.join(dir, 'f');
    await writeBlobs(feats);
    const out = path.join(dir, 'c');
    const run = await runCli(['cluster', '--features', feats, '--method', 'dbscan', '--k1', '10', '--k2', '3', '--out', out, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as Record<string, number | string>;
    assert.equal(report.method, 'dbscan');
    assert.equal(report.k, 4);
    const files = await readClusterFiles(out);
    const noise = Array.from(files.assignment).filter((c) => c === -1).length;
    assert.ok(noise > 0 && noise < 30, `noise ${noise}`);
    assert.equal(report.noise, noise);
    assert.equal(files.noise, noise);
    assert.equal(files.centroids.rows, 4);
    // every clustered row lies with its own blob (pid = row % 4)
    const blobOf = new Map<number, number>();
    files.assignment.forEach((c, i) => {
      if (c < 0) return;
      assert.equal(blobOf.get(c) ?? i % 4, i % 4, `row ${i}`);
      blobOf.set(c, i % 4);
    });
    const text = await runCli(['cluster', '--features', feats, '--method', 'dbscan', '--out', path.join(dir, 'd')]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /DBSCAN on k-reciprocal Jaccard distances \(k1 30, k2 6\), eps 0.6, minPts 4\nclusters +4\nnoise +0 rows \(0.0 %, cluster −1\)\nseconds +[\d.]+ \(distances [\d.]+, DBSCAN [\d.]+\)\nNMI +1.0000 \(noise counted as one group\)/);

    const sel = await runCli(['select', '--features', feats, '--clusters', out, '--lambda', '-1', '--json']);
    assert.equal(sel.code, 0, sel.stderr);
    assert.equal((JSON.parse(sel.stdout) as Record<string, number>).selected, 120 - noise);

    const bad = async (args: string[], code: number, pattern: RegExp) => {
      const r = await runCli(['cluster', '--features', feats, ...args, '--out', path.join(dir, 'e')]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    };
    await bad(['--method', 'dbscan', '--eps', '0'], 2, /\(--eps\): eps=0 must be a number above 0/);
    await bad(['--method', 'dbscan', '--eps', '-1'], 2, /eps=-1 must be a number above 0/);
    await bad(['--method', 'dbscan', '--min-pts', '1'], 2, /\(--min-pts\): minPts=1 must be a whole number ≥ 2/);
    await bad(['--method', 'dbscan', '--k1', '5', '--k2', '6'], 2, /\(--k2\): k2=6 exceeds k1=5/);
    await bad(['--method', 'dbscan', '--k1', '120'], 2, /\(--k1\): k1=120 must be below the 120 rows/);
    await bad(['--method', 'dbscan', '--k', '4'], 2, /--k does not apply to --method dbscan/);
    await bad(['--eps', '0.5'], 2, /--eps applies only to --method dbscan/);
    await bad([], 2, /--k is required with --method kmeans/);
    await bad(['--method', 'dbscan', '--eps', '0.01', '--k1', '10', '--k2', '3'], 3, /clustering\.tooFew.*DBSCAN found 0 clusters and 120 noise points among 120 rows at eps=0.01, minPts=4.*raise eps/);
    await assert.rejects(readFile(path.join(dir, 'e', 'assignments.csv')), 'a failed run leaves no clustering');
  });
});
