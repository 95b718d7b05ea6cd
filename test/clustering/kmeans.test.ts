import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PulError, Rng, featureMatrix, kmeans, miniBatchKMeans, tf, type FeatureMatrix } from '../../src/index.js';
import { initialCentres } from '../../src/clustering/kmeans.js';
import { kmeansPlusPlus } from '../../src/clustering/kmeans-plusplus.js';
import { rowSquaredNorms } from '../../src/clustering/clustering.js';
import { referenceKMeans } from '../helpers/kmeans-reference.js';
import { lloyd } from '../../src/clustering/lloyd.js';
import { loadedNativeKernels } from '../../src/backend/native.js';
import { nearestPoints, transposedPoints } from '../../src/clustering/squared-distances.js';
import { TEST_BACKENDS, useBackend } from '../helpers/for-each-backend.js';

/** K gaussian blobs (centres N(0, 9), unit noise), rows interleaved by blob. */
function blobs(seed: number, n: number, d: number, k: number, spread = 3): { x: FeatureMatrix; truth: Int32Array } {
  const rng = new Rng(seed);
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => spread * rng.normal()));
  const data = new Float32Array(n * d);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    truth[i] = i % k;
    for (let t = 0; t < d; t++) data[i * d + t] = centres[i % k]![t]! + rng.normal();
  }
  return { x: featureMatrix(n, d, data), truth };
}

/** Plain Lloyd in float64 with scikit-learn's loop (tol 0): the oracle. */
function bruteLloyd(x: FeatureMatrix, init: Float32Array, k: number, maxIter: number): { labels: Int32Array; iterations: number; inertia: number } {
  const d = x.dim;
  let c = Float64Array.from(init);
  const labels = new Int32Array(x.rows);
  const old = new Int32Array(x.rows).fill(-1);
  const assign = () => {
    for (let i = 0; i < x.rows; i++) {
      let best = Infinity;
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let t = 0; t < d; t++) s += (x.data[i * d + t]! - c[j * d + t]!) ** 2;
        if (s < best) [best, labels[i]] = [s, j];
      }
    }
  };
  let it = 0;
  let strict = false;
  for (; it < maxIter; it++) {
    assign();
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    for (let i = 0; i < x.rows; i++) {
      counts[labels[i]!]!++;
      for (let t = 0; t < d; t++) sums[labels[i]! * d + t]! += x.data[i * d + t]!;
    }
    for (let j = 0; j < k; j++) for (let t = 0; t < d; t++) sums[j * d + t] = counts[j]! > 0 ? sums[j * d + t]! / counts[j]! : c[j * d + t]!;
    c = sums;
    if (labels.every((v, i) => v === old[i])) {
      strict = true;
      break;
    }
    old.set(labels);
  }
  if (!strict) assign();
  let inertia = 0;
  for (let i = 0; i < x.rows; i++) for (let t = 0; t < d; t++) inertia += (x.data[i * d + t]! - c[labels[i]! * d + t]!) ** 2;
  return { labels, iterations: Math.min(it + 1, maxIter), inertia };
}

for (const backend of TEST_BACKENDS) {
  test(`Lloyd with bounds = brute-force Lloyd and ml-kmeans from the same centres (${backend})`, async () => {
    await useBackend(backend);
    for (const [seed, n, d, k] of [[1, 400, 5, 8], [2, 700, 12, 20], [3, 300, 3, 1]] as const) {
      const { x } = blobs(seed, n, d, Math.max(k, 2), 1.2); // overlapping blobs: many iterations
      const init = initialCentres(x, k, 'kmeans++', new Rng(seed));
      const ours = kmeans(x, { k, init: featureMatrix(k, d, init), tol: 0 }, new Rng(0));
      const brute = bruteLloyd(x, init, k, 300);
      assert.deepEqual(Array.from(ours.assignment), Array.from(brute.labels), `labels, case ${seed}`);
      assert.equal(ours.iterations, brute.iterations, `iterations, case ${seed}`);
      assert.ok(Math.abs(ours.inertia - brute.inertia) <= 1e-6 * brute.inertia, `inertia ${ours.inertia} vs ${brute.inertia}`);
      const ml = referenceKMeans(x, featureMatrix(k, d, init));
      assert.deepEqual(Array.from(ours.assignment), Array.from(ml.assignment), `ml-kmeans labels, case ${seed}`);
      assert.ok(ours.converged);
    }
  });
}

test('Yinyang groups (native kernels and the tfjs path): brute-force Lloyd\'s labels while skipping most distances', async () => {
  await useBackend('wasm');
  assert.ok(loadedNativeKernels() !== null || process.env['PUL_NATIVE'] === '0', 'native kernels expected after selecting wasm');
  for (const [seed, groupSize, native] of [[4, 4, true], [4, 4, false], [5, 1, true], [5, 1, false], [6, 100, true], [7, 16, true]] as const) {
    const n = 1500;
    const d = 6;
    const k = 60;
    const { x } = blobs(seed, n, d, k, 1.5);
    const init = initialCentres(x, k, 'kmeans++', new Rng(seed));
    const ours = lloyd(x, init, k, 300, 0, rowSquaredNorms(x.data, n, d), { groupSize, native });
    const brute = bruteLloyd(x, init, k, 300);
    assert.deepEqual(Array.from(ours.assignment), Array.from(brute.labels), `labels, group size ${groupSize}, native ${native}`);
    assert.equal(ours.iterations, brute.iterations, `iterations, group size ${groupSize}`);
    assert.equal(ours.computedShare[0], 1);
    // later passes search only part of the distances (the bounds prune)
    assert.ok(Math.min(...ours.computedShare) < 0.3, `computed shares ${ours.computedShare.map((v) => v.toFixed(2)).join(' ')}`);
  }
});

test('k-means finds well-separated blobs; same seed, same result; leaks no tensors', async () => {
  await useBackend('wasm');
  const { x, truth } = blobs(7, 500, 10, 5, 10);
  const before = tf.memory().numTensors;
  const a = kmeans(x, { k: 5 }, new Rng(42));
  const b = kmeans(x, { k: 5 }, new Rng(42));
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(a.assignment, b.assignment);
  // each true blob maps to exactly one cluster
  const map = new Map<number, number>();
  for (let i = 0; i < x.rows; i++) {
    const seen = map.get(truth[i]!);
    if (seen === undefined) map.set(truth[i]!, a.assignment[i]!);
    else assert.equal(a.assignment[i], seen);
  }
  assert.equal(new Set(map.values()).size, 5);
  assert.equal(a.centroids.rows, 5);
  assert.equal(a.centroids.dim, 10);
});

test('restarts keep the lowest-inertia run of the same seed stream (sklearn n_init)', async () => {
  await useBackend('cpu');
  // overlapping blobs with K above the blob count: runs from different seedings end in different minima
  const { x } = blobs(3, 300, 4, 4, 1.5);
  const shared = new Rng(5);
  const singles = [0, 1, 2, 3].map(() => kmeans(x, { k: 9 }, shared));
  const best = singles.reduce((a, b) => (b.inertia < a.inertia ? b : a));
  assert.ok(new Set(singles.map((s) => s.inertia.toFixed(6))).size > 1, 'the four runs should differ');
  const restarted = kmeans(x, { k: 9, restarts: 4 }, new Rng(5));
  assert.equal(restarted.inertia, best.inertia);
  assert.deepEqual(restarted.assignment, best.assignment);
  assert.throws(() => kmeans(x, { k: 9, restarts: 0 }, new Rng(5)), /restarts=0/);
});

test('k-means++ is greedy: with many duplicates of few points it seeds each distinct point once', async () => {
  await useBackend('cpu');
  // 4 distinct points repeated 25 times: D²-sampling can never pick an already chosen location
  const pts = [[0, 0], [10, 0], [0, 10], [10, 10]];
  const x = featureMatrix(100, 2, Float32Array.from({ length: 200 }, (_, i) => pts[Math.floor(i / 2) % 4]![i % 2]!));
  const rows = kmeansPlusPlus(x, 4, new Rng(9), rowSquaredNorms(x.data, 100, 2));
  assert.deepEqual(new Set(Array.from(rows, (r) => r % 4)).size, 4);
  const c = kmeans(x, { k: 4 }, new Rng(9));
  assert.equal(c.inertia, 0);
});

test('an empty cluster is relocated to the row farthest from its centre (as scikit-learn)', async () => {
  await useBackend('cpu');
  // 1-D rows 0, 1, 2, 10; centre 100 gets nothing in the first assignment
  const x = featureMatrix(4, 1, Float32Array.of(0, 1, 2, 10));
  const c = kmeans(x, { k: 2, init: featureMatrix(2, 1, Float32Array.of(1, 100)), tol: 0 }, new Rng(0));
  // first pass: all rows at centre 1 (mean 3.25); farthest from it is 10 → cluster 1 = {10}
  assert.deepEqual(Array.from(c.assignment), [0, 0, 0, 1]);
  assert.deepEqual(Array.from(c.centroids.data), [1, 10]);
  assert.ok(Math.abs(c.inertia - 2) < 1e-12);
});

test('bad input: K < 1, K > N, NaN rows, wrong init shape, max-iter', async () => {
  await useBackend('cpu');
  const x = featureMatrix(3, 2, Float32Array.of(0, 0, 1, 1, 2, 2));
  const code = (fn: () => unknown, c: string, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof PulError && e.code === c && re.test(e.message));
  code(() => kmeans(x, { k: 0 }, new Rng(0)), 'option.outOfRange', /K=0 must be a whole number/);
  assert.throws(() => kmeans(x, { k: 4 }, new Rng(0)), (e: unknown) => e instanceof PulError && e.where?.option === 'clustering.k');
  code(() => kmeans(x, { k: 1.5 }, new Rng(0)), 'option.outOfRange', /K=1.5/);
  code(() => kmeans(x, { k: 4 }, new Rng(0)), 'option.outOfRange', /K=4 exceeds the 3 rows/);
  code(() => kmeans(featureMatrix(2, 2, Float32Array.of(0, NaN, 1, 1)), { k: 1 }, new Rng(0)), 'features.malformed', /row 0 \(0-based\) holds NaN/);
  code(() => kmeans(featureMatrix(2, 1, Float32Array.of(0, Infinity)), { k: 1 }, new Rng(0)), 'features.malformed', /row 1 \(0-based\) holds Infinity/);
  code(() => kmeans(x, { k: 2, init: featureMatrix(2, 3) }, new Rng(0)), 'features.mismatch', /2 × 3, expected K × dim = 2 × 2/);
  code(() => kmeans(x, { k: 2, maxIterations: 0 }, new Rng(0)), 'option.outOfRange', /maxIterations=0/);
  code(() => miniBatchKMeans(x, { k: 5 }, new Rng(0)), 'option.outOfRange', /K=5 exceeds/);
});

test('mini-batch k-means separates clear blobs and stays close to Lloyd inertia', async () => {
  await useBackend('wasm');
  const { x } = blobs(11, 2000, 8, 6, 10);
  const full = kmeans(x, { k: 6 }, new Rng(1));
  const mb = miniBatchKMeans(x, { k: 6, batchSize: 128, steps: 50 }, new Rng(1));
  assert.equal(mb.assignment.length, 2000);
  assert.ok(mb.inertia <= 1.05 * full.inertia, `mini-batch inertia ${mb.inertia} vs Lloyd ${full.inertia}`);
});

test('the clustering GEMMs: the native SGEMM on the plain arrays gives the tfjs backend\'s products and nearest points', async () => {
  await useBackend('wasm');
  const native = loadedNativeKernels();
  if (native === null) {
    assert.equal(process.env['PUL_NATIVE'], '0', 'native kernels expected after selecting wasm');
    return;
  }
  const rng = new Rng(12);
  // 70 rows against 300 points in 33-D: both the column-split and the row-split native paths, odd edges
  for (const [rows, m, d] of [[70, 300, 33], [3, 5000, 64], [1, 7, 5]] as const) {
    const block = Float32Array.from({ length: rows * d }, () => rng.normal());
    const points = Float32Array.from({ length: m * d }, () => rng.normal());
    const norms = rowSquaredNorms(points, m, d);
    const viaNative = transposedPoints(points, m, d, norms, native);
    const viaTf = transposedPoints(points, m, d, norms, null);
    const before = tf.memory().numTensors;
    const a = viaNative.dot(block, rows);
    const b = viaTf.dot(block, rows);
    assert.equal(tf.memory().numTensors, before, 'dot leaks no tensors');
    viaNative.dispose();
    viaTf.dispose();
    assert.equal(a.length, rows * m);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
    assert.ok(worst < 1e-5, `${rows}×${m}×${d}: largest relative difference ${worst}`);
    assert.deepEqual(Array.from(nearestPoints(block, rows, points, m, d, native)), Array.from(nearestPoints(block, rows, points, m, d, null)), `${rows}×${m}×${d}: nearest points`);
  }
});
